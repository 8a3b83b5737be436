"""Metrics for continuous data: moments, Wasserstein distance, tail mass, KL to the truth."""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.special import ndtr

from model_collapse.config import Config
from model_collapse.config.params import param
from model_collapse.config.sizes import Need, Shape
from model_collapse.core.degenerate import cholesky_where_possible, singular_gaussian
from model_collapse.core.rng import stream
from model_collapse.engine.capabilities import HasMoments, IsGaussian, can
from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Metric, Reference
from model_collapse.sources.truths import GaussianTruth

TAIL = 0.01  # the real 1% and 99% quantiles bound the tails


def model_moments(step: Step) -> tuple[np.ndarray, np.ndarray]:
    """Mean (S, d) and covariance (S, d, d) of the model, or of its samples."""
    if can(step.model, HasMoments):
        return step.model.moments()
    x = step.synthetic
    assert x is not None  # only models with moments run without samples
    centred = x - x.mean(axis=1, keepdims=True)
    return x.mean(axis=1), np.einsum("snd,sne->sde", centred, centred) / x.shape[1]


def projections(ref: Reference) -> np.ndarray:
    """Unit directions (d, L) for sliced distances; the identity in 1-D."""
    if "directions" not in ref.cache:
        d = ref.real.test.shape[1]
        if d == 1:
            ref.cache["directions"] = np.ones((1, 1))
        else:
            rng = stream(ref.config.experiment.seed, "metric", -1)
            v = rng.standard_normal((d, ref.config.metrics.projections))
            ref.cache["directions"] = v / np.linalg.norm(v, axis=0)
    return np.asarray(ref.cache["directions"])


def mean_error(step: Step) -> np.ndarray:
    ref = step.reference
    mean, _ = model_moments(step)
    return np.asarray(np.linalg.norm(mean - ref.mean, axis=1))


def variance_ratio(step: Step) -> np.ndarray:
    ref = step.reference
    _, cov = model_moments(step)
    assert ref.cov is not None
    return np.asarray(np.trace(cov, axis1=1, axis2=2) / np.trace(ref.cov))


