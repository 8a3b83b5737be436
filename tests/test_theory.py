"""The simulation against closed forms (fixed seeds; tolerances from standard errors).

A correct implementation fails a 4-standard-error test at one of 200 correlated
generations about 1 time in 200; the seeds are fixed, so the outcome is repeatable.
"""

import numpy as np
import pytest
from scipy import stats

import model_collapse
from model_collapse.theory import (
    expected_log_variance_ratio,
    gaussian_variance_theory,
    heterozygosity_theory,
)

N, SEEDS, GENERATIONS = 100, 500, 200


def _gaussian_run(**family):
    return model_collapse.run(
        {
            "experiment": {"generations": GENERATIONS, "seeds": SEEDS, "seed": 0},
            "source": {"name": "gaussian", "n_test": 100},
            "family": {"name": "gaussian", **family},
            "regime": {"name": "replace"},
            "sampling": {"n": N},
            "metrics": {"names": ["variance_ratio"]},
        }
    ).metrics


def _z_scores(values: np.ndarray, expected: np.ndarray) -> np.ndarray:
    mean = values.mean(axis=0)
    se = values.std(axis=0, ddof=1) / np.sqrt(values.shape[0])
    return np.abs(mean - expected) / se


@pytest.mark.parametrize("estimator", ["mle", "unbiased"])
@pytest.mark.parametrize("exact", [False, True])
def test_mean_log_variance_ratio_follows_theory(estimator: str, exact: bool):
    metrics = _gaussian_run(estimator=estimator, exact=exact)
    log_ratio = np.log(
        metrics.pivot(index="seed", columns="generation", values="variance_ratio").to_numpy()
    )
    expected = [expected_log_variance_ratio(g, N, estimator) for g in range(GENERATIONS)]
    assert _z_scores(log_ratio, np.array(expected)).max() < 4


def test_mean_variance_ratio_follows_theory_while_the_mean_is_well_estimated():
    """E[ratio] = ((n-1)/n)^(g+1); past ~25 generations the ratio is too skewed for a CLT."""
    ratio = (
        _gaussian_run()
        .pivot(index="seed", columns="generation", values="variance_ratio")
        .to_numpy()[:, :25]
    )
    theory = gaussian_variance_theory(25, N)
    np.testing.assert_allclose(theory.mean, ((N - 1) / N) ** np.arange(1, 26))
    assert _z_scores(ratio, theory.mean).max() < 4


def test_exact_and_sample_paths_agree_in_law_at_the_last_generation():
    last = {
        exact: _gaussian_run(exact=exact).query(f"generation == {GENERATIONS - 1}")
        for exact in (False, True)
    }
    assert stats.ks_2samp(last[False]["variance_ratio"], last[True]["variance_ratio"]).pvalue > 0.01


@pytest.mark.parametrize("exact", [False, True])
def test_categorical_heterozygosity_follows_wright_fisher(exact: bool):
    n, generations = 50, 100
    metrics = model_collapse.run(
        {
            "experiment": {"generations": generations, "seeds": 400, "seed": 1},
            "source": {"name": "zipf", "categories": 20, "n_test": 100},
            "family": {"name": "categorical", "exact": exact},
            "sampling": {"n": n},
            "metrics": {"names": ["heterozygosity_ratio"]},
        }
    ).metrics
    values = metrics.pivot(
        index="seed", columns="generation", values="heterozygosity_ratio"
    ).to_numpy()
    assert _z_scores(values, heterozygosity_theory(generations, n)).max() < 4


def test_a_theory_gives_its_numbers_by_generation_which_the_figures_draw():
    """Theory.expected is numeric: the Gaussian's mean curve is E[ratio] itself, and a
    curve is a line or a band, never both, with a declared role."""
    from model_collapse.theory import Curve, gaussian_variance_theory, theory_for
    from tests.conftest import make_config

    config = make_config(experiment={"seeds": 30}, sampling={"n": 20}, source={"n_train": 20})
    theory = theory_for(config, "variance_ratio")
    assert theory is not None
    curves = theory.expected(config, 6)
    assert [c.role for c in curves] == ["mean", "mean band", "typical", "seed band", "seed band"]
    np.testing.assert_array_equal(theory.mean(config, 6), gaussian_variance_theory(6, 20, 20).mean)
    band, mean = curves[1], curves[0].y
    assert band.kind == "band" and (band.low[1:] < mean[1:]).all() and (mean < band.high).all()
    with pytest.raises(ValueError, match=r"a line \(y\) or a band"):
        Curve("both", "mean", np.ones(3), low=np.zeros(3), high=np.ones(3))
    with pytest.raises(ValueError, match="a role in"):
        Curve("odd", "median", np.ones(3))
