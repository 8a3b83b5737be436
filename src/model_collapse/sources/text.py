"""Text sources: the Wikipedia sample inside the gensim wheel, or the user's corpus.

Documents are split into train, validation and test; a byte-level BPE is trained on the
training split; each split's tokens, documents joined by an end-of-text token, are cut
into blocks of ``source.block_size`` tokens. Real data are then (n, block_size) arrays
of token ids, so the loop, store and regimes treat text like any other data.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from model_collapse.config import Config, SourceConfig
from model_collapse.config.params import MANY, param
from model_collapse.config.sizes import Shape
from model_collapse.core.errors import UserInputError, refuse_special
from model_collapse.core.local_models import model_location
from model_collapse.core.rng import SOURCE_TEST, stream
from model_collapse.sources.base import SOURCES, Kind, RealData, Source, draw_per_seed

END_OF_TEXT = "<|endoftext|>"
MARKUP = [
    (re.compile(r"'{2,}"), ""),  # bold and italic quotes
    (re.compile(r"^=+\s*(.*?)\s*=+\s*$", re.M), r"\1"),  # headings keep their text
    (re.compile(r"[ \t]+"), " "),
]


def wikipedia_sample() -> Path:
    """The English Wikipedia sample that ships inside the gensim wheel (CC BY-SA)."""
    import gensim

    folder = Path(gensim.__file__).parent / "test" / "test_data"
    found = sorted(folder.glob("enwiki-latest-pages-articles1.xml-*-shortened.bz2"))
    if not found:
        raise UserInputError(f"no Wikipedia sample in {folder}; reinstall gensim==4.4.0")
    return found[0]


def clean_wikitext(markup: str) -> str:
    """Article text without markup: gensim's filter_wiki, then quotes, headings, captions."""
    from gensim.corpora.wikicorpus import filter_wiki

    text = filter_wiki(markup)
    for pattern, replacement in MARKUP:
        text = pattern.sub(replacement, text)
    # short lines are gallery captions and list debris, not prose
    lines = [line.strip() for line in text.splitlines() if len(line.split()) >= 4]
    return "\n".join(lines)


@functools.cache
def wikipedia_documents() -> tuple[str, ...]:
    """The sample's articles without markup; redirects and empty pages left out (cached)."""
    import bz2

    from gensim.corpora.wikicorpus import extract_pages

    documents = []
    with bz2.open(wikipedia_sample()) as dump:
        for _title, markup, _pageid in extract_pages(dump):
            if not markup.lower().startswith("#redirect"):
                text = clean_wikitext(markup)
                if text:
                    documents.append(text)
    return tuple(documents)


def read_text(path: Path) -> str:
    """A file's text; binary or non-UTF-8 content is refused with its byte offset."""
    refuse_special(path)  # a FIFO would wait for a writer for ever
    try:
        data = path.read_bytes()
    except OSError as err:
        raise UserInputError(f"cannot read {path}: {err.strerror}") from None
    nul = data.find(b"\0")
    if nul >= 0:
        raise UserInputError(f"{path} is binary, not text (NUL byte at offset {nul})")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise UserInputError(f"{path} is not UTF-8 text (byte offset {err.start})") from None


def user_documents(path: Path, text_field: str) -> list[str]:
    """Documents of a .txt file (paragraphs), a folder of .txt files, .jsonl or .parquet."""
    if not path.exists():
        raise UserInputError(f"corpus not found: {path}")
    refuse_special(path)
    if path.is_dir():
        return [read_text(p) for p in sorted(path.rglob("*.txt"))]
    if path.suffix == ".jsonl":
        documents = []
        for number, line in enumerate(read_text(path).splitlines(), start=1):
            if line.strip():
                try:
                    documents.append(str(json.loads(line)[text_field]))
                except (json.JSONDecodeError, KeyError, TypeError):
                    raise UserInputError(
                        f"{path} line {number}: not a JSON object with a '{text_field}' field; "
                        "set source.text_field"
                    ) from None
        return documents
    if path.suffix == ".parquet":
        import pandas as pd

        try:
            frame = pd.read_parquet(path)
        except (OSError, ValueError) as err:  # pyarrow's errors derive from these
            why = str(err).splitlines()[0] if str(err) else type(err).__name__
            raise UserInputError(f"{path} is not a readable Parquet file: {why}") from None
        if text_field not in frame.columns:
            raise UserInputError(
                f"{path} has no column '{text_field}' (columns: {', '.join(frame.columns)}); "
                "set source.text_field"
            )
        return [str(value) for value in frame[text_field].dropna()]
    return re.split(r"\n\s*\n", read_text(path))


