"""Values that change over generations: a numeric key that its plug-in marks schedulable
(``Param(..., schedulable=True)``: ``regime.real_fraction``, ``sampling.bias``,
``sampling.temperature``; a section's own count ``sampling.n``, whose values are rounded
to whole numbers) takes a schedule instead of one number:

- ``{schedule = "linear", start = 1.0, end = 0.2}``: a straight line from generation 0 to
  the last;
- ``{schedule = "exponential", start = 1.0, rate = -0.3}``: start x exp(rate x g);
- ``{schedule = "step", generations = [0, 3, 6], values = [1.0, 0.5, 0.2]}``: each value
  from its generation on;
- ``[1.0, 0.8, ...]``: one value per generation.

A schedule is kept in the config as a table (a list becomes ``{schedule = "list", values =
[...]}``), so the saved config.toml and a sweep write it as given. ``config_at(config, g)``
is the one resolver: the config of generation g, every schedule replaced by its value.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from typing import Any

from model_collapse.core.errors import UserInputError

# each kind's keys besides "schedule"
KINDS: dict[str, tuple[str, ...]] = {
    "linear": ("start", "end"),
    "exponential": ("start", "rate"),
    "step": ("generations", "values"),
    "list": ("values",),
}


def is_schedule(value: Any) -> bool:
    """A schedule as given (a table naming its kind, or a list) or as kept."""
    return (isinstance(value, dict) and "schedule" in value) or isinstance(value, list)


def normalised(key: str, value: Any) -> dict[str, Any]:
    """A schedule's table with its kind and keys checked (its values are checked per
    generation once the number of generations is known); a list as ``list``."""
    table = {"schedule": "list", "values": value} if isinstance(value, list) else dict(value)
    kind = table.get("schedule")
    if kind not in KINDS:
        raise UserInputError(
            f"{key}: unknown schedule {kind!r}; the schedules are {', '.join(KINDS)}"
        )
    wanted = set(KINDS[kind])
    if set(table) - {"schedule"} != wanted:
        keys = ", ".join(sorted(wanted))
        raise UserInputError(f'{key}: a "{kind}" schedule takes {keys}, got {sorted(table)}')
    for name in wanted:
        numbers = table[name] if isinstance(table[name], list) else [table[name]]
        if name in ("generations", "values") and not isinstance(table[name], list):
            raise UserInputError(f"{key}: the schedule's {name} must be a list")
        if not numbers or not all(_number(x) for x in numbers):
            raise UserInputError(
                f"{key}: the schedule's {name} must be numbers, got {table[name]!r}"
            )
    if kind == "step":
        _check_steps(key, list(table["generations"]), list(table["values"]))
    return table


def _number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)


def _check_steps(key: str, generations: list[Any], values: list[Any]) -> None:
    if len(generations) != len(values):
        raise UserInputError(
            f"{key}: a step schedule gives one value per listed generation: "
            f"{len(generations)} generations, {len(values)} values"
        )
    if generations[0] != 0 or any(b <= a for a, b in itertools.pairwise(generations)):
        raise UserInputError(
            f"{key}: a step schedule's generations start at 0 and increase, got {generations}"
        )


def values_of(key: str, table: dict[str, Any], generations: int) -> list[float]:
    """The schedule's value at each of ``generations`` generations."""
    kind = table["schedule"]
    if kind == "list":
        if len(table["values"]) != generations:
            raise UserInputError(
                f"{key}: a schedule list gives one value per generation: "
                f"{generations} generations, {len(table['values'])} values"
            )
        return [float(v) for v in table["values"]]
    if kind == "linear":
        start, end = float(table["start"]), float(table["end"])
        last = max(generations - 1, 1)
        # the ends exactly: a constant line gives the constant, bit for bit
        return [start if g == 0 else end if g == last else start + (end - start) * g / last
                for g in range(generations)]  # fmt: skip
    if kind == "exponential":
        try:
            return [
                float(table["start"]) * math.exp(float(table["rate"]) * g)
                for g in range(generations)
            ]
        except OverflowError:
            raise UserInputError(
                f"{key}: the exponential schedule overflows by generation {generations - 1}; "
                "lower its rate"
            ) from None
    steps = list(zip(table["generations"], table["values"], strict=True))
    return [float(next(v for at, v in reversed(steps) if at <= g)) for g in range(generations)]


def describe(table: dict[str, Any]) -> str:
    """A schedule in a few words, for figures and labels: "linear 1 to 0.2"."""
    kind = table["schedule"]
    if kind == "linear":
        return f"linear {table['start']:g} to {table['end']:g}"
    if kind == "exponential":
        return f"{table['start']:g} x exp({table['rate']:g} g)"
    values = table["values"]
    return f"{kind} {values[0]:g} to {values[-1]:g}"


def scheduled_keys(config: Any) -> dict[str, dict[str, Any]]:
    """Every scheduled key of a config, as "section.key": its table (a plug-in's key, or a
    section's own, as sampling.n)."""
    found = {}
    for section in dataclasses.fields(config):
        body = getattr(config, section.name)
        own = {
            f.name: getattr(body, f.name) for f in dataclasses.fields(body) if f.name != "params"
        }
        for key, value in {**own, **getattr(body, "params", {})}.items():
            if isinstance(value, dict) and "schedule" in value:
                found[f"{section.name}.{key}"] = value
    return found


def value_at(config: Any, dotted: str) -> Any:
    """A key's value in a config: a section's own field, or its plug-in's."""
    section, key = dotted.split(".", 1)
    body = getattr(config, section)
    return body.params[key] if key in getattr(body, "params", {}) else getattr(body, key)


def fewest(value: Any, generations: int) -> Any:
    """A count's smallest value over the run: a schedule's, or the count itself."""
    if isinstance(value, dict) and "schedule" in value:
        return round(min(values_of("", value, generations)))
    return value


def config_at(config: Any, generation: int) -> Any:
    """The config of one generation: every schedule replaced by its value there (the
    config itself where none is scheduled)."""
    scheduled = scheduled_keys(config)
    if not scheduled:
        return config
    generations = config.experiment.generations
    sections: dict[str, Any] = {}
    for dotted, table in scheduled.items():
        section, key = dotted.split(".", 1)
        body = sections.get(section, getattr(config, section))
        value = values_of(dotted, table, generations)[generation]
        own = {f.name: f.type for f in dataclasses.fields(body)}
        if key in own:  # a section's own field: a count (sampling.n) takes whole values
            whole = str(own[key]) in ("int", "<class 'int'>")
            sections[section] = dataclasses.replace(body, **{key: round(value) if whole else value})
        else:
            sections[section] = dataclasses.replace(body, params={**body.params, key: value})
    return dataclasses.replace(config, **sections)
