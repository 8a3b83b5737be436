"""The watermark inside the samplers (gpt and hf share one; ngram has its own), the export
of a generated set, and `model-collapse watermark detect` as a user runs it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.core.watermark import Watermark, detect_many
from model_collapse.families.gpt_torch import GPT, GPTShape
from model_collapse.families.lm_torch import Decoding, generate, watermarked
from model_collapse.families.ngram import NGramModel, NGramTables
from tests.conftest import TEXT_SOURCE, TINY_GPT

VOCAB = 200
MARK = Watermark(gamma=0.25, delta=2.0, key=42)


def _z(texts: np.ndarray, key: int = 42) -> np.ndarray:
    return np.array([s.z for s in detect_many([list(t) for t in texts], VOCAB, 0.25, key)])


@pytest.mark.parametrize("beams", [1, 4])
def test_gpt_samples_and_beams_carry_the_watermark_only_when_asked(beams: int):
    net = GPT(GPTShape(VOCAB, 100, 1, 2, 16)).init_weights(torch.Generator().manual_seed(0))
    prompts = np.random.default_rng(0).integers(0, VOCAB, (40, 8))
    plain, marked = (
        generate(
            net,
            prompts,
            48,
            0,
            Decoding(beams=beams, watermark=m, vocab=VOCAB),
            torch.Generator().manual_seed(1),
        )
        for m in (None, MARK)
    )
    # unwatermarked z ~ N(0, 1): z > 4 has chance 3e-5 per text; the mean of 40 texts has
    # standard error 0.16, so |mean| < 1 fails by chance about once in 10^9
    assert (_z(plain) > 4).mean() == 0 and (_z(marked, key=7) > 4).mean() == 0
    assert abs(_z(plain).mean()) < 1 and abs(_z(marked, key=7).mean()) < 1
    if beams == 1:
        assert (_z(marked) > 4).mean() >= 0.9
    else:  # beams repeat themselves: few distinct pairs to score, a weaker but clear signal
        assert _z(marked).mean() > 2.5


def test_ids_beyond_the_tokenizer_are_never_green():
    logits = torch.zeros(2, VOCAB + 56)  # a model whose embedding is padded past the tokenizer
    biased = watermarked(logits, torch.tensor([3, 4]), Decoding(watermark=MARK, vocab=VOCAB))
    assert (biased[:, VOCAB:] == 0).all()
    assert (biased[:, :VOCAB] == 2.0).sum(dim=1).tolist() == [VOCAB // 4] * 2


def test_the_ngram_distribution_is_the_model_its_draws_and_scores_use():
    rng = np.random.default_rng(0)
    blocks = rng.zipf(1.5, size=(300, 24)) % VOCAB
    tables = NGramTables.count(blocks, 3, VOCAB)
    context = blocks[:50, :2]
    p = tables.distribution(context)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-12)
    token = rng.integers(0, VOCAB, 50)
    np.testing.assert_allclose(p[np.arange(50), token], tables.prob(context, token), rtol=1e-12)


def test_ngram_samples_carry_the_watermark_only_when_asked():
    rng = np.random.default_rng(1)
    blocks = rng.integers(0, VOCAB, (300, 48))  # high entropy: room for the watermark
    plain, marked = (
        NGramModel(2, VOCAB, m).fit(blocks[None], rng).sample(100, rng)[0] for m in (None, MARK)
    )
    assert (_z(marked) > 4).mean() >= 0.9 and (_z(plain) > 4).mean() == 0


def invoke(*args: str):
    return CliRunner().invoke(app, [str(a) for a in args])


def _run(out: Path, *extra: str) -> None:
    sets = [
        "experiment.generations=2",
        "experiment.seeds=1",
        "sampling.n=40",
        *(f"family.{k}={v}" for k, v in TINY_GPT.items()),
        *(f"source.{k}={v}" for k, v in TEXT_SOURCE.items()),
        *extra,
    ]
    result = invoke(
        "run", "ngram-wikipedia", *(a for s in sets for a in ("--set", s)), "--out", out
    )
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def watermarked_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wm") / "run"
    _run(out, "sampling.watermark=kgw", "sampling.watermark_key=42")
    return out


def test_export_writes_the_set_the_next_generation_trained_on(watermarked_run: Path, tmp_path):
    target = tmp_path / "g1.jsonl"
    result = invoke("export", watermarked_run, "--generation", 1, "--out", target)
    assert result.exit_code == 0, result.output
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert len(rows) == 40 and all(r["generation"] == 1 and r["text"] for r in rows)
    again = tmp_path / "again.jsonl"
    assert invoke("export", watermarked_run, "-g", 1, "-o", again).exit_code == 0
    assert again.read_bytes() == target.read_bytes()  # drawn again from the same stream


def test_watermark_detect_finds_the_key_and_only_the_key(watermarked_run: Path, tmp_path):
    target = tmp_path / "g1.jsonl"
    invoke("export", watermarked_run, "-g", 1, "-o", target)
    common = ["--tokenizer", watermarked_run, "--json"]
    # z > 2.33: a 1% false-alarm rate. The tiny model's byte soup loses bytes in decoding,
    # so the text re-tokenizes differently in places: a weaker signal than a real run's.
    found = invoke("watermark", "detect", target, "--key", 42, "--z", 2.33, *common)
    assert found.exit_code == 0, found.output
    rows = [json.loads(line) for line in found.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 40 and set(rows[0]) >= {"tokens", "z", "p", "flagged"}
    assert np.mean([r["flagged"] for r in rows]) >= 0.85
    # another key at z > 4: each text a false alarm with chance 3e-5
    other = invoke("watermark", "detect", target, "--key", 43, *common)
    rows = [json.loads(line) for line in other.stdout.splitlines() if line.startswith("{")]
    assert len(rows) == 40 and not any(r["flagged"] for r in rows)


def test_exporting_numbers_gives_the_samples_generation_1_fitted(tmp_path):
    out = tmp_path / "g"
    sets = ["experiment.generations=2", "experiment.seeds=2", "sampling.n=30"]
    result = invoke("run", "gaussian-1d", *(a for s in sets for a in ("--set", s)), "--out", out)
    assert result.exit_code == 0, result.output
    assert invoke("export", out, "-g", 0, "-o", tmp_path / "g0.npy").exit_code == 0
    samples = np.load(tmp_path / "g0.npy")
    assert samples.shape == (2, 30, 1)
    from safetensors.numpy import load_file

    fitted = load_file(out / "checkpoints" / "model-00001.safetensors")
    # replace: generation 1 is the maximum-likelihood fit to generation 0's samples
    np.testing.assert_allclose(fitted["mean_"].ravel(), samples.mean(axis=1).ravel(), rtol=1e-12)


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["watermark", "detect", "{text}"], "needs --key"),
        (["watermark", "detect", "{empty}", "--key", "1"], "empty text"),
        (["watermark", "detect", "{text}", "--key", "1", "--gamma", "1.5"], "--gamma"),
        (["watermark", "detect", "{text}", "--key", "1", "--window", "-3"], "--window"),
        (["watermark", "detect", "{text}", "--key", "1", "--model", "{run}"], "together"),
        (["watermark", "detect", "{null}", "--key", "1"], "text 'text' field"),
        (["watermark", "detect", "{broken}", "--key", "1"], "not a readable Parquet"),
        (["watermark", "detect", "{export}", "--key", "42"], "generated with tokenizer"),
        (["export", "{run}", "-g", "5", "-o", "{tmp}/x.jsonl"], "not among them"),
        (["export", "{run}", "-g", "1", "-o", "{tmp}/x.npy"], "export it to a .jsonl"),
        (["export", "{tmp}", "-g", "1", "-o", "{tmp}/x.jsonl"], "not a run directory"),
        (["run", "gaussian-1d", "--set", "sampling.watermark=kgw"], "belongs to gpt, hf and ngram"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(watermarked_run: Path, tmp_path, args, says):
    (tmp_path / "t.txt").write_text("Some human text here.\n\nAnd a second paragraph of it.\n")
    (tmp_path / "e.jsonl").write_text('{"text": "fine"}\n{"text": "  "}\n')
    (tmp_path / "n.jsonl").write_text('{"text": "fine"}\n{"text": null}\n')
    (tmp_path / "b.parquet").write_bytes(b"not parquet at all")
    export = tmp_path / "x1.jsonl"
    invoke("export", watermarked_run, "-g", 1, "-o", export)
    names = {
        "text": tmp_path / "t.txt",
        "empty": tmp_path / "e.jsonl",
        "export": export,
        "null": tmp_path / "n.jsonl",
        "broken": tmp_path / "b.parquet",
        "run": watermarked_run,
        "tmp": tmp_path,
    }
    result = invoke(*(a.format(**names) for a in args))
    assert result.exit_code == 2, result.output
    assert says in result.output and len(result.output.strip().splitlines()) == 1


def test_a_fifo_is_refused_at_once_not_waited_on(tmp_path: Path):
    """Before: watermark detect on a FIFO with no writer blocked for ever."""
    import os
    import subprocess
    import sys

    os.mkfifo(tmp_path / "pipe.jsonl")
    command = ["watermark", "detect", str(tmp_path / "pipe.jsonl"), "--key", "42"]
    result = subprocess.run(
        [sys.executable, "-m", "model_collapse", *command],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and len(result.stderr.strip().splitlines()) == 1
    assert "is a FIFO (named pipe)" in result.stderr


@pytest.fixture(scope="module")
def ngram_marked(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A watermarked n-gram run: low- and high-entropy tokens, every model kept."""
    source = {**TEXT_SOURCE, "max_documents": 30, "n_train": 200}
    sets = [
        "experiment.generations=3",
        "experiment.seeds=2",
        "experiment.keep_checkpoints=true",
        "sampling.watermark=kgw",
        "sampling.watermark_key=42",
        "sampling.n=200",
        *(f"source.{k}={v}" for k, v in source.items()),
    ]
    out = tmp_path_factory.mktemp("ngram-marked") / "run"
    result = invoke(
        "run", "ngram-wikipedia", *(a for s in sets for a in ("--set", s)), "--out", out
    )
    assert result.exit_code == 0, result.output
    return out


