"""Model lineages: several models, of one family or of several, writing into one web.

A run has one lineage, the family its config names, unless its regime holds a shared
pool (the ``web``) and its config names others (``regime.lineages``). Each lineage fits
its own model every generation, samples, and is measured on its own; what the writing
lineages publish joins the web every lineage learns from. A lineage's role says which it
does:

- ``both``: learns from the web and writes into it (a single-lineage run's only role);
- ``teacher``: only writes, with the model it fitted on the real data in generation 0
  (a stronger model whose outputs others learn from);
- ``student``: only learns; a student that trains from scratch on every year's web is the
  probe of the first movers' advantage: it never pollutes what it measures.

The first lineage keeps the random streams and files of a single-lineage run, so such a
run is byte-identical to what it always was; another lineage's streams carry its name
(:func:`model_collapse.core.rng.of_lineage`) and its checkpoints and sample files go in
folders of that name.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from model_collapse.config import Config
from model_collapse.config.schedules import config_at
from model_collapse.core import data

if TYPE_CHECKING:
    from model_collapse.families import Family, Model
    from model_collapse.metrics import Metric, Reference
    from model_collapse.sources import RealData

ROLES = ("both", "teacher", "student")
LINEAGE = "lineage"  # metrics.csv's column, there only when a run has several lineages


@dataclass(frozen=True)
class Lineage:
    """One lineage of a run: its name, role, config and what measures it.

    Attributes
    ----------
    name : what metrics.csv's ``lineage`` column calls it (the first: its family's name).
    tag : "" for the first lineage (today's streams and files), else its name.
    index : its place in the run (0 for the first): what ``Items.lineage`` records.
    role : both, teacher or student.
    config : the run's config with this lineage's family and sampling keys.
    family, real, reference, metrics : its family, the run's real data, what its metrics
        compare with, and its metrics by name (the run's columns it has).
    """

    name: str
    tag: str
    index: int
    role: str
    config: Config
    family: Family
    real: RealData
    reference: Reference
    metrics: dict[str, Metric]

    @property
    def learns(self) -> bool:
        return self.role != "teacher"

    @property
    def writes(self) -> bool:
        return self.role != "student"

    def new_model(self, generation: int = 0) -> Model:
        """An unfitted model, made with that generation's config."""
        return self.family.make(config_at(self.config, generation), self.real)

    def file(self, name: str) -> str:
        """A checkpoint's or sample file's name for this lineage (the first: as it was)."""
        return f"{self.tag}/{name}" if self.tag else name


def published(lineages: list[Lineage], synthetic: list[Any]) -> Any:
    """What a generation adds to the history the regime reads: the samples of every
    lineage that writes (a single lineage's: its samples themselves, as always)."""
    parts = [s for lineage, s in zip(lineages, synthetic, strict=True) if lineage.writes]
    if len(parts) == 1:
        return parts[0]
    if not parts:  # nobody writes: the web gains only human data
        return data.head(synthetic[0], 0)
    return data.concat(parts)


def split(metrics: Any) -> list[tuple[str, Any]]:
    """A metrics table per lineage, without the ``lineage`` column, in the run's order;
    a run of one lineage: [("", metrics)]."""
    if LINEAGE not in metrics.columns:
        return [("", metrics)]
    names = list(dict.fromkeys(metrics[LINEAGE]))
    return [
        (str(name), metrics[metrics[LINEAGE] == name].drop(columns=LINEAGE).reset_index(drop=True))
        for name in names
    ]


def refuse_several(config: Config, where: str) -> None:
    """Sweeps, suites and budgets read runs of one lineage: their tables, comparisons and
    searches have one row per seed and generation. A run of several is refused there."""
    from model_collapse.core.errors import UserInputError

    if config.regime.params.get("lineages"):
        raise UserInputError(
            f"{where}: a run with several model lineages (regime.lineages) runs on its own, "
            "not in a sweep, a suite or --decompose; run it with `model-collapse run`"
        )
