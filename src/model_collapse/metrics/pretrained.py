"""The pretrained model's own test perplexity: the level fine-tuning must not wreck.

A family that starts from pretrained weights (``Pretrained``: hf) gets a column
``pretrained_perplexity``: the real test blocks scored with the weights as they were.
It is computed once per run by the service ``pretrained`` (saved with the run, so a resume
does not score again). ``test_perplexity`` is guarded against it: if fine-tuning on real
data made generation 0 worse than ``FACTOR`` times the pretrained model, the run log and the
console warn and the figure says so.
"""

from __future__ import annotations

from typing import Any, Self

import numpy as np

from model_collapse.config import Config
from model_collapse.engine.capabilities import Pretrained, can
from model_collapse.engine.step import Step
from model_collapse.metrics.base import METRICS, Guard, Metric, Reference
from model_collapse.services import SERVICES, Service
from model_collapse.sources.base import RealData

# Fine-tuning on real text may cost a little on other real text; 1.2x is far more than a
# sensible learning rate costs, far less than a from-scratch one does (about 30x).
FACTOR = 1.2
GUARD = Guard(
    "pretrained_perplexity",
    FACTOR,
    "fine-tuning made the pretrained model worse on real text; lower family.learning_rate",
)


class PretrainedScore:
    """The real test blocks' perplexity under the pretrained weights (one number)."""

    def __init__(self, config: Config, real: RealData) -> None:
        self.config, self.real = config, real

    def fit(self, real: RealData, rng: np.random.Generator) -> Self:
        from model_collapse.families import FAMILIES

        model = FAMILIES.get(self.config.family.name).make(self.config, real)
        assert isinstance(model, Pretrained)  # the metric that needs this service says so
        log_p = model.pretrained_log_prob(real.test)
        self.perplexity_ = np.array([np.exp(-log_p.mean())])
        return self

    def get_state(self) -> dict[str, np.ndarray]:
        return {"perplexity_": self.perplexity_}

    def set_state(self, state: dict[str, np.ndarray]) -> Self:
        self.perplexity_ = state["perplexity_"]
        return self


def pretrained_perplexity(step: Step) -> np.ndarray:
    value = step.services["pretrained"].perplexity_[0]
    return np.full(step.config.experiment.seeds, value)


def _pretrained(reference: Reference, model: Any, exact: bool) -> bool:
    return can(model, Pretrained)


SERVICES.register("pretrained")(
    Service(PretrainedScore, "the real test text's perplexity under the pretrained weights")
)
METRICS.register("pretrained_perplexity")(
    Metric(
        ("text",),
        pretrained_perplexity,
        _pretrained,
        "perplexity of the real test text under the pretrained weights (before fine-tuning)",
        services=("pretrained",),
        needs="a family that starts from pretrained weights (family.name = 'hf')",
        better="lower",
    )
)
