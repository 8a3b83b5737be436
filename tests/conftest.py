"""Tiny data factories shared by the tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from model_collapse.assemble.validate import config_from_dict
from model_collapse.config import Config


class InterruptedRunError(Exception):
    """Raised by :func:`interrupt_after` to stop a run as Ctrl-C would."""


def interrupt_after(generation: int) -> Callable[[int], None]:
    """An ``on_generation`` callback that stops the run once ``generation`` is saved."""

    def stop(done: int) -> None:
        if done == generation:
            raise InterruptedRunError

    return stop


def run_interrupted(config: Any, out: Path, generation: int) -> None:
    """Run ``config`` into ``out`` and stop it after ``generation``."""
    import model_collapse

    with pytest.raises(InterruptedRunError):
        model_collapse.run(config, out, on_generation=interrupt_after(generation))


def step_of(reference: Any, model: Any = None, synthetic: Any = None, first: Any = None) -> Any:
    """A generation's Step as the metrics see it, from a reference and what was fitted."""
    from model_collapse.engine.step import Step

    step = Step(1, reference.config, reference.real, [], first, None, lambda: None, reference)
    step.model, step.synthetic = model, synthetic
    return step


def make_config(**sections: dict[str, Any]) -> Config:
    """A small, fast config; keyword arguments override whole sections' keys."""
    raw: dict[str, dict[str, Any]] = {
        "experiment": {"generations": 3, "seeds": 4, "seed": 7},
        "source": {"name": "gaussian", "n_test": 500},
        "family": {"name": "gaussian"},
        "regime": {"name": "replace"},
        "sampling": {"n": 50},
    }
    for section, body in sections.items():
        raw.setdefault(section, {}).update(body)
    return config_from_dict(raw)


@pytest.fixture
def iris_csv(tmp_path: Path) -> Path:
    """The iris measurements (150 real rows, 4 numeric columns) as a CSV with a header."""
    from sklearn.datasets import load_iris

    frame = load_iris(as_frame=True).data
    path = tmp_path / "iris.csv"
    frame.to_csv(path, index=False)
    return path


@pytest.fixture
def digits_labels(tmp_path: Path) -> Path:
    """The 1797 digit labels of scikit-learn's digits set: a real categorical column."""
    from sklearn.datasets import load_digits

    path = tmp_path / "labels.npy"
    np.save(path, load_digits().target.astype(np.int64))
    return path


TINY_GPT = {"name": "gpt", "n_layer": 1, "n_head": 2, "n_embd": 16, "batch_size": 16}
TEXT_SOURCE = {"name": "wikipedia", "max_documents": 12, "vocab_size": 512, "n_train": 40}


@pytest.fixture
def wiki_txt(tmp_path: Path) -> Path:
    """Twelve real Wikipedia articles (the gensim sample) as a folder of .txt files."""
    from model_collapse.sources.text import wikipedia_documents

    folder = tmp_path / "corpus"
    folder.mkdir()
    for number, article in enumerate(wikipedia_documents()[:12]):
        (folder / f"{number:02d}.txt").write_text(article, encoding="utf-8")
    return folder


@pytest.fixture(scope="session")
def tiny_hf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A randomly initialised 1-layer GPT-2 in transformers format, with its own tokenizer.

    Built from a config here: nothing is downloaded.
    """
    from tokenizers import ByteLevelBPETokenizer
    from transformers import GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast

    from model_collapse.sources.text import END_OF_TEXT, wikipedia_documents

    folder = tmp_path_factory.mktemp("tiny-gpt2")
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        list(wikipedia_documents()[:12]),
        vocab_size=512,
        special_tokens=[END_OF_TEXT],
        show_progress=False,
    )
    eot = bpe.token_to_id(END_OF_TEXT)
    PreTrainedTokenizerFast(
        tokenizer_object=bpe._tokenizer, eos_token=END_OF_TEXT, bos_token=END_OF_TEXT
    ).save_pretrained(folder)
    config = GPT2Config(
        vocab_size=512,
        n_positions=160,
        n_embd=32,
        n_layer=1,
        n_head=2,
        bos_token_id=eot,
        eos_token_id=eot,
    )
    GPT2LMHeadModel(config).save_pretrained(folder)
    return folder
