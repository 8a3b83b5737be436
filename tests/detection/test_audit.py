"""Detectors and the audit on real text: a tiny n-gram run on the Wikipedia sample gives
human blocks (its test split) and generated ones; `detect` and `audit` as a user runs them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from model_collapse.cli import app
from model_collapse.detection.audit import estimate_share
from model_collapse.detectors.base import auroc
from model_collapse.detectors.text import TextDetector, calibrated

SETS = {
    "experiment.generations": 2,
    "experiment.seeds": 1,
    "experiment.keep_checkpoints": "true",
    "source.max_documents": 40,
    "source.vocab_size": 512,
    "source.n_train": 200,
    "sampling.n": 400,
}


def invoke(*args: object):
    return CliRunner().invoke(app, [str(a) for a in args])


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audit") / "run"
    sets = [a for k, v in SETS.items() for a in ("--set", f"{k}={v}")]
    result = invoke("run", "ngram-wikipedia", *sets, "--out", out)
    assert result.exit_code == 0, result.output
    return out


@pytest.fixture(scope="module")
def texts(run: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Generated texts (generation 1's set), and human ones from the test split, as files."""
    from model_collapse.detection.export import generated_set

    folder = tmp_path_factory.mktemp("texts")
    samples, plan = generated_set(run, 1)
    human = [plan.real.decode(b.tolist()) for b in plan.real.test]
    machine = [plan.real.decode(b.tolist()) for b in samples[0]]
    out = {}
    for name, docs in {"human": human, "machine": machine}.items():
        out[name] = folder / f"{name}.jsonl"
        out[name].write_text("".join(json.dumps({"text": t}) + "\n" for t in docs))
    return out


@pytest.fixture(scope="module")
def scores(run: Path) -> tuple[np.ndarray, np.ndarray]:
    """fast_detectgpt's scores of the human test blocks and the generated ones."""
    from model_collapse.detection.export import generated_set, saved_model

    model, plan = saved_model(run, 1)  # the model that wrote the generated texts
    samples, _ = generated_set(run, 1)
    detector = TextDetector("fast_detectgpt", lambda ids: model.next_log_probs(0, ids), 512)
    return detector.score_blocks(plan.real.test).score, detector.score_blocks(samples[0]).score


