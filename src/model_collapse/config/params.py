"""Parameters as plug-ins declare them: default, meaning, type and valid range.

A family, regime, source or metric lists its own parameters (``params={"order":
param(3, "tokens per n-gram", low=1, high=4)}``); the config validates each value against
the declaration of the plug-in the config names, with one message template for all:
"family.order must be in the range [1, 4], got 7".
"""

from __future__ import annotations

import math
import types
import typing
from dataclasses import dataclass
from typing import Any

from model_collapse.config.registry import did_you_mean
from model_collapse.core.errors import UserInputError

BIG = 1e100  # magnitudes of data parameters: their squares and sums stay far from overflow
MANY = 1_000_000_000  # counts of rows, samples and blocks; memory is checked separately


@dataclass(frozen=True)
class Param:
    """A declared parameter.

    Attributes
    ----------
    default : its value when the config does not give one; None with ``default_from``.
    doc : what it does, in a few words (``model-collapse init`` writes it beside the key).
    kind : its type: int, float, str, bool, a list of those, or a union (``str | float``).
    low, high, open_low, open_high : the valid range of numbers (and of list items).
    choices : the valid strings.
    path : a file or folder: kept absolute, so a saved config runs from any folder.
    default_from : "section.key" whose value a None default takes (e.g. "sampling.n").
    schedulable : it may change over generations (``config.schedules``): a schedule's
        table or a list of values, each generation's checked against the range.
    """

    default: Any
    doc: str
    kind: Any
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    open_low: bool = False
    open_high: bool = False
    path: bool = False
    default_from: str = ""
    schedulable: bool = False


def param(
    default: Any,
    doc: str,
    kind: Any = None,
    low: float | None = None,
    high: float | None = None,
    **limits: Any,
) -> Param:
    """A :class:`Param`; ``kind`` defaults to the type of ``default`` (so a None default
    needs its ``kind``, e.g. ``int | None``)."""
    if kind is None and default is None:
        raise TypeError(f"param(None, {doc!r}) needs kind=...: the type of its values")
    return Param(default, doc, type(default) if kind is None else kind, low, high, **limits)


def type_name(kind: Any) -> str:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return " or ".join(type_name(k) for k in typing.get_args(kind) if k is not type(None))
    if typing.get_origin(kind) is list:
        inner = type_name(typing.get_args(kind)[0]).split(" ", 1)[1]  # "a string" -> "string"
        return f"a list of {inner}s"
    names = {int: "an int", float: "a number", str: "a string", bool: "a boolean", dict: "a table"}
    return names[kind]


def coerce(value: Any, kind: Any) -> Any:
    """Return ``value`` as ``kind`` or raise TypeError; ints are accepted as floats."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(kind):
            if option is type(None) and value is None:
                return None
            try:
                return coerce(value, option)
            except TypeError:
                continue
        raise TypeError
    if origin is list:
        if not isinstance(value, list):
            raise TypeError
        return [coerce(item, typing.get_args(kind)[0]) for item in value]
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if (
        kind is type(None)
        or not isinstance(value, kind)
        or (kind is int and isinstance(value, bool))
    ):
        raise TypeError
    return value


def validated(key: str, value: Any, spec: Param) -> Any:
    """``value`` as the declared type, or one line naming the key, the rule and the value.
    A schedulable key's schedule is checked for its form here, and for its range at every
    generation once the config knows how many (``assemble.validate``)."""
    from model_collapse.config.schedules import is_schedule, normalised

    if is_schedule(value) and typing.get_origin(spec.kind) is not list:
        if not spec.schedulable:
            raise UserInputError(f"{key} takes one value; it cannot follow a schedule")
        return normalised(key, value)
    try:
        value = coerce(value, spec.kind)
    except TypeError:
        example = ""
        if typing.get_origin(spec.kind) is list and isinstance(value, str):
            example = f' (in --set: {key}=["{value}"])'
        raise UserInputError(
            f"{key} must be {type_name(spec.kind)}{example}, got {value!r}"
        ) from None
    check_value(key, value, spec)
    return value


def _flat(value: Any) -> list[Any]:
    if isinstance(value, list):
        return [item for part in value for item in _flat(part)]
    return [value]


def check_value(key: str, value: Any, spec: Param) -> None:
    """Refuse a value outside its declared range or choices, naming the key."""
    if isinstance(value, str) and spec.choices:
        if value not in spec.choices:
            valid = ", ".join(repr(c) for c in spec.choices)
            raise UserInputError(
                f"{key} must be one of {valid}, got {value!r};"
                f"{did_you_mean(value, list(spec.choices))}".rstrip(";")
            )
        return
    for number in _flat(value):
        if not isinstance(number, int | float) or isinstance(number, bool):
            continue
        low, high = spec.low, spec.high
        too_low = low is not None and (number <= low if spec.open_low else number < low)
        too_high = high is not None and (number >= high if spec.open_high else number > high)
        if not math.isfinite(number) or too_low or too_high:
            raise UserInputError(f"{key} must be in the range {valid_range(spec)}, got {number!r}")


def valid_range(spec: Param) -> str:
    """'[1, 10000]', '(0, 1)': a key's valid range as its check states it."""
    left = "(" if spec.open_low else "["
    right = ")" if spec.open_high else "]"
    low = "-inf" if spec.low is None else _number(spec.low)
    high = "inf" if spec.high is None else _number(spec.high)
    return f"{left}{low}, {high}{right}"


def _number(value: float) -> str:
    """1000000 as it is, 1e+100 as that: bounds read the way one would type them."""
    return str(int(value)) if float(value).is_integer() and abs(value) < 1e15 else f"{value:g}"


def describe(spec: Param) -> str:
    """The comment ``init`` writes beside a key: meaning, choices and range."""
    text = spec.doc
    if spec.choices:
        text += f"; one of {', '.join(repr(c) for c in spec.choices)}"
    if spec.low is not None or spec.high is not None:
        text += f"; {'or ' if spec.choices else ''}in {valid_range(spec)}"
    return text
