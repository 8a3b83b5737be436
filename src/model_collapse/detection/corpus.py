"""Texts handed to the detectors, the watermark test and the audit, and the tokenizer that
reads them.

A corpus is a .txt file (documents separated by blank lines), a folder of .txt files, a
.jsonl file (field ``text``) or a Parquet file (column ``text``). A tokenizer is named by
``--tokenizer``: a built-in text source such as ``wikipedia`` (its BPE at its defaults:
what a run of the Wikipedia presets generates with), a run directory (its source's
tokenizer), or a Hugging Face model directory, GGUF file or ``package:NAME``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from model_collapse.core.errors import UserInputError, refuse_special
from model_collapse.defaults import TEXT_FAMILY

TEXT_SUFFIXES = (".txt", ".jsonl", ".parquet")


@dataclass(frozen=True)
class TextTokenizer:
    """Texts to ids and back, over ``size`` ids; ``name`` says where it came from."""

    encode: Callable[[list[str]], list[list[int]]]
    decode: Callable[[list[int]], str]
    size: int
    name: str

    @property
    def fingerprint(self) -> str:
        """What identifies the vocabulary: the SHA-256 of every id's text, in order."""
        return vocabulary_fingerprint(self.decode, self.size)


def vocabulary_fingerprint(decode: Callable[[list[int]], str], size: int) -> str:
    digest = hashlib.sha256(str(size).encode())
    for token in range(size):
        digest.update(b"\0" + decode([token]).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:16]


def tokenizer_from(spec: str) -> TextTokenizer:
    """The tokenizer ``spec`` names (see the module's text)."""
    from model_collapse.sources.text import model_tokenizer

    path = Path(spec).expanduser()
    if (path / "config.toml").is_file() or _text_source(spec):
        from model_collapse.api import load_config
        from model_collapse.sources.base import load_real_data

        if (path / "config.toml").is_file():
            config = load_config(path / "config.toml")
        else:  # a text source: its tokenizer at the source's defaults
            config = load_config({"source": {"name": spec}, "family": {"name": TEXT_FAMILY}})
        real = load_real_data(config, "text") if _is_text(config) else None
        if real is None or real.encode is None or real.decode is None:
            raise UserInputError(f"the run in {spec} is not a run on text: it has no tokenizer")
        return TextTokenizer(real.encode, real.decode, real.categories, spec)
    from model_collapse.core.local_models import model_location

    found = model_tokenizer(model_location(spec))
    return TextTokenizer(found.encode, found.decode, found.size, spec)


def _text_source(name: str) -> bool:
    """``name`` is a registered source of text (``wikipedia``): its own tokenizer."""
    from model_collapse.sources import SOURCES

    entry = dict(SOURCES.items()).get(name)
    return entry is not None and "text" in entry.kinds


def _is_text(config: object) -> bool:
    from model_collapse.sources import SOURCES

    return "text" in SOURCES.get(config.source.name).kinds  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Document:
    text: str
    origin: str  # file and line or paragraph, for tables
    tokenizer: str = ""  # the fingerprint an export recorded, if any


def read_documents(paths: list[Path], text_field: str = "text") -> list[Document]:
    """Every document of the given corpora, in order; empty documents are refused."""
    documents: list[Document] = []
    for path in paths:
        documents.extend(_read_one(path, text_field))
    if not documents:
        raise UserInputError(f"no documents in {', '.join(map(str, paths))}")
    empty = next((d for d in documents if not d.text.strip()), None)
    if empty is not None:
        raise UserInputError(f"{empty.origin} is an empty text; remove it or give it text")
    return documents


def _read_one(path: Path, text_field: str) -> list[Document]:
    from model_collapse.sources.text import read_text, user_documents

    if not path.exists():
        raise UserInputError(f"file not found: {path}")
    refuse_special(path)  # a FIFO would wait for a writer for ever
    if path.is_file() and path.suffix not in TEXT_SUFFIXES:
        raise UserInputError(
            f"{path}: not a corpus file; give .txt, .jsonl or .parquet files or a folder"
        )
    if path.suffix == ".jsonl":
        out = []
        for number, line in enumerate(read_text(path).splitlines(), start=1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                marked = str(row.get("tokenizer", ""))
                if not isinstance(row[text_field], str):
                    raise TypeError
                out.append(Document(row[text_field], f"{path.name}:{number}", marked))
            except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
                raise UserInputError(
                    f"{path} line {number}: not a JSON object with a text '{text_field}' field"
                ) from None
        return out
    texts = user_documents(path, text_field)
    if path.suffix == ".txt":  # paragraphs: blank lines between documents
        texts = [t for t in texts if t.strip()]
    return [Document(text, f"{path.name}#{i + 1}") for i, text in enumerate(texts)]


def check_tokenizer(
    documents: list[Document], tokenizer: TextTokenizer | Any, flag: str = "--tokenizer"
) -> None:
    """Texts an export marked with its tokenizer must be read with that tokenizer, which
    the option ``flag`` named (--tokenizer, or --model when the model's own reads them)."""
    marked = {d.tokenizer for d in documents if d.tokenizer}
    if marked and marked != {tokenizer.fingerprint}:
        other = sorted(marked - {tokenizer.fingerprint})[0]
        raise UserInputError(
            f"the texts were generated with tokenizer {other} but {flag} {tokenizer.name} "
            f"reads with {tokenizer.fingerprint}; pass {flag} RUN_DIR of the run that "
            "generated them"
        )