def split_documents(documents: list[str], config: Config) -> dict[str, list[str]]:
    """Train, validation and test documents, shuffled by the root seed."""
    cfg = config.source
    documents = [d.strip() for d in documents if d.strip()]
    if cfg.max_documents:
        documents = documents[: cfg.max_documents]
    if len(documents) < 3:
        raise UserInputError(
            f"the corpus has {len(documents)} non-empty documents; at least 3 are needed "
            "for train, validation and test"
        )
    order = stream(config.experiment.seed, "source", SOURCE_TEST).permutation(len(documents))
    n_test = max(1, round(cfg.test_fraction * len(documents)))
    n_val = max(1, round(cfg.validation_fraction * len(documents)))
    picked = [documents[i] for i in order]
    return {
        "test": picked[:n_test],
        "validation": picked[n_test : n_test + n_val],
        "train": picked[n_test + n_val :],
    }


@dataclass(frozen=True)
class Tokenizer:
    """What the text sources need of a tokenizer."""

    encode: Callable[[list[str]], list[list[int]]]
    decode: Callable[[list[int]], str]
    size: int  # ids run from 0 to size - 1
    eot: int  # ends every document; begins every sequence a neural model reads


def train_tokenizer(texts: list[str], vocab_size: int) -> Tokenizer:
    """A byte-level BPE trained on the training split."""
    from tokenizers import ByteLevelBPETokenizer

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        texts,
        vocab_size=vocab_size,
        min_frequency=2,
        special_tokens=[END_OF_TEXT],
        show_progress=False,
    )
    if bpe.get_vocab_size() < vocab_size:
        raise UserInputError(
            f"source.vocab_size = {vocab_size} but the training text supports only "
            f"{bpe.get_vocab_size()} tokens; lower source.vocab_size"
        )
    return Tokenizer(
        lambda batch: [e.ids for e in bpe.encode_batch(batch)],
        bpe.decode,
        bpe.get_vocab_size(),
        bpe.token_to_id(END_OF_TEXT),
    )


# What a saved Hugging Face tokenizer leaves in its directory (one of them at least).
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model", "spiece.model", "vocab.txt")


def model_tokenizer(path: Path) -> Tokenizer:
    """The tokenizer of a Hugging Face model directory (or GGUF file), read offline."""
    if not path.exists():  # else transformers takes the path for a hub name
        raise UserInputError(f"model directory or file not found: {path}")
    if path.is_dir() and not any((path / name).is_file() for name in TOKENIZER_FILES):
        raise UserInputError(
            f"no tokenizer in {path} (none of {', '.join(TOKENIZER_FILES)}); save the "
            "tokenizer beside the model with save_pretrained, or set source.tokenizer"
        )
    from transformers import AutoTokenizer

    folder, extra = (
        (path.parent, {"gguf_file": path.name}) if path.suffix == ".gguf" else (path, {})
    )
    try:
        tok = AutoTokenizer.from_pretrained(folder, local_files_only=True, **extra)
    except (OSError, ValueError) as err:
        raise UserInputError(f"no usable tokenizer in {path}: {str(err).splitlines()[0]}") from None
    if len(tok) < 2:
        raise UserInputError(f"the tokenizer in {path} has {len(tok)} token: it is not usable")
    eot = tok.eos_token_id if tok.eos_token_id is not None else tok.bos_token_id
    if eot is None:
        raise UserInputError(f"the tokenizer in {path} has no end-of-text (eos) token")
    return Tokenizer(
        lambda batch: tok(batch, add_special_tokens=False)["input_ids"],
        lambda ids: str(tok.decode(ids)),
        len(tok),
        int(eot),
    )


def to_blocks(tokenizer: Tokenizer, texts: list[str], block_size: int, split: str) -> np.ndarray:
    """Token ids of ``texts``, documents joined by end-of-text, cut into (m, block_size)."""
    ids: list[int] = []
    for encoded in tokenizer.encode(texts):
        ids.extend(encoded)
        ids.append(tokenizer.eot)
    blocks = len(ids) // block_size
    if blocks == 0:
        raise UserInputError(
            f"the {split} split has {len(ids)} tokens, fewer than one block of "
            f"source.block_size = {block_size}; give more text or a smaller block"
        )
    return np.asarray(ids[: blocks * block_size], dtype=np.int64).reshape(blocks, block_size)


def load_text(config: Config, kind: Kind, documents: list[str], where: str) -> RealData:
    return load_splits(config, kind, split_documents(documents, config), where)


