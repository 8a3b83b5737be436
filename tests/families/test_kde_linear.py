import numpy as np
import pytest
from scipy.stats import gaussian_kde

from model_collapse.core.errors import UserInputError
from model_collapse.families.kde import KDEModel
from model_collapse.families.linear import LinearModel


def test_kde_kernel_matches_scipy_and_samples_have_its_moments():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1, 300, 2))
    for rule in ("scott", "silverman"):
        model = KDEModel(rule).fit(x, rng)
        np.testing.assert_allclose(model.kernel_[0], gaussian_kde(x[0].T, rule).covariance)
    model = KDEModel(0.5).fit(x, rng)
    np.testing.assert_allclose(model.kernel_[0], 0.25 * np.eye(2))
    draws = model.sample(100_000, rng)[0]
    _, cov = model.moments()
    centred = draws - draws.mean(0)
    # standard error of a sample variance: sqrt((m4 - var^2) / n)
    se = np.sqrt(((centred**4).mean(0) - centred.var(0) ** 2) / len(draws))
    assert np.all(np.abs(draws.var(0) - np.diag(cov[0])) < 5 * se)


def test_linear_fit_recovers_ols_and_samples_on_the_fixed_design():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 80, 3))
    y = x @ np.array([1.0, -2.0, 0.5]) + 0.3 * rng.normal(size=(2, 80))
    data = np.concatenate([x, y[..., None]], axis=2)
    model = LinearModel(estimator="unbiased").fit(data, rng)
    for s in range(2):
        coef, res, *_ = np.linalg.lstsq(x[s], y[s], rcond=None)
        np.testing.assert_allclose(model.coef_[s], coef)
        np.testing.assert_allclose(model.noise_[s] ** 2, res[0] / (80 - 3))
    again = model.sample(80, rng)
    np.testing.assert_array_equal(again[..., :3], x)  # the design never changes


def test_later_generations_label_generation_0s_design():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(2, 40, 2))
    data = np.concatenate([x, x.sum(axis=2, keepdims=True) + rng.normal(size=(2, 40, 1))], 2)
    first = LinearModel().fit(data, rng)
    shuffled = data[:, rng.permutation(40)]  # a later training set: rows in another order
    later = LinearModel().start_from(first, first).fit(shuffled, rng)
    np.testing.assert_array_equal(later.sample(40, rng)[..., :2], x)
    restored = LinearModel().set_state(later.get_state())
    np.testing.assert_array_equal(restored.design_, x)
    old = {k: v for k, v in later.get_state().items() if k != "design_"}
    with pytest.raises(UserInputError, match="run the run again with --restart"):
        LinearModel().set_state(old)


def test_known_noise_keeps_the_sources_sigma_and_a_file_is_refused(tmp_path):
    from typer.testing import CliRunner

    from model_collapse.api import run
    from model_collapse.cli import app

    sets = {"experiment": {"generations": 3, "seeds": 4}, "source": {"name": "linear", "dim": 3}}
    known = run({**sets, "family": {"name": "linear", "noise": "known"}})
    fitted = run({**sets, "family": {"name": "linear"}})
    assert known.metrics["test_error"].iloc[0] == fitted.metrics["test_error"].iloc[0]  # gen 0
    (tmp_path / "rows.csv").write_text("x,y\n" + "".join(f"{i},{2 * i + 1}\n" for i in range(200)))
    args = [
        "run",
        "linear",
        "--set",
        "source.name=file",
        "--set",
        f"source.path={tmp_path}/rows.csv",
    ]
    result = CliRunner().invoke(
        app, [*args, "--set", "family.noise=known", "--out", str(tmp_path / "r")]
    )
    assert result.exit_code == 2 and "family.noise = known needs the true noise" in result.output


def test_excess_error_is_the_distance_to_the_true_weights_and_only_when_asked():
    from model_collapse.api import run

    sets = {
        "experiment": {"generations": 2, "seeds": 3},
        "source": {"name": "linear", "dim": 4, "noise": 1.0},
    }
    plain = run({**sets, "family": {"name": "linear"}})
    assert "excess_error" not in plain.metrics  # opt-in: a run that does not ask keeps its columns
    asked = run({**sets, "family": {"name": "linear"}, "metrics": {"excess_error": True}})
    # test_error on 10,000 noisy rows = the excess error + sigma^2 = 1, to 3 standard
    # errors of a mean of 10,000 squared N(0, 1): sqrt(2 / 10,000) = 0.014
    gap = asked.metrics["test_error"] - asked.metrics["excess_error"]
    assert np.allclose(gap, 1.0, atol=0.05)
