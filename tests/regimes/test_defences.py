"""Defence regimes on real pools: what they keep, what slips through, their columns, their
refusals, and a resume that changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

import model_collapse
from model_collapse.core.errors import UserInputError
from tests.conftest import TEXT_SOURCE, make_config, run_interrupted

POOL = {"real_fraction": 0.5, "real_from": "fresh"}
COLUMNS = ["real_share", "auroc", "tpr", "kept", "real_kept", "slipped"]


def _gaussian(regime: dict, **sampling) -> dict:
    # the generator draws with a fifth of the covariance: a classifier can tell its items
    return dict(
        experiment={"generations": 3, "seeds": 2},
        source={"name": "gaussian", "dim": 2, "n_test": 800},
        family={"name": "gaussian"},
        regime=regime,
        sampling={"n": 400, "bias": 0.2, **sampling},
    )


def test_filter_drops_generated_items_and_keeps_real_ones_at_its_rate():
    config = make_config(**_gaussian({"name": "filter", **POOL, "detector": "classifier"}))
    frame = model_collapse.run(config).metrics
    later = frame[frame.generation > 0]
    assert (
        list(frame.columns[-6:]) == COLUMNS
        and frame[frame.generation == 0][COLUMNS[1:]].isna().all().all()
    )
    assert (later.auroc > 0.7).all() and (later.slipped < later.real_kept).all()
    # real items are flagged at the calibrated rate 0.05: of 200 real items, at most 35
    # dropped fails by chance far below 1 in 10^6 even with calibration noise
    assert (later.real_kept > 1 - 35 / 200).all()


def test_oracle_and_pool_bound_the_defences():
    frames = {
        name: model_collapse.run(
            make_config(**_gaussian({"name": name, **POOL, "detector": "classifier"}))
        ).metrics
        for name in ("pool", "oracle")
    }
    pool, oracle = (frames[n][frames[n].generation > 0] for n in ("pool", "oracle"))
    assert (pool.kept == 1).all() and (pool.slipped == 1).all() and (pool.real_share == 0.5).all()
    assert (
        (oracle.kept == 0.5).all()
        and (oracle.slipped == 0).all()
        and (oracle.real_share == 1).all()
    )


def test_without_a_detector_pool_and_oracle_write_only_their_share():
    frame = model_collapse.run(make_config(**_gaussian({"name": "pool", **POOL}))).metrics
    assert "auroc" not in frame.columns and "real_share" in frame.columns


@pytest.mark.parametrize("verifier", ["detector", "gen0"])
def test_verify_keeps_its_share(verifier):
    regime = {"name": "verify", **POOL, "keep_share": 0.3, "verifier": verifier}
    verify = model_collapse.run(make_config(**_gaussian(regime))).metrics
    later = verify[verify.generation > 0]
    assert (later.kept == 0.3).all()
    if verifier == "detector":  # generation 0's likelihood prefers the narrow samples
        assert (later.real_kept > later.slipped).all()


def test_weight_caps_repeats_and_draws_what_the_detector_believes_human():
    weight = model_collapse.run(
        make_config(
            **_gaussian({"name": "weight", **POOL, "detector": "classifier", "max_repeats": 2})
        )
    ).metrics
    later = weight[weight.generation > 0]
    assert (later.real_kept > later.slipped).all()  # the detector steers the weights


def _text(regime: dict, watermark: str = "kgw") -> dict:
    return dict(
        experiment={"generations": 3, "seeds": 1},
        source={**TEXT_SOURCE, "name": "wikipedia", "max_documents": 40, "n_train": 60},
        family={"name": "ngram"},
        regime={**POOL, **regime},
        sampling={"n": 60, "watermark": watermark},
    )


def test_watermark_filter_finds_every_generated_block():
    frame = model_collapse.run(make_config(**_text({"name": "watermark-filter"}))).metrics
    later = frame[frame.generation > 0]
    assert (later.auroc > 0.99).all() and (later.slipped < 0.05).all()
    assert (later.real_kept > 0.8).all()  # z > 1.645 on real text: 5% of 30 blocks


@pytest.mark.slow  # 7 s: make test-slow and CI run it (make test stays under 8 minutes)
def test_a_text_filter_resumes_byte_identically(tmp_path: Path):
    config = make_config(
        **_text({"name": "filter", "detector": "fast_detectgpt", "calibration": 100})
    )
    model_collapse.run(config, tmp_path / "whole")
    run_interrupted(config, tmp_path / "cut", generation=1)
    model_collapse.run(config, tmp_path / "cut")
    whole, cut = ((tmp_path / d / "metrics.csv").read_bytes() for d in ("whole", "cut"))
    assert whole == cut and b"auroc" in whole


@pytest.mark.parametrize(
    ("sections", "says"),
    [
        (_gaussian({"name": "filter", **POOL, "detector": "fast_detectgpt"}), "reads text items"),
        (_text({"name": "filter", "detector": "classifier"}), "reads numeric items"),
        (_text({"name": "watermark-filter"}, watermark="none"), 'sampling.watermark = "kgw"'),
        (
            {
                **_gaussian({"name": "verify", **POOL, "verifier": "gen0"}),
                "family": {"name": "kde"},
                "sampling": {"n": 400},
            },
            "does not give",
        ),
        (
            _gaussian({"name": "filter", **POOL, "detector": "classifier", "fpr": 0.001}),
            "needs at least 1000",
        ),
        (
            {
                **_gaussian({"name": "pool", **POOL, "detector": "classifier"}),
                "family": {"name": "gaussian", "exact": True},
            },
            "exact path",
        ),
    ],
)
def test_settings_a_defence_cannot_run_are_refused_before_it_starts(sections, says):
    with pytest.raises(UserInputError, match=says):
        model_collapse.run(make_config(**sections))
