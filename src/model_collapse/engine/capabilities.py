"""What a model can do beyond fit and sample: one Protocol per capability, asked here.

A family offers a capability by giving its model the methods; nothing is declared twice.
The loop and the checks ask this module (``can``, :func:`check`, :func:`fit_items`), so
which model can do what is decided in one place:

- ``SamplesStatistics``: the exact path (``family.exact = true``) draws sufficient
  statistics instead of samples;
- ``SubsamplesStatistics``: those statistics can be subsampled (accumulate-subsample's
  exact path);
- ``RunsOnDevice``: computes on ``experiment.device`` (the torch families);
- ``WarmStarts``: later generations may start from earlier fits;
- ``WeightedFit``: honours per-item weights (gaussian, gmm, kde, categorical); a weighted
  training set of any other family is resampled in proportion to the weights;
- ``ScoresTokens``: gives the log-probability of each token of a block (text metrics,
  detectors); ``ScoresDistributions`` the whole next-token distribution;
  ``ScoresPositions`` the detectors' per-token statistics directly; ``ReadsPositions``
  the longest sequence it reads;
- ``Pretrained``: scores text with its pretrained weights as they were (the guard on
  fine-tuning);
- ``HasMoments``: knows its mean and covariance;
- ``IsGaussian``: its law is one Gaussian (closed-form KL);
- ``Degenerates``: tells per seed whether its fit has collapsed or diverged.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np

from model_collapse.config import Config
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import weighted_rows

if TYPE_CHECKING:
    from model_collapse.engine.step import Step


@runtime_checkable
class SamplesStatistics(Protocol):
    """A model with an exact sufficient-statistics path (no samples materialised)."""

    def sample_stats(self, n: int, rng: np.random.Generator) -> Any:
        """Draw the sufficient statistics of ``n`` samples per seed from their exact law."""
        ...


@runtime_checkable
class SubsamplesStatistics(Protocol):
    """A model whose sufficient statistics can be subsampled without the items."""

    def subsample_stats(self, stats: Any, k: int, rng: np.random.Generator) -> Any:
        """The statistics of a uniform random subset of ``k`` of the items per seed."""
        ...


@runtime_checkable
class RunsOnDevice(Protocol):
    """A model that computes on ``experiment.device`` (cpu, cuda or mps)."""

    def device(self) -> Any:
        """The torch device it trains, samples and scores on."""
        ...


@runtime_checkable
class WarmStarts(Protocol):
    """A model whose later generations may start from earlier generations' fits."""

    def start_from(self, first: Any, previous: Any) -> Self:
        """Choose starting weights from generation 0's model and the previous one."""
        ...


@runtime_checkable
class WeightedFit(Protocol):
    """A model that fits per-item weights.

    Weights are relative: only their ratios within a seed matter, so a maximum-likelihood
    fit with integer weights equals the fit to the items repeated that many times, and
    equal weights give the unweighted fit. Where an estimate corrects for the sample size
    (an unbiased covariance, a bandwidth rule), the effective size (sum w)^2 / sum w^2
    stands in for n.
    """

    def fit_weighted(self, data: np.ndarray, weight: np.ndarray, rng: np.random.Generator) -> Self:
        """Fit to ``data`` (S, n, d) with non-negative weights (S, n), each seed's sum > 0."""
        ...


@runtime_checkable
class ScoresTokens(Protocol):
    """A language model that scores text."""

    def log_prob(self, blocks: np.ndarray) -> np.ndarray:
        """Per seed and token: log p of each predicted token of ``blocks`` (m, L)."""
        ...

    def seed_log_prob(self, seed: int, blocks: np.ndarray) -> np.ndarray:
        """The same for one seed's model only."""
        ...


@runtime_checkable
class ScoresDistributions(Protocol):
    """Gives the whole next-token distribution at every position (text detectors)."""

    def next_log_probs(self, seed: int, blocks: np.ndarray) -> Any:
        """log P(every token | what precedes) for (b, T) blocks: a torch tensor (b, T, V)."""
        ...


@runtime_checkable
class ScoresPositions(Protocol):
    """Gives the detectors' per-token statistics without the dense distribution (an
    n-gram's tables answer them directly)."""

    def position_stats(self, seed: int, blocks: np.ndarray) -> dict[str, np.ndarray]:
        """loglik, logrank, mean and variance of log p at every token of (m, L) blocks."""
        ...


@runtime_checkable
class ReadsPositions(Protocol):
    """A language model that reads sequences up to a fixed length (its position table)."""

    def positions(self) -> int:
        """The longest sequence it reads, in tokens, the begin token included."""
        ...


@runtime_checkable
class ScoresItems(Protocol):
    """Gives each item's log density under each seed's model (the verify defence)."""

    def item_log_density(self, x: np.ndarray) -> np.ndarray:
        """x (S, n, d) -> (S, n)."""
        ...


@runtime_checkable
class DecodesCodes(Protocol):
    """Decodes given latent codes (n, latent_size) with every seed's model: (S, n, d). The
    strip figure decodes the same codes with every generation's model."""

    @property
    def latent_size(self) -> int: ...

    def decode_codes(self, codes: np.ndarray) -> np.ndarray: ...


@runtime_checkable
class SamplesUnmarked(Protocol):
    """Can sample without the watermark it was made to apply (radioactivity)."""

    def sample_unmarked(self, n: int, rng: np.random.Generator) -> np.ndarray: ...


