from pathlib import Path

import numpy as np

from model_collapse.api import open_run, run
from model_collapse.theory import theory_for
from tests.conftest import make_config


def has_theory(config, metric: str) -> bool:
    return theory_for(config, metric) is not None


def test_theory_is_drawn_only_where_it_holds():
    assert has_theory(make_config(), "variance_ratio")
    assert not has_theory(make_config(regime={"name": "mix"}), "variance_ratio")
    assert not has_theory(make_config(source={"dim": 2}), "variance_ratio")
    assert not has_theory(make_config(sampling={"bias": 0.9}), "variance_ratio")
    zipf = make_config(source={"name": "zipf"}, family={"name": "categorical"})
    assert has_theory(zipf, "heterozygosity_ratio") and not has_theory(zipf, "kl")


def test_figures_are_written_per_metric_and_carry_the_theory(tmp_path: Path):
    run(make_config(), tmp_path / "r")
    result = open_run(tmp_path / "r")
    names = sorted(p.stem for p in (tmp_path / "r/figures").glob("*.png"))
    assert names == sorted(result.metrics.columns[2:])
    labels = [t.get_text() for t in result.plot(["variance_ratio"]).axes[0].get_legend().texts]
    assert "theory: typical seed exp(E log)" in labels and "theory: mean" in labels


def test_text_runs_keep_samples_and_draw_the_perplexity_histogram(tmp_path: Path):
    import numpy as np

    from tests.conftest import TEXT_SOURCE

    config = make_config(source=TEXT_SOURCE, family={"name": "ngram"})
    result = run(config, tmp_path / "r")
    per_block = np.load(tmp_path / "r/samples/gen0_perplexity/generation-00002.npy")
    assert per_block.shape == (4, 50)
    last = result.metrics.query("generation == 2")["gen0_perplexity"].to_numpy()
    np.testing.assert_allclose(per_block.mean(axis=1), last, rtol=1e-12)
    excerpt = (tmp_path / "r/samples/text/generation-00001.txt").read_text()
    assert excerpt.startswith("=== seed 0, block 0 ===\n") and excerpt.count("===") == 2 * 15
    assert (tmp_path / "r/figures/gen0_perplexity_histogram.png").stat().st_size > 10_000


def test_a_plug_in_adds_its_own_closed_form(tmp_path: Path):
    from model_collapse.theory import THEORIES, Curve, Theory

    def expected(config, generations):
        return [Curve("theory: a plug-in's line", "mean", np.full(generations, 0.5))]

    name = "test-mean-error-line"
    THEORIES.register(name)(
        Theory("mean_error", lambda config: config.experiment.seeds == 3, expected, "a line")
    )
    try:
        result = run(make_config(experiment={"seeds": 3}))
        labels = [t.get_text() for t in result.plot(["mean_error"]).axes[0].get_legend().texts]
        assert "theory: a plug-in's line" in labels
        assert theory_for(make_config(), "mean_error") is None  # where it does not hold
    finally:
        THEORIES._entries.pop(name)