def _quantile_grid(ref: Reference, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Interval widths and indices into sorted samples (n) and sorted test data (m).

    Both quantile functions are steps, on i/n and j/m; on the union of those grids both
    are constant, so W1 = sum over intervals of width * |x_(i) - t_(j)| exactly.
    """
    key = f"grid{n}"
    if key not in ref.cache:
        m = len(ref.real.test)
        edges = np.union1d(np.arange(1, n + 1) / n, np.arange(1, m + 1) / m)
        widths = np.diff(edges, prepend=0.0)
        mids = edges - widths / 2
        ref.cache[key] = (widths, np.floor(mids * n).astype(int), np.floor(mids * m).astype(int))
    return ref.cache[key]  # type: ignore[no-any-return]


def wasserstein(step: Step) -> np.ndarray:
    """W1 between generated samples and the real test data (sliced over directions in d-D)."""
    ref = step.reference
    if step.synthetic is None:
        return _gaussian_wasserstein(step)
    directions = projections(ref)
    if "test_sorted" not in ref.cache:
        ref.cache["test_sorted"] = np.sort(ref.real.test @ directions, axis=0).T  # (L, m)
    test_sorted = ref.cache["test_sorted"]
    widths, i, j = _quantile_grid(ref, step.synthetic.shape[1])
    result = np.empty(step.synthetic.shape[0])
    for start in range(0, len(result), 64):  # bounded memory: 64 seeds at a time
        x = np.sort(step.synthetic[start : start + 64] @ directions, axis=1)  # (s, n, L)
        gap = np.abs(np.swapaxes(x, 1, 2)[:, :, i] - test_sorted[None, :, j])  # (s, L, grid)
        result[start : start + 64] = (gap @ widths).mean(axis=1)
    return result


def _expected_abs(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """E|a + b Z| for Z ~ N(0, 1), b >= 0."""
    b = np.maximum(b, 1e-300)
    return np.asarray(
        b * np.sqrt(2 / np.pi) * np.exp(-0.5 * (a / b) ** 2) + a * (1 - 2 * ndtr(-a / b))
    )


def _gaussian_wasserstein(step: Step) -> np.ndarray:
    """Exact sliced W1 between the Gaussian model and the Gaussian truth (exact path)."""
    ref = step.reference
    mean, cov = model_moments(step)
    directions = projections(ref)
    assert ref.mean is not None and ref.cov is not None
    model_sd = np.sqrt(np.einsum("dl,sde,el->sl", directions, cov, directions))
    true_sd = np.sqrt(np.einsum("dl,de,el->l", directions, ref.cov, directions))
    gap = (mean - ref.mean) @ directions  # (S, L)
    return np.asarray(_expected_abs(gap, np.abs(model_sd - true_sd)).mean(axis=1))


def tail_mass_ratio(step: Step) -> np.ndarray:
    """Share of generated mass beyond the real 1% and 99% quantiles, over 0.02 (1 = intact)."""
    ref = step.reference
    if step.synthetic is None:
        assert ref.mean is not None and ref.cov is not None
        mean, cov = model_moments(step)
        true_sd = np.sqrt(np.diag(ref.cov))
        low, high = ref.mean - 2.3263478740408408 * true_sd, ref.mean + 2.3263478740408408 * true_sd
        sd = np.sqrt(np.diagonal(cov, axis1=1, axis2=2))
        share = ndtr((low - mean) / sd) + ndtr((mean - high) / sd)  # (S, d)
        return np.asarray(share.mean(axis=1) / (2 * TAIL))
    if "tails" not in ref.cache:
        ref.cache["tails"] = np.quantile(ref.real.test, [TAIL, 1 - TAIL], axis=0)  # (2, d)
    low, high = ref.cache["tails"]
    x = step.synthetic
    outside = (x < low) | (x > high)  # (S, n, d)
    share = outside.mean(axis=(1, 2)) / (2 * TAIL)
    return np.where(np.isfinite(x).all(axis=(1, 2)), share, np.nan)  # NaN is never "inside"


def kl_true(step: Step) -> np.ndarray:
    """KL(truth || model) between Gaussians, in nats: the extra log-loss on real data.

    Infinite for a collapsed model (its covariance singular to float64 precision, see
    :func:`singular_gaussian`): the truth puts mass where the model has none.
    """
    ref = step.reference
    mean, cov = model_moments(step)
    assert ref.mean is not None and ref.cov is not None
    chol, regular = cholesky_where_possible(cov)
    regular &= ~singular_gaussian(mean, cov)
    if regular.all():
        return _gaussian_kl(ref.mean, ref.cov, mean, cov, chol)
    out = np.full(len(cov), np.inf)
    out[regular] = _gaussian_kl(ref.mean, ref.cov, mean[regular], cov[regular], chol[regular])
    return out


def _gaussian_kl(
    true_mean: np.ndarray, true_cov: np.ndarray, mean: np.ndarray, cov: np.ndarray, chol: np.ndarray
) -> np.ndarray:
    """KL(N(true_mean, true_cov) || N(mean, cov)) per seed, given cov's Cholesky factors."""
    inv = np.linalg.inv(cov)
    diff = mean - true_mean
    log_det_model = 2 * np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(axis=1)
    log_det_true = np.linalg.slogdet(true_cov)[1]
    trace = np.einsum("sij,ji->s", inv, true_cov)
    quad = np.einsum("si,sij,sj->s", diff, inv, diff)
    return np.asarray(0.5 * (trace + quad - len(true_mean) + log_det_model - log_det_true))


def _has_moments(ref: Reference, model: Any, exact: bool) -> bool:
    return True


def _gaussian_truth_if_exact(ref: Reference, model: Any, exact: bool) -> bool:
    return not exact or isinstance(ref.real.truth, GaussianTruth)


def _gaussian_pair(ref: Reference, model: Any, exact: bool) -> bool:
    return isinstance(ref.real.truth, GaussianTruth) and can(model, IsGaussian)


METRICS.register("mean_error")(
    Metric(
        ("continuous",),
        mean_error,
        _has_moments,
        "distance from the model's mean to the true (or test) mean",
        log_scale=True,
        better="lower",
        level=0.0,
    )
)


def _sliced_memory(config: Config, shape: Shape) -> Need | None:
    """The sliced distance projects the samples and the test set on every direction at
    once, in chunks of up to 64 rows, and sorts them."""
    if shape.dim <= 1:
        return None
    grid = 64 * config.metrics.projections * (config.sampling.n + shape.n_test) * 8 * 3
    return Need("the sliced Wasserstein distance", grid, "metrics.projections or source.n_test")


METRICS.register("variance_ratio")(
    Metric(
        ("continuous",),
        variance_ratio,
        _has_moments,
        "trace of the model covariance over the true (or test) one",
        log_scale=True,
        better="closer",
        level=1.0,
        statistic="median",
    )
)
METRICS.register("wasserstein")(
    Metric(
        ("continuous",),
        wasserstein,
        _gaussian_truth_if_exact,
        "W1 to the real test data (exact 1-D, sliced d-D)",
        params={
            "projections": param(
                50, "directions of the sliced distance in d-D", low=1, high=100_000
            )
        },
        log_scale=True,
        memory=_sliced_memory,
        better="lower",
        level=0.0,
    )
)
METRICS.register("tail_mass_ratio")(
    Metric(
        ("continuous",),
        tail_mass_ratio,
        _gaussian_truth_if_exact,
        "generated share beyond the real 1%/99% quantiles / 0.02",
        better="closer",
        level=1.0,
        statistic="median",
        note=(
            "A share of n samples moves in steps of 1/n: at n = 100 this ratio moves in steps "
            "of 0.5 (1/100 over 0.02). Read its median over seeds, or raise sampling.n. It is "
            "measured about the real data's quantiles, so a shrinking variance lowers it and a "
            "drifting mean raises it; standardised_tail_ratio (metrics.standardised_tail = "
            "true) measures the tails about the model's own centre and scale."
        ),
    )
)
METRICS.register("kl_true")(
    Metric(
        ("continuous",),
        kl_true,
        _gaussian_pair,
        "KL(truth || model), closed form for Gaussian truth and model",
        log_scale=True,
        better="lower",
        level=0.0,
    )
)
