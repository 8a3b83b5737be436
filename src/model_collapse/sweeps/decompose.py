"""``run --decompose``: the two causes of collapse apart, as three arms of one config.

- ``ordinary``: the loop as configured.
- ``statistical-only``: the same sizes with no functional error: a family whose
  maximum-likelihood fit holds the truth exactly (the truth says which: a Gaussian's, a
  categorical's), else the ``empirical`` family, which redraws its training rows
  (``empirical-text`` for token blocks).
- ``functional-only``: the chosen family fitted on ``LARGE`` times as many rows each
  generation (and generation 0 on as many real rows), where sampling error all but
  vanishes: its drift is the family's own (a fit that misses, a shape it cannot hold).
  Text comes from a corpus, not a distribution: its generation 0 trains on the same real
  blocks as the other arms (that sampling error is in all three), and later generations
  on ``LARGE_TEXT`` times as many generated blocks (a language model writes and trains on
  each one; a hundred times as many would take a hundred times as long).

The arms run as a suite through the sweep engine; the verdict
(:mod:`model_collapse.output.decomposition`) names the cause whose arm drifts more.
"""

from __future__ import annotations

from model_collapse.config import Config, config_to_dict
from model_collapse.core.errors import UserInputError

ORDINARY, STATISTICAL, FUNCTIONAL = "ordinary", "statistical-only", "functional-only"
# the functional arm's rows per generation over the ordinary's: its sampling error's
# spread is a tenth of the ordinary loop's
LARGE = 100
# the same for token blocks: their spread a third of the ordinary loop's
LARGE_TEXT = 10
# the statistical-only family where no family holds the truth, by the data's kind
EMPIRICAL = {"continuous": "empirical", "text": "empirical-text"}


def decompose_configs(config: Config) -> dict[str, Config]:
    """The three arms' checked configs; a config without a truth to draw from, one line."""
    from model_collapse.assemble.validate import config_from_dict
    from model_collapse.engine.lineages import refuse_several
    from model_collapse.families import FAMILIES
    from model_collapse.sources.base import HeldByFamily, load_real_data

    refuse_several(config, "--decompose")
    if isinstance(config.sampling.n, dict):  # the arms are sized from one n
        raise UserInputError(
            "--decompose sizes its arms from one sampling.n; give it one value, not a schedule"
        )
    family = FAMILIES.get(config.family.name)
    real = load_real_data(config, family.kind)
    n = config.sampling.n or real.train.shape[1]  # 0: as many as the real training rows
    if family.kind == "text":
        return _text_arms(config, n)
    if real.truth is None:
        raise UserInputError(
            f"--decompose draws as many real rows as its functional arm needs; source "
            f"{config.source.name!r} holds a fixed sample: use a source with a distribution "
            "(gaussian, gmm, student_t, moons, zipf)"
        )
    exact = (
        real.truth.exact_family
        if isinstance(real.truth, HeldByFamily)
        else EMPIRICAL.get(family.kind, "")
    )
    if not exact or FAMILIES.get(exact).kind != family.kind:
        raise UserInputError(
            f"--decompose has no statistical-only family for {family.kind} data from source "
            f"{config.source.name!r}; it decomposes vectors, categories and text"
        )
    raw = config_to_dict(config)
    statistical = {**raw, "family": {"name": exact}, "sampling": {"n": n}}
    rows = {"n": n * LARGE}
    functional = {
        **raw,
        "sampling": {**raw["sampling"], **rows},
        "source": {**raw["source"], "n_train": (config.source.n_train or n) * LARGE},
    }
    return {
        ORDINARY: config,
        STATISTICAL: config_from_dict(statistical),
        FUNCTIONAL: config_from_dict(functional),
    }


def _text_arms(config: Config, n: int) -> dict[str, Config]:
    """A language model's arms: blocks redrawn whole, and LARGE_TEXT times the blocks."""
    from model_collapse.assemble.validate import config_from_dict

    raw = config_to_dict(config)
    statistical = {
        **raw,
        "family": {"name": EMPIRICAL["text"]},
        "sampling": {"n": n},
    }
    functional = {**raw, "sampling": {**raw["sampling"], "n": n * LARGE_TEXT}}
    return {
        ORDINARY: config,
        STATISTICAL: config_from_dict(statistical),
        FUNCTIONAL: config_from_dict(functional),
    }


def arm_overrides(configs: dict[str, Config]) -> dict[str, list[str]]:
    """What each arm changes, in words for the suite's tables."""
    return {
        ORDINARY: [],
        STATISTICAL: [f"family.name={configs[STATISTICAL].family.name}"],
        FUNCTIONAL: [f"sampling.n={configs[FUNCTIONAL].sampling.n}"],
    }
