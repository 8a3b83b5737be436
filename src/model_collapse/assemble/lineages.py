"""The other lineages of a run on a shared web (``regime.lineages``), checked and put
together like the run's own family: each table names a role, a family section and,
optionally, sampling keys of that family; the rest of its config is the run's.

    [regime.lineages.writer]
    role = "teacher"
    family = {name = "FAMILY", ...}      # its family's keys, as in [family]

Each lineage's config is built by the one path every config takes (``config_from_dict``),
so its keys are refused in one line like any others, with the lineage named.
"""

from __future__ import annotations

from typing import Any

from model_collapse.assemble.checks import check_memory_before_data, check_run, generation_configs
from model_collapse.assemble.validate import config_from_dict
from model_collapse.config import Config, config_to_dict, replace
from model_collapse.config.schedules import config_at, scheduled_keys
from model_collapse.core.errors import UserInputError
from model_collapse.engine import capabilities
from model_collapse.engine.lineages import ROLES, Lineage
from model_collapse.families import FAMILIES
from model_collapse.metrics import METRICS, choose_metrics, make_reference
from model_collapse.sources import RealData

KEYS = ("role", "family", "sampling")


def tables_of(config: Config) -> dict[str, Any]:
    """The other lineages' tables a config names (none where its regime has no web)."""
    return dict(config.regime.params.get("lineages") or {})


def other_lineages(
    config: Config, real: RealData, names: list[str]
) -> tuple[tuple[Lineage, ...], list[str]]:
    """Each other lineage of a run (``config`` with its data sizes filled in), checked
    against the real data and the run's columns ``names``, and a note for each of those
    columns a lineage's family does not measure."""
    check_teacher(config, "regime.role")
    others, notes = [], []
    for index, (name, table) in enumerate(tables_of(config).items(), start=1):
        where = f"regime.lineages.{name}"
        check_name(where, name, config.family.name)
        own = lineage_config(where, config, table)  # its refusals name their keys
        try:
            lineage = one_lineage(name, index, own, config, real)
            lineage, missing = with_columns(lineage, names)
        except UserInputError as err:
            raise UserInputError(f"{where}: {err}") from None
        notes += [f"lineage {name}: {metric} is not measured for it; NaN" for metric in missing]
        others.append(lineage)
    return tuple(others), notes


# what pandas reads back as no value or as a boolean: metrics.csv's lineage column would
# lose the name
UNREADABLE = {"NA", "NULL", "NaN", "None", "nan", "null", "True", "False", "true", "false"}


def check_name(where: str, name: str, first: str) -> None:
    try:
        float(name)  # "inf", "nan", "infinity": read back as numbers
        number = True
    except ValueError:
        number = False
    if not name.isidentifier() or name == first or name in UNREADABLE or number:
        raise UserInputError(
            f"{where}: a lineage's name must be a word other than {first!r} (the run's own "
            "family's lineage) that reads back as itself (not NA, None, nan, true, ...); "
            "rename it"
        )


def check_teacher(config: Config, where: str) -> None:
    """A teacher samples every year with the model it fitted in generation 0: a schedule
    of its family's or sampling keys would never reach that model."""
    if config.regime.params.get("role") != "teacher":
        return
    # sampling.n is drawn afresh each year: a teacher's samples follow it
    own = [
        k
        for k in scheduled_keys(config)
        if k.split(".")[0] in ("family", "sampling") and k != "sampling.n"
    ]
    if own:
        raise UserInputError(
            f"{where} = teacher keeps its generation-0 model, which {own[0]}'s schedule would "
            "never reach; give it one value, or make the lineage a student or both"
        )


def lineage_config(where: str, config: Config, table: Any) -> Config:
    """The run's config with the lineage's family and sampling keys (and no lineages)."""
    if not isinstance(table, dict) or not isinstance(table.get("family"), dict):
        raise UserInputError(
            f'{where} must be a table with a family table: {{role = "teacher", family = '
            f'{{name = "..."}}}}, got {table!r}'
        )
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise UserInputError(f"{where}.{unknown[0]} is not a lineage's key; it has {KEYS}")
    if table.get("role", "both") not in ROLES:
        raise UserInputError(f"{where}.role must be one of {ROLES}, got {table['role']!r}")
    raw = config_to_dict(config)
    sampling = table.get("sampling", {})
    if not isinstance(sampling, dict) or "n" in sampling:
        raise UserInputError(
            f"{where}.sampling must be a table of its family's sampling keys; every "
            "lineage draws the run's sampling.n"
        )
    raw["family"] = dict(table["family"])
    raw["sampling"] = {"n": raw["sampling"]["n"], **sampling}
    raw["regime"] = {**raw["regime"], "lineages": {}, "role": table.get("role", "both")}
    raw["source"] = {k: v for k, v in raw["source"].items() if v is not None}
    try:
        return config_from_dict(raw)
    except UserInputError as err:
        raise UserInputError(f"{where}: {err}") from None


def one_lineage(name: str, index: int, config: Config, run: Config, real: RealData) -> Lineage:
    """A lineage put together and checked as a run's own family is (assemble.plan)."""
    family = FAMILIES.get(config.family.name)
    config = family.resolve(config) if family.resolve is not None else config
    if real.kind != family.kind:
        raise UserInputError(
            f"family {config.family.name!r} models {family.kind}, but the run's real data are "
            f"{real.kind}; give it a family of the same kind"
        )
    for section in ("source", "experiment"):  # read once, by the run's own family's settings
        mine, theirs = config_to_dict(config)[section], config_to_dict(run)[section]
        changed = next((key for key in mine if mine[key] != theirs.get(key)), None)
        if changed is not None:
            raise UserInputError(
                f"family {config.family.name!r} would set {section}.{changed} = "
                f"{mine[changed]!r} (the run has {theirs.get(changed)!r}), but the run's data "
                f"and device are its own family's; set {section}.{changed} = {mine[changed]!r} "
                "for the run, or give the lineage a family that reads the data as the run does"
            )
    check_teacher(config, "its role")
    for now in generation_configs(config):  # a schedule's every value, as a constant
        check_memory_before_data(now, family, True)
        check_run(now, family, _regime(config), real)
    first = config_at(config, 0)
    capabilities.check(first, family.make(first, real))
    role = str(config.regime.params.get("role", "both"))
    reference = make_reference(config, real)
    return Lineage(name, name, index, role, config, family, real, reference, {})


def with_columns(lineage: Lineage, names: list[str]) -> tuple[Lineage, list[str]]:
    """The lineage with its metrics among the run's columns; the columns it lacks: a metric
    that does not apply to its family, or that reads a service (a pretrained scorer, a
    classifier) the run builds for its own family's settings."""
    import dataclasses

    first = config_at(lineage.config, 0)
    every = dataclasses.replace(first, metrics=replace(first.metrics, names=[]))
    probe = lineage.family.make(first, lineage.real)
    own, _ = choose_metrics(every, lineage.reference, probe, lineage.config.family.exact)
    metrics = {
        name: METRICS.get(name) for name in names if name in own and not METRICS.get(name).services
    }
    lineage = dataclasses.replace(lineage, metrics=metrics)
    return lineage, [name for name in names if name not in metrics]


def _regime(config: Config) -> Any:
    from model_collapse.regimes import REGIMES

    return REGIMES.get(config.regime.name)
