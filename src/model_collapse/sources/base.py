"""Real data: the contract every source meets, and the registry of sources."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from model_collapse.config import Config, SourceConfig
from model_collapse.config.params import MANY, Param, param
from model_collapse.config.registry import Registry
from model_collapse.config.sizes import Shape
from model_collapse.core.errors import UserInputError
from model_collapse.core.rng import SOURCE_TEST, SOURCE_TRAIN, random_subsets, stream

Kind = Literal["continuous", "categorical", "regression", "text", "image"]


class Truth(Protocol):
    """A ground truth that can be sampled; densities and moments where known.

    ``mean`` and ``cov`` are None where no closed form exists; ``probs`` is set for
    categorical truths only.
    """

    @property
    def dim(self) -> int: ...

    @property
    def mean(self) -> np.ndarray | None:
        """(d,) or None."""
        ...

    @property
    def cov(self) -> np.ndarray | None:
        """(d, d) or None."""
        ...

    def sample(self, shape: tuple[int, ...], rng: np.random.Generator) -> np.ndarray:
        """Draw samples of shape ``(*shape, d)``."""
        ...


@runtime_checkable
class KnowsProbabilities(Protocol):
    """A categorical truth whose category probabilities are known (zipf)."""

    @property
    def probs(self) -> np.ndarray:
        """(K,)."""
        ...

    @property
    def categories(self) -> int: ...


@runtime_checkable
class KnowsWeights(Protocol):
    """A regression truth whose weights and noise are known (linear): rows ``[x, y]`` with
    x ~ N(0, I) and y = x . weights + noise * N(0, 1)."""

    @property
    def weights(self) -> np.ndarray:
        """(d,)."""
        ...

    @property
    def noise(self) -> float: ...


@runtime_checkable
class HeldByFamily(Protocol):
    """A truth that a family's maximum-likelihood fit holds exactly (a Gaussian, a
    categorical): that family's refits err by sampling alone."""

    @property
    def exact_family(self) -> str: ...


def true_probabilities(truth: Truth | None) -> np.ndarray | None:
    """The truth's category probabilities where it knows them, else None."""
    return np.asarray(truth.probs) if isinstance(truth, KnowsProbabilities) else None


class Fresh(Protocol):
    """Real rows never used before: (S, k, d) for generation ``generation``, after the
    ``used`` rows earlier generations took (None: (generation - 1) k)."""

    def __call__(
        self, generation: int, k: int, rng: np.random.Generator, used: int | None = None
    ) -> np.ndarray: ...


@dataclass(frozen=True)
class RealData:
    """The real (human) data of one run, with a leading seed axis on the training set.

    Attributes
    ----------
    kind : data kind: continuous vectors, category indices or regression rows ``[x, y]``.
    train : (S, n_train, d) generation 0's training set per seed.
    test : (m, d) held-out real data shared by all seeds.
    truth : the true distribution, or None for user data.
    fresh : draws (S, k, d) real rows never used before, for generation ``t``, after the
        ``used`` rows earlier generations took (default (t - 1) k: the same k each time).
    categories : number of categories K, or the vocabulary size for text.
    validation : (v, d) real validation data where the source has a split for it.
    decode : turns token ids back into text (text kind only).
    bos : the token that begins every sequence for a neural model (text kind only).
    encode : turns texts into token ids with the same tokenizer (text kind only).
    image_shape : (height, width) or (height, width, channels) of each image, whose
        pixels, floats in [0, 1], make one row (image kind only).
    labels : (S, n_train) class of each training image, where the source knows them.
    test_labels : (m,) class of each test image, likewise.
    """

    kind: Kind
    train: np.ndarray
    test: np.ndarray
    truth: Truth | None
    fresh: Fresh
    categories: int = 0
    validation: np.ndarray | None = None
    decode: Callable[[list[int]], str] | None = None
    bos: int = -1
    encode: Callable[[list[str]], list[list[int]]] | None = None  # texts to token ids
    image_shape: tuple[int, ...] = ()
    labels: np.ndarray | None = None
    test_labels: np.ndarray | None = None

    def digest(self) -> str:
        """SHA-256 of the real data a run uses: a resumed run must see the same numbers."""
        import hashlib

        digest = hashlib.sha256(f"{self.kind}/{self.categories}/{self.bos}".encode())
        if self.image_shape:  # only where there are images: older runs keep their digest
            digest.update(f"image{self.image_shape}".encode())
        for array in (self.train, self.test, self.validation, self.labels, self.test_labels):
            if array is not None:
                digest.update(f"{array.dtype}{array.shape}".encode())
                digest.update(np.ascontiguousarray(array).tobytes())
        return digest.hexdigest()


