"""Run-scoped services: helpers a run builds once and every generation reuses.

A classifier trained on the real images, a detector calibrated on human text, a scoring
model: a regime or a metric that needs one names it in its ``services``, and reads it as
``step.services[name]``. A service is built once per run, before generation 0, from its
own random stream, and saved with the run (``checkpoints/service-NAME.safetensors``,
listed and checksummed in the state), so a resumed run loads it instead of building it
again, and gets the very same helper.

A service's helper has scikit-learn's shape: ``make(config, real)`` stores settings
only, ``fit(real, rng)`` learns (and returns the helper), ``get_state``/``set_state``
carry the learned arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, Self, runtime_checkable

import numpy as np

from model_collapse.config import Config
from model_collapse.config.registry import Registry
from model_collapse.core.rng import stream

if TYPE_CHECKING:  # types only: the run layer imports this registry, and no plug-in
    from model_collapse.engine.store import RunStore
    from model_collapse.sources.base import RealData


@runtime_checkable
class Summarised(Protocol):
    """A helper that can say how good it is (a classifier's test accuracy), for the log."""

    def summary(self) -> str: ...


class Helper(Protocol):
    """What a service builds: fitted once to the real data, saved as named arrays."""

    def fit(self, real: RealData, rng: np.random.Generator) -> Self: ...

    def get_state(self) -> dict[str, np.ndarray]: ...

    def set_state(self, state: dict[str, np.ndarray]) -> Self: ...


@dataclass(frozen=True)
class Service:
    """A registered service: how to make its (unfitted) helper, and what it is for."""

    make: Callable[[Config, RealData], Helper]
    description: str


SERVICES: Registry[Service] = Registry("service")


def needed(*declared: tuple[str, ...]) -> list[str]:
    """The services some plug-ins of a run declare, once each, in the order declared;
    an unknown name is refused with "did you mean"."""
    names = list(dict.fromkeys(name for names in declared for name in names))
    for name in names:
        SERVICES.get(name)
    return names


def open_services(
    names: list[str],
    config: Config,
    real: RealData,
    store: RunStore,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Each service's helper: loaded from the run directory if it was saved there, else
    fitted from its own stream ("service:NAME") and saved. A helper that can say how good
    it is (:class:`Summarised`) says it to ``log`` while generation 0 is still to come."""
    helpers = {}
    for name in names:
        helper = SERVICES.get(name).make(config, real)
        saved = store.load_service_state(name)
        if saved is not None:
            helpers[name] = helper.set_state(saved)
        else:
            rng = stream(config.experiment.seed, f"service:{name}", 0)
            helpers[name] = helper.fit(real, rng)
            store.save_service_state(name, helpers[name].get_state())
        said = helpers[name]
        if store.start == 0 and isinstance(said, Summarised):
            log(f"service {name}: {said.summary()}")
    return helpers
