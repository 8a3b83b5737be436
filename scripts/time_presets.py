"""Each bundled preset's time end to end (``model-collapse run NAME`` in a fresh folder),
for the ``# time:`` line each preset states and ``list`` prints. Run it on a quiet
machine: ``python scripts/time_presets.py gaussian-1d vae-digits ...`` (default: every
preset that runs on a CPU)."""

from __future__ import annotations

import sys

from benchmarks.run import time_preset

FOR_A_GPU = {"lm-paper", "vae-mnist"}


def main() -> None:
    from model_collapse.api import preset_names

    names = sys.argv[1:] or [name for name in preset_names() if name not in FOR_A_GPU]
    for name in names:
        print(f"{name}: {time_preset(name):.0f} s", flush=True)


if __name__ == "__main__":
    main()