@runtime_checkable
class Pretrained(Protocol):
    """A model that starts from pretrained weights and can score text with them as they
    were, before any fine-tuning (the guard that fine-tuning did not wreck them)."""

    def pretrained_log_prob(self, blocks: np.ndarray) -> np.ndarray:
        """log p of each token of ``blocks`` (m, L) under the pretrained weights."""
        ...


@runtime_checkable
class HasMoments(Protocol):
    """A continuous model whose mean (S, d) and covariance (S, d, d) are known."""

    def moments(self) -> tuple[np.ndarray, np.ndarray]: ...


@runtime_checkable
class IsGaussian(Protocol):
    """A model whose law is one Gaussian per seed (the closed-form KL of two Gaussians)."""

    def gaussian_law(self) -> tuple[np.ndarray, np.ndarray]:
        """Its mean (S, d) and covariance (S, d, d), as fitted."""
        ...


@runtime_checkable
class Degenerates(Protocol):
    """A model that tells, per seed, whether its fit has collapsed or diverged.

    What "collapsed" means is the family's own (``Family.collapse`` says it in words);
    "diverged" means its fitted state overflowed float64 (holds inf or NaN).
    """

    def collapsed(self) -> np.ndarray:
        """(S,) bool."""
        ...

    def diverged(self) -> np.ndarray:
        """(S,) bool."""
        ...


def can(model: Any, capability: type) -> bool:
    """Whether ``model`` offers ``capability`` (one of this module's Protocols)."""
    return isinstance(model, capability)


def check(config: Config, model: Any) -> None:
    """Refuse settings that need a capability the family's model lacks."""
    name = config.family.name
    if config.family.exact and not can(model, SamplesStatistics):
        raise UserInputError(
            f"family '{name}' has no exact sufficient-statistics path; set family.exact = false"
        )
    device = config.experiment.device
    if device not in ("auto", "cpu") and not can(model, RunsOnDevice):
        raise UserInputError(
            f"experiment.device = {device!r} applies to the families that run on torch, not "
            f"'{name}'; set experiment.device = \"auto\""
        )


def effective_size(weight: np.ndarray) -> np.ndarray:
    """(sum w)^2 / sum w^2 per seed: how many items the weights are worth (k for k equal
    weights and the rest 0)."""
    return np.asarray(weight.sum(axis=1) ** 2 / (weight**2).sum(axis=1))


def resample(
    data: np.ndarray, weight: np.ndarray, rng: np.random.Generator, size: int | None = None
) -> np.ndarray:
    """``size`` items per seed (default n) drawn with replacement in proportion to
    ``weight`` (S, n): what a family that cannot weigh items fits instead."""
    rows = weighted_rows(weight, weight.shape[1] if size is None else size, rng)
    return np.take_along_axis(data, rows[..., None], axis=1)


def fit_items(model: Any, train: Any, step: Step, need: int = 1) -> Any:
    """Fit ``model`` to a training set: items (with their weights, if any) or statistics.

    A weighted set must keep at least ``need`` items (the family's smallest training set)
    in every seed. A model that cannot weigh items fits a resample of as many items as
    the weights are worth (their effective size). The "resample" stream is drawn only
    then, so an unweighted run draws exactly what it always has.
    """
    from model_collapse.core.data import Items

    if not isinstance(train, Items):
        return model.fit(train, step.rng("fit"))
    if train.weight is None:
        return model.fit(train.data, step.rng("fit"))
    weight = checked_weight(train.weight, need)
    if can(model, WeightedFit):
        return model.fit_weighted(train.data, weight, step.rng("fit"))
    size = max(need, int(np.rint(effective_size(weight).min())))
    return model.fit(resample(train.data, weight, step.rng("resample"), size), step.rng("fit"))


def rows_per_seed(weight: np.ndarray, rng: np.random.Generator) -> list[np.ndarray]:
    """The rows a family that fits each seed on its own trains on: every item as many times
    as its weight when the weights are whole numbers (a filter's 0 and 1, a resampler's
    counts), else a weighted draw of as many rows as the weights are worth."""
    if np.array_equal(weight, np.round(weight)):
        return [np.repeat(np.arange(len(w)), w.astype(np.int64)) for w in weight]
    sizes = np.rint(effective_size(weight)).astype(int)
    return [weighted_rows(w[None], max(1, k), rng)[0] for w, k in zip(weight, sizes, strict=True)]


def checked_weight(weight: np.ndarray, need: int = 1) -> np.ndarray:
    """Per-item weights a fit can use: finite, non-negative, and at least ``need`` items
    with weight in every seed."""
    weight = np.asarray(weight, dtype=float)
    if not np.isfinite(weight).all() or (weight < 0).any():
        raise UserInputError(
            "the regime gave a training item a negative or non-finite weight; "
            "weights must be finite and >= 0"
        )
    kept = (weight > 0).sum(axis=1)
    short = np.flatnonzero(kept < need)
    if short.size:
        seed = short[0]
        raise UserInputError(
            f"the regime kept {kept[seed]} item{'s' if kept[seed] != 1 else ''} of seed {seed} "
            f"(the others have weight 0), fewer than the {need} the family needs to fit; "
            "let it keep more"
        )
    return weight
