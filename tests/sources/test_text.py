"""Text sources: the bundled Wikipedia sample and user corpora, tokenized into blocks."""

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from model_collapse.core.errors import UserInputError
from model_collapse.sources import load_real_data
from model_collapse.sources.text import clean_wikitext, wikipedia_documents
from tests.conftest import TEXT_SOURCE, make_config


def _load(**source):
    return load_real_data(make_config(source={**TEXT_SOURCE, **source}), "text")


def test_wikipedia_sample_is_clean_prose():
    documents = wikipedia_documents()
    assert len(documents) > 90 and sum(map(len, documents)) > 2_000_000
    joined = "".join(documents[:20])
    assert "[[" not in joined and "{{" not in joined and "'''" not in joined
    markup = (
        "==History==\nThe '''A''' is a [[letter|glyph]].\n\n Egyptian \n"
        "{{cite|x}} Roman letters came later."
    )
    # markup goes, link text stays, short lines (headings, captions) go
    assert clean_wikitext(markup) == "The A is a glyph.\nRoman letters came later."


def test_blocks_per_split_and_decoding():
    real = _load()
    assert real.train.shape == (4, 40, 64) and real.test.shape[1] == 64
    assert real.validation is not None and real.validation.shape[1] == 64
    assert real.categories == 512 and real.train.max() < 512
    # the first test block decodes to the start of the first test document
    from model_collapse.sources.text import split_documents

    config = make_config(source=TEXT_SOURCE)
    first = split_documents(list(wikipedia_documents()), config)["test"][0]
    assert first.startswith(real.decode(real.test[0].tolist()))
    assert not np.array_equal(real.train[0], real.train[1])  # each seed its own blocks


def test_splits_are_by_document(wiki_txt: Path):
    real = load_real_data(
        make_config(source={**TEXT_SOURCE, "name": "text", "path": str(wiki_txt)}), "text"
    )
    test_text = real.decode(real.test.ravel().tolist())
    train_text = real.decode(real.train[0].ravel().tolist())
    documents = [p.read_text() for p in sorted(wiki_txt.iterdir())]
    first_lines = [d.splitlines()[0][:60] for d in documents]
    in_test = {line for line in first_lines if line in test_text}
    in_train = {line for line in first_lines if line in train_text}
    assert in_test and not in_test & in_train


def test_user_corpus_formats_agree(wiki_txt: Path, tmp_path: Path):
    documents = [p.read_text() for p in sorted(wiki_txt.iterdir())]
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text("\n".join(json.dumps({"body": d}) for d in documents))
    parquet = tmp_path / "c.parquet"
    pd.DataFrame({"body": documents}).to_parquet(parquet)
    loaded = [
        load_real_data(
            make_config(
                source={**TEXT_SOURCE, "name": "text", "path": str(path), "text_field": "body"}
            ),
            "text",
        )
        for path in (wiki_txt, jsonl, parquet)
    ]
    for real in loaded[1:]:
        np.testing.assert_array_equal(real.test, loaded[0].test)
        np.testing.assert_array_equal(real.train, loaded[0].train)
    single = tmp_path / "one.txt"
    single.write_text("\n\n".join(documents))  # one file: paragraphs are the documents
    assert (
        load_real_data(
            make_config(source={**TEXT_SOURCE, "name": "text", "path": str(single)}), "text"
        ).test.size
        > 0
    )


def _text_source(path: Path, **extra):
    return make_config(source={**TEXT_SOURCE, "name": "text", "path": str(path), **extra})


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "the corpus has 0 non-empty documents"),
        (b"  \n\n \n", "the corpus has 0 non-empty documents"),
        (b"plain text\x00\x01\x02", "is binary, not text (NUL byte at offset 10)"),
        ("caf\u00e9 ok".encode("latin-1"), "is not UTF-8 text (byte offset 3)"),
        (b"one\n\ntwo\n\nthree", "fewer than one block of source.block_size = 64"),
    ],
)
def test_bad_corpus(tmp_path: Path, content: bytes, message: str):
    path = tmp_path / "corpus.txt"
    path.write_bytes(content)
    with pytest.raises(UserInputError, match=re.escape(message)):
        load_real_data(_text_source(path, vocab_size=257), "text")


