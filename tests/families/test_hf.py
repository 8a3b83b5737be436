"""The hf family end to end on a tiny random GPT-2 built from a config (no download)."""

import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest

import model_collapse
from model_collapse.core.errors import UserInputError
from tests.conftest import make_config

SMALL = {"name": "wikipedia", "max_documents": 12, "n_train": 24}


def _config(model: Path, **family):
    return make_config(
        source=SMALL,
        sampling={"n": 24},
        family={"name": "hf", "model_path": str(model), "batch_size": 8, **family},
    )


@pytest.mark.slow  # 7 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_hf_runs_end_to_end_and_resumes(tiny_hf: Path, tmp_path: Path):
    config = _config(tiny_hf, init="previous")
    full = model_collapse.run(config, tmp_path / "full")
    assert full.config.source.tokenizer == str(tiny_hf)  # the model's own, made explicit
    assert f'tokenizer = "{tiny_hf}"' in (tmp_path / "full/config.toml").read_text()
    metrics = full.metrics
    assert len(metrics) == 3 * 4 and np.isfinite(metrics.iloc[:, 2:].to_numpy()).all()
    # a pretrained model scores a sample of the real blocks: the family's cap where the
    # config leaves it unset (n_validation), the config's own where it is set (n_test)
    assert (full.config.source.n_test, full.config.source.n_validation) == (500, 128)
    # ... and fine-tuned with its own defaults, not gpt's from-scratch ones
    family = full.config.family
    assert (family.learning_rate, family.schedule, family.weight_decay) == (5e-5, "linear", 0.0)
    assert metrics["pretrained_perplexity"].nunique() == 1  # one number, computed once
    assert metrics["test_perplexity"].between(1, 10 * 512).all()
    assert (tmp_path / "full/samples/text/generation-00002.txt").read_text().strip()

    def stop(generation: int) -> None:
        if generation == 1:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        model_collapse.run(config, tmp_path / "cut", on_generation=stop)
    model_collapse.run(config, tmp_path / "cut")
    assert (tmp_path / "cut/metrics.csv").read_bytes() == (
        tmp_path / "full/metrics.csv"
    ).read_bytes()


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_beam_search_decoding(tiny_hf: Path):
    config = make_config(
        source=SMALL,
        experiment={"generations": 2},
        sampling={"n": 24, "beams": 3},
        family={"name": "hf", "model_path": str(tiny_hf), "batch_size": 8},
    )
    result = model_collapse.run(config)
    assert len(result.metrics) == 2 * 4
    assert np.isfinite(result.metrics["gen0_perplexity"]).all()


def test_bad_model_directories(tiny_hf: Path, tmp_path: Path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(UserInputError, match=re.escape(f"no tokenizer in {empty} (none of")):
        model_collapse.run(_config(empty))
    no_tokenizer = tmp_path / "no-tokenizer"  # weights and config, but no tokenizer files
    shutil.copytree(tiny_hf, no_tokenizer)
    for name in ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"]:
        (no_tokenizer / name).unlink(missing_ok=True)
    with pytest.raises(UserInputError, match=re.escape(f"no tokenizer in {no_tokenizer}")):
        model_collapse.run(_config(no_tokenizer))
    missing = tmp_path / "missing"  # not taken for a hub name
    with pytest.raises(UserInputError, match=re.escape(f"not found: {missing}")):
        model_collapse.run(_config(missing))
    no_weights = tmp_path / "no-weights"
    shutil.copytree(tiny_hf, no_weights)
    for weights in no_weights.glob("*.safetensors"):
        weights.rename(no_weights / "pytorch_model.bin")
    message = "has no weights in safetensors (pytorch_model.bin is a pickle and is refused)"
    with pytest.raises(UserInputError, match=re.escape(message)):
        model_collapse.run(_config(no_weights))
    small_embedding = tmp_path / "small-embedding"
    shutil.copytree(tiny_hf, small_embedding)
    settings = json.loads((small_embedding / "config.json").read_text())
    (small_embedding / "config.json").write_text(json.dumps({**settings, "vocab_size": 100}))
    message = "the tokenizer has 512 tokens but the model in"
    with pytest.raises(UserInputError, match=re.escape(message)):
        model_collapse.run(_config(small_embedding))
    long_blocks = make_config(
        source={**SMALL, "block_size": 100},
        sampling={"n": 24},
        family={"name": "hf", "model_path": str(tiny_hf)},
    )
    message = "a 100-token prompt plus 100 new tokens need 201 positions; the model in"
    with pytest.raises(UserInputError, match=re.escape(message)):
        model_collapse.run(long_blocks)
    with pytest.raises(UserInputError, match=re.escape("family 'hf' needs family.model_path")):
        model_collapse.run(make_config(source=SMALL, family={"name": "hf"}))


@pytest.mark.slow  # make test's 8 minutes: make test-slow runs it
def test_hf_writes_the_watermark_and_binoculars_refuses_two_tokenizers(tiny_hf: Path, tmp_path):
    from typer.testing import CliRunner

    from model_collapse.cli import app

    config = make_config(
        source=SMALL,
        experiment={"generations": 2, "seeds": 1},
        sampling={"n": 24, "watermark": "kgw", "watermark_key": 5},
        family={"name": "hf", "model_path": str(tiny_hf), "batch_size": 8},
    )
    model_collapse.run(config, tmp_path / "run")
    cli = CliRunner()
    out = tmp_path / "g1.jsonl"
    assert (
        cli.invoke(app, ["export", str(tmp_path / "run"), "-g", "1", "-o", str(out)]).exit_code == 0
    )
    found = cli.invoke(
        app, ["watermark", "detect", str(out), "--key", "5", "--tokenizer", str(tiny_hf), "--json"]
    )
    rows = [json.loads(line) for line in found.stdout.splitlines() if line.startswith("{")]
    # without the mark the mean z of 24 texts is N(0, 1/24): above 3 with chance 1e-49
    assert len(rows) == 24 and np.mean([r["z"] for r in rows]) > 3
    other = tmp_path / "other"
    model_collapse.run(
        make_config(
            source={**SMALL, "vocab_size": 300},
            experiment={"generations": 1, "seeds": 1},
            family={"name": "ngram"},
            sampling={"n": 24},
        ),
        other,
    )
    refused = cli.invoke(
        app,
        [
            "detect",
            str(out),
            "--detector",
            "binoculars",
            "--model",
            str(tiny_hf),
            "--performer",
            str(other),
        ],
    )
    assert refused.exit_code == 2 and "different tokenizers" in refused.output