@pytest.mark.parametrize("share", [0.1, 0.5])
def test_the_audit_interval_covers_the_true_share(
    scores: tuple[np.ndarray, np.ndarray], share: float
):
    human, machine = scores
    sign, _ = calibrated(human, 0.05, machine)
    human, machine = sign * human, sign * machine
    assert auroc(human, machine) > 0.9
    rng = np.random.default_rng(int(share * 10))
    covered = []
    for _ in range(60):
        # each audit draws its own corpus of 150 documents, human reference (300) and
        # known machine texts (150) from the pools, none shared within an audit
        h, m = rng.permutation(human), rng.permutation(machine)
        k = round(share * 150)
        corpus = np.r_[m[:k], h[: 150 - k]]
        found = estimate_share(corpus, h[150:450], m[k : k + 150], 0.05, rng, 300)
        covered.append(found.low <= share <= found.high)
    # a correct 95% interval covers fewer than 50 of 60 audits with chance about 1 in 300
    assert sum(covered) >= 50


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_audit_and_detect_from_the_command_line(run: Path, texts: dict[str, Path], tmp_path):
    human = [json.loads(line) for line in texts["human"].read_text().splitlines()]
    machine = [json.loads(line) for line in texts["machine"].read_text().splitlines()]
    corpus = tmp_path / "corpus.jsonl"
    corpus.write_text("".join(json.dumps(d) + "\n" for d in machine[:100] + human[:100]))
    reference, known = tmp_path / "ref.jsonl", tmp_path / "known.jsonl"
    reference.write_text("".join(json.dumps(d) + "\n" for d in human[100:400]))
    known.write_text("".join(json.dumps(d) + "\n" for d in machine[200:]))
    common = ["--model", f"{run}@1", "--reference", reference, "--detector", "fast_detectgpt"]
    result = invoke("audit", corpus, *common, "--machine", known, "--json")
    assert result.exit_code == 0, result.output
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert set(found) == {"share", "low", "high"} and found["low"] <= 0.5 <= found["high"]
    table = invoke("audit", corpus, *common, "--machine", known, "--top", 3)
    assert "generated share" in table.stdout and table.stdout.count("corpus.jsonl:") == 3
    scores = tmp_path / "scores.csv"
    result = invoke(
        "detect", corpus, "--model", f"{run}@1", "--reference", reference, "--csv", scores
    )
    assert result.exit_code == 0, result.output
    import pandas as pd

    frame = pd.read_csv(scores)
    assert list(frame.columns) == ["document", "tokens", "score", "flagged"] and len(frame) == 200


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["audit", "{human}", "--reference", "{human}", "--model", "{run}"], "also in the audited"),
        (
            [
                "audit",
                "{machine}",
                "--reference",
                "{few}",
                "--model",
                "{run}",
                "--fpr",
                "0.001",
                "--machine",
                "{machine}",
            ],
            "at least 1000",
        ),
        (["detect", "{empty}", "--model", "{run}"], "empty text"),
        (
            ["detect", "{human}", "--model", "{run}", "--detector", "binoculars"],
            "needs --performer",
        ),
        (["detect", "{human}", "--model", "{run}", "--detector", "classifier"], "not text files"),
        (["detect", "{human}"], "needs --model"),
        # one human reference text (before: "generated share: 0.000 (95% interval 0.000 to
        # 0.000)", where detect refused the same reference)
        (
            ["audit", "{machine}", "--reference", "{one}", "--model", "{run}"],
            "needs at least 20 scored human reference texts (--reference), got 1",
        ),
        (
            ["detect", "{machine}", "--reference", "{one}", "--model", "{run}"],
            "needs at least 20 scored human texts, got 1",
        ),
        # a corpus of one document (before: a share of 1.000 with the interval 1.000 to 1.000)
        (
            ["audit", "{one}", "--reference", "{few}", "--model", "{run}"],
            "needs at least 20 scored documents in the audited corpus, got 1",
        ),
        (
            ["audit", "{machine}", "--reference", "{few}", "--model", "{run}", "--top", "-3"],
            "--top must be 0 or more, got -3",  # before: all but the last 3 listed
        ),
        (
            ["detect", "{human}", "--model", "{run}", "--reference", "{few}", "--fpr", "0"],
            "strictly between",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(run: Path, texts: dict[str, Path], tmp_path, args, says):
    (tmp_path / "e.jsonl").write_text('{"text": "fine text here"}\n{"text": ""}\n')
    few = tmp_path / "few.jsonl"
    few.write_text("\n".join(texts["human"].read_text().splitlines()[:40]) + "\n")
    (tmp_path / "one.jsonl").write_text(texts["human"].read_text().splitlines()[-1] + "\n")
    names = {
        **{k: str(v) for k, v in texts.items()},
        "run": run,
        "empty": tmp_path / "e.jsonl",
        "few": few,
        "one": tmp_path / "one.jsonl",
    }
    result = invoke(*(a.format(**names) for a in args))
    assert result.exit_code == 2, result.output
    assert says in result.output and len(result.output.strip().splitlines()) == 1


@pytest.mark.parametrize("share", [0.0, 1.0])
def test_an_interval_at_the_edge_is_never_a_point(share: float):
    """A corpus scored far from the human reference (all above it, or all below): every
    bootstrap replicate gives the same clipped share, 1 or 0, and a percentile interval
    shrinks to that point. The interval keeps at least the Clopper-Pearson width of a
    share counted in 40 documents: 0 to 0.088, or 0.912 to 1."""
    rng = np.random.default_rng(3)
    human, machine = rng.normal(0, 1, 200), rng.normal(50, 1, 200)
    corpus = machine[:40] if share else human[:40] - 50
    for known in (None, machine[100:]):
        found = estimate_share(corpus, human[100:], known, 0.05, rng, 200)
        assert found.share == share and found.high - found.low > 0.08, found
        assert found.low <= share <= found.high


def test_audit_and_detect_share_one_rule_for_how_many_texts():
    """At a false-positive rate of 0.1, 10 texts in each set are enough, 9 are not."""
    from model_collapse.core.errors import UserInputError

    rng = np.random.default_rng(4)
    ten = rng.normal(size=10)
    found = estimate_share(ten, ten + 0.1, None, 0.1, rng, 100)
    assert found.low < found.high
    for corpus, human, machine in ((ten[:9], ten, None), (ten, ten[:9], None), (ten, ten, ten[:9])):
        with pytest.raises(UserInputError, match="needs at least 10 scored"):
            estimate_share(corpus, human, machine, 0.1, rng, 100)