def test_vocabulary_the_corpus_cannot_support(wiki_txt: Path):
    with pytest.raises(UserInputError, match=r"source.vocab_size = 200000 but the training text"):
        load_real_data(_text_source(wiki_txt, vocab_size=200_000), "text")


def test_missing_fields_and_files(tmp_path: Path):
    jsonl = tmp_path / "c.jsonl"
    jsonl.write_text('{"text": "a"}\n{"body": "b"}\n')
    with pytest.raises(UserInputError, match=re.escape("line 2: not a JSON object with a 'text'")):
        load_real_data(_text_source(jsonl), "text")
    parquet = tmp_path / "c.parquet"
    pd.DataFrame({"body": ["a", "b", "c"]}).to_parquet(parquet)
    with pytest.raises(UserInputError, match=re.escape("has no column 'text' (columns: body)")):
        load_real_data(_text_source(parquet), "text")
    with pytest.raises(UserInputError, match="corpus not found"):
        load_real_data(_text_source(tmp_path / "nope.txt"), "text")


def test_wikitext_files_keep_their_own_split(tmp_path: Path):
    articles = list(wikipedia_documents()[:9])
    files = {
        "wiki.train.raw": articles[:5],
        "wiki.valid.raw": articles[5:7],
        "wiki.test.raw": articles[7:],
    }
    for name, chunk in files.items():
        text = "".join(f" = Article {i} = \n\n {body}\n\n" for i, body in enumerate(chunk))
        (tmp_path / name).write_text(text)
    real = load_real_data(
        make_config(
            source={"name": "wikitext", "path": str(tmp_path), "vocab_size": 512, "n_train": 0}
        ),
        "text",
    )
    test_text = real.decode(real.test.ravel().tolist())
    assert articles[7][:40] in test_text and articles[0][:40] not in test_text
    # n_train = 0: every seed holds every training block, in its own order
    assert sorted(map(tuple, real.train[0])) == sorted(map(tuple, real.train[3]))
    (tmp_path / "wiki.valid.raw").unlink()
    with pytest.raises(UserInputError, match=re.escape("lacks wiki.valid.raw")):
        load_real_data(make_config(source={"name": "wikitext", "path": str(tmp_path)}), "text")


def test_zero_means_every_training_block():
    every = _load(n_train=0)
    with pytest.raises(
        UserInputError, match=re.escape("source.n_train = 100000 but only")
    ) as refused:
        _load(n_train=100_000)
    pool = int(re.search(r"but only (\d+) blocks", str(refused.value)).group(1))
    assert every.train.shape[1] == pool
    with pytest.raises(UserInputError, match=re.escape("must be at least 1 (0, all rows")):
        load_real_data(make_config(source={"n_train": 0}, sampling={"n": 0}), "continuous")


def test_text_sources_score_a_sample_of_their_test_blocks_when_asked():
    from model_collapse.sources import load_real_data

    base = {"name": "wikipedia", "max_documents": 12, "vocab_size": 512, "n_train": 8}
    every = load_real_data(make_config(source=base, sampling={"n": 8}), "text")
    capped = {**base, "n_test": 5, "n_validation": 3}
    some = load_real_data(make_config(source=capped, sampling={"n": 8}), "text")
    assert len(every.test) > 5 and len(every.validation) > 3
    np.testing.assert_array_equal(some.test, every.test[:5])  # a prefix of shuffled documents
    np.testing.assert_array_equal(some.validation, every.validation[:3])
    np.testing.assert_array_equal(some.train, every.train)


def test_a_fifo_corpus_is_refused_at_once(tmp_path: Path):
    """Before: the text source waited for ever on a FIFO with no writer. Should a reader
    open it, a helper thread writes and closes it within 10 s, so a regression fails
    here rather than hanging."""
    import os
    import threading
    import time

    path = tmp_path / "corpus.txt"
    os.mkfifo(path)

    def unblock() -> None:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)  # only once someone reads
            except OSError:
                time.sleep(0.1)
                continue
            os.write(fd, b"a text that should never have been read\n")
            os.close(fd)
            return

    threading.Thread(target=unblock, daemon=True).start()
    with pytest.raises(UserInputError, match=re.escape("is a FIFO (named pipe)")):
        load_real_data(_text_source(path, vocab_size=257), "text")