def test_a_model_trained_on_watermarked_text_is_radioactive(ngram_marked: Path):
    import pandas as pd

    frame = pd.read_csv(ngram_marked / "metrics.csv")
    # generation 0 saw only real text: z ~ N(0, 1), beyond 4 with chance 6e-5 per seed
    assert (frame[frame.generation == 0].radioactivity.abs() < 4).all()
    assert (frame[frame.generation > 0].radioactivity > 4).all()


def test_the_entropy_aware_test_scores_fewer_tokens_and_still_finds_the_mark(
    ngram_marked: Path, tmp_path
):
    target = tmp_path / "g1.jsonl"
    assert invoke("export", ngram_marked, "-g", 1, "-o", target).exit_code == 0
    common = ["--key", 42, "--json", "--z", 2.33]
    plain = invoke("watermark", "detect", target, "--tokenizer", ngram_marked, *common)
    aware = invoke(
        "watermark",
        "detect",
        target,
        "--model",
        f"{ngram_marked}@1",
        "--min-entropy",
        1.0,
        *common,
    )
    assert aware.exit_code == 0, aware.output
    rows = [
        [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")] for r in (plain, aware)
    ]
    assert sum(r["tokens"] for r in rows[1]) < sum(r["tokens"] for r in rows[0])
    assert np.mean([r["flagged"] for r in rows[1]]) >= 0.9
    lonely = invoke("watermark", "detect", target, "--key", 42, "--min-entropy", 2.0)
    assert lonely.exit_code == 2 and "--model and --min-entropy together" in lonely.output


def test_a_tokenizer_mismatch_names_the_model_that_reads_the_texts(
    watermarked_run: Path, ngram_marked: Path, tmp_path: Path
):
    """With --model, the model's tokenizer reads the texts: a mismatch names --model, not
    --tokenizer (before: it blamed --tokenizer, which was right)."""
    export = tmp_path / "x1.jsonl"
    assert invoke("export", watermarked_run, "-g", 1, "-o", export).exit_code == 0
    result = invoke(
        "watermark", "detect", export, "--key", 42, "--tokenizer", watermarked_run,
        "--model", f"{ngram_marked}@0", "--min-entropy", 0.5,
    )  # fmt: skip
    assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1
    assert f"but --model {ngram_marked}@0 reads with" in result.output, result.output