def draw_per_seed(
    config: Config, pool: np.ndarray, where: str, unit: str
) -> tuple[np.ndarray, Fresh]:
    """Each seed's training rows from a finite pool, and a source of never-used rows.

    Each seed sees its own random order of the pool: generation 0 takes the first
    ``source.n_train`` rows; the fresh regime takes the next ones, in order.
    """
    n_train = len(pool) if config.source.n_train == 0 else config.source.n_train or len(pool)
    seeds = config.experiment.seeds
    if n_train > len(pool):
        raise UserInputError(
            f"{where}: source.n_train = {n_train} but only {len(pool)} {unit} are left for "
            f"training; set source.n_train <= {len(pool)}"
        )
    order = random_subsets(
        stream(config.experiment.seed, "source", SOURCE_TRAIN), seeds, len(pool), len(pool)
    )

    def fresh(
        generation: int, k: int, rng: np.random.Generator, used: int | None = None
    ) -> np.ndarray:
        start = n_train + ((generation - 1) * k if used is None else used)
        if start + k > len(pool):
            raise UserInputError(
                f"{where}: the fresh regime needs {k} new real {unit} at generation {generation} "
                f"but only {len(pool)} exist for training; use fewer generations, a smaller "
                "regime.real_fraction, or more data"
            )
        return pool[order[:, start : start + k]]

    return pool[order[:, :n_train]], fresh


@dataclass(frozen=True)
class Source:
    """A registered source: the data kinds it offers and how to load it."""

    kinds: tuple[Kind, ...]
    load: Callable[[Config, Kind], RealData]
    description: str
    params: dict[str, Param] = field(default_factory=dict)  # its own source.* keys
    # its data's shape from the config alone, for the memory check before any data are
    # read; None where only the data tell (a file's columns)
    shape: Callable[[SourceConfig, Kind], Shape] | None = None


SOURCES: Registry[Source] = Registry("source")


def _truth_shape(source: SourceConfig, kind: Kind) -> Shape:
    """A truth's rows: source.dim numbers (2 where it has none: moons), and the label of a
    regression; one category of source.categories."""
    given = source.params
    if kind == "categorical":
        return Shape(1, given.get("categories", 0), source.n_test)
    return Shape(max(given.get("dim", 2), 2) + (kind == "regression"), 0, source.n_test)


def truth_source(
    kind: Kind, description: str, params: dict[str, Param]
) -> Callable[[Callable[[SourceConfig], Truth]], Callable[[SourceConfig], Truth]]:
    """Register a ground truth: train and test sets are drawn from it."""

    def wrap(make_truth: Callable[[SourceConfig], Truth]) -> Callable[[SourceConfig], Truth]:
        def load(config: Config, wanted: Kind) -> RealData:
            truth = make_truth(config.source)
            root, seeds = config.experiment.seed, config.experiment.seeds
            n_train = config.source.n_train or config.sampling.n
            if not n_train:
                raise UserInputError(
                    f"source '{config.source.name}' is a distribution: source.n_train and "
                    "sampling.n must be at least 1 (0, all rows, is for data sets)"
                )
            train = truth.sample((seeds, n_train), stream(root, "source", SOURCE_TRAIN))
            test = truth.sample((config.source.n_test,), stream(root, "source", SOURCE_TEST))

            def fresh(
                generation: int, k: int, rng: np.random.Generator, used: int | None = None
            ) -> np.ndarray:
                return truth.sample((seeds, k), rng)  # a distribution: every draw is new

            categories = truth.categories if isinstance(truth, KnowsProbabilities) else 0
            return RealData(kind, train, test, truth, fresh, categories)

        name = make_truth.__name__.removeprefix("make_")
        test = {"n_test": param(10000, "held-out real rows (the test set)", low=2, high=MANY)}
        SOURCES.register(name)(
            Source((kind,), load, description, {**params, **test}, shape=_truth_shape)
        )
        return make_truth

    return wrap


def load_real_data(config: Config, kind: Kind) -> RealData:
    """Load the configured source as data of ``kind``, refusing a mismatch."""
    source = SOURCES.get(config.source.name)
    if kind not in source.kinds:
        offers = " or ".join(source.kinds)
        raise UserInputError(
            f"source '{config.source.name}' gives {offers} data but family "
            f"'{config.family.name}' needs {kind} data; choose another source.name or family.name"
        )
    return source.load(config, kind)