def load_splits(config: Config, kind: Kind, splits: dict[str, list[str]], where: str) -> RealData:
    """Tokenize train, validation and test documents into blocks of real data."""
    cfg = config.source
    tokenizer = (
        model_tokenizer(model_location(cfg.tokenizer))
        if cfg.tokenizer
        else train_tokenizer(splits["train"], cfg.vocab_size)
    )
    blocks = {
        name: to_blocks(tokenizer, texts, cfg.block_size, name) for name, texts in splits.items()
    }
    # The splits' documents are in a random order already: the first blocks are a sample.
    for split, key in (("test", "n_test"), ("validation", "n_validation")):
        if cfg.params.get(key):
            blocks[split] = blocks[split][: cfg.params[key]]
    train, fresh = draw_per_seed(config, blocks["train"], where, "blocks")
    return RealData(
        kind,
        train,
        blocks["test"],
        None,
        fresh,
        tokenizer.size,
        validation=blocks["validation"],
        decode=tokenizer.decode,
        bos=tokenizer.eot,
        encode=tokenizer.encode,
    )


def _load_wikipedia(config: Config, kind: Kind) -> RealData:
    return load_text(config, kind, list(wikipedia_documents()), "wikipedia")


def _load_user_text(config: Config, kind: Kind) -> RealData:
    if not config.source.path:
        raise UserInputError("source 'text' needs source.path (.txt, a folder, .jsonl or .parquet)")
    path = Path(config.source.path).expanduser()
    return load_text(config, kind, user_documents(path, config.source.text_field), str(path))


WIKITEXT_FILES = {
    "train": "wiki.train.raw",
    "validation": "wiki.valid.raw",
    "test": "wiki.test.raw",
}
WIKITEXT_TITLE = re.compile(r"^ = [^=].* = $", re.M)


def wikitext_splits(folder: Path, max_documents: int) -> dict[str, list[str]]:
    """WikiText-2 (raw) as its authors split it, one document per article."""
    splits = {}
    for split, name in WIKITEXT_FILES.items():
        path = folder / name
        if not path.is_file():
            raise UserInputError(
                f"{folder} lacks {name}; source 'wikitext' needs the wikitext-2-raw files "
                f"{', '.join(WIKITEXT_FILES.values())}"
            )
        text = read_text(path)
        starts = [m.start() for m in WIKITEXT_TITLE.finditer(text)] or [0]
        articles = [
            text[a:b].strip() for a, b in zip(starts, [*starts[1:], len(text)], strict=True)
        ]
        articles = [a for a in articles if a]
        splits[split] = articles[:max_documents] if max_documents else articles
    return splits


def _load_wikitext(config: Config, kind: Kind) -> RealData:
    if not config.source.path:
        raise UserInputError("source 'wikitext' needs source.path: the wikitext-2-raw folder")
    folder = Path(config.source.path).expanduser()
    return load_splits(
        config, kind, wikitext_splits(folder, config.source.max_documents), str(folder)
    )


CORPUS = {
    "vocab_size": param(4096, "tokens of the BPE trained on the corpus", low=257, high=1_000_000),
    "block_size": param(64, "tokens per block of text", low=2, high=1_000_000),
    "max_documents": param(0, "use only the first documents (0: all)", low=0, high=MANY),
    "tokenizer": param(
        "", 'a Hugging Face model directory whose tokenizer to use ("": train a BPE)', path=True
    ),
    # Scoring costs most with a pretrained model: such a family fills these in (hf: 256 and
    # 128, see its resolve); other families score every block.
    "n_test": param(
        None,
        "blocks of the test split the metrics score (0: all; unset: the family's choice)",
        int | None,
        low=0,
        high=MANY,
    ),
    "n_validation": param(
        None,
        "blocks of the validation split scored after each epoch (0: all; unset: the family's)",
        int | None,
        low=0,
        high=MANY,
    ),
}
SPLIT = {
    "test_fraction": param(
        0.2,
        "share of documents held out for testing",
        float,
        0.0,
        1.0,
        open_low=True,
        open_high=True,
    ),
    "validation_fraction": param(
        0.1, "share held out for validation", float, 0.0, 1.0, open_high=True
    ),
}
PATH = {"path": param("", "your corpus: a file or folder", path=True)}


def _blocks_shape(source: SourceConfig, kind: Kind) -> Shape:
    """Blocks of source.block_size tokens; the test blocks it scores, where it says."""
    return Shape(source.block_size, 0, source.n_test or 0)


SOURCES.register("wikitext")(
    Source(
        ("text",),
        _load_wikitext,
        "WikiText-2 raw files you have (source.path: their folder)",
        {**PATH, **CORPUS},
        shape=_blocks_shape,
    )
)
SOURCES.register("wikipedia")(
    Source(
        ("text",),
        _load_wikipedia,
        "~100 English Wikipedia articles from the gensim wheel",
        {**CORPUS, **SPLIT},
        shape=_blocks_shape,
    )
)
SOURCES.register("text")(
    Source(
        ("text",),
        _load_user_text,
        "your corpus: source.path = .txt, folder, .jsonl, .parquet",
        {
            **PATH,
            "text_field": param("text", "the field or column that holds text (.jsonl, .parquet)"),
            **CORPUS,
            **SPLIT,
        },
        shape=_blocks_shape,
    )
)
