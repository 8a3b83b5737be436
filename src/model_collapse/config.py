"""One frozen, typed config, reached from TOML, ``--set`` overrides and Python dicts.

Every path goes through :func:`config_from_dict`, which refuses unknown keys, wrong
types and out-of-range values with one line that names the key.
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_collapse.errors import UserInputError
from model_collapse.registry import did_you_mean


def _spec(
    default: Any,
    low: float | None = None,
    high: float | None = None,
    choices: tuple[str, ...] = (),
    open_low: bool = False,
) -> Any:
    """A dataclass field with its valid range: checked by :func:`_check_value`."""
    meta = {"low": low, "high": high, "choices": choices, "open_low": open_low}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


@dataclass(frozen=True)
class ExperimentConfig:
    generations: int = _spec(10, low=1)
    seeds: int = _spec(10, low=1)
    seed: int = _spec(0, low=0)
    keep_checkpoints: bool = (
        False  # every generation's model, not only generation 0's and the latest
    )


@dataclass(frozen=True)
class SourceConfig:
    name: str = "gaussian"
    path: str = ""
    dim: int = _spec(1, low=1)
    mean: list[float] = _spec([])
    std: float = _spec(1.0, low=0.0, open_low=True)
    cov: list[list[float]] = _spec([])
    correlation: float = _spec(0.0, low=-1.0, high=1.0)
    components: int = _spec(3, low=1)
    spread: float = _spec(4.0, low=0.0)
    df: float = _spec(3.0, low=2.0, open_low=True)
    categories: int = _spec(100, low=2)
    exponent: float = _spec(1.1, low=0.0)
    noise: float = _spec(0.1, low=0.0)
    n_train: int | None = _spec(None, low=0)  # 0: every training row of a finite source
    n_test: int = _spec(10000, low=2)
    test_fraction: float = _spec(0.2, low=0.0, high=1.0, open_low=True)
    validation_fraction: float = _spec(0.1, low=0.0, high=1.0)
    vocab_size: int = _spec(4096, low=257)
    block_size: int = _spec(64, low=2)
    max_documents: int = _spec(0, low=0)
    text_field: str = "text"
    tokenizer: str = ""  # a Hugging Face model directory whose tokenizer to use; "" trains a BPE


@dataclass(frozen=True)
class FamilyConfig:
    name: str = "gaussian"
    estimator: str = _spec("mle", choices=("mle", "unbiased"))
    exact: bool = False
    components: int = _spec(2, low=1)
    covariance: str = _spec("full", choices=("full", "diag"))
    max_iter: int = _spec(100, low=1)
    tol: float = _spec(1e-3, low=0.0, open_low=True)
    reg_covar: float = _spec(1e-6, low=0.0)
    bandwidth: str | float = _spec("scott", low=0.0, open_low=True, choices=("scott", "silverman"))
    order: int = _spec(3, low=1, high=4)
    n_layer: int = _spec(2, low=1)
    n_head: int = _spec(4, low=1)
    n_embd: int = _spec(128, low=1)
    context: int = _spec(160, low=2)
    epochs: int = _spec(1, low=1)
    batch_size: int = _spec(32, low=1)
    learning_rate: float = _spec(3e-3, low=0.0, open_low=True)
    weight_decay: float = _spec(0.1, low=0.0)
    init: str = _spec("scratch", choices=("scratch", "gen0", "previous"))
    model_path: str = ""


@dataclass(frozen=True)
class RegimeConfig:
    name: str = "replace"
    real_fraction: float = _spec(0.1, low=0.0, high=1.0)
    size: int | None = _spec(None, low=0)  # 0: sampling.n


@dataclass(frozen=True)
class SamplingConfig:
    n: int = _spec(1000, low=0)  # 0: as many as the real training set holds
    bias: float = _spec(1.0, low=0.0, open_low=True)
    temperature: float = _spec(1.0, low=0.0, open_low=True)
    top_k: int = _spec(0, low=0)
    top_p: float = _spec(1.0, low=0.0, high=1.0, open_low=True)
    repetition_penalty: float = _spec(1.0, low=0.0, open_low=True)
    beams: int = _spec(1, low=1)


@dataclass(frozen=True)
class MetricsConfig:
    names: list[str] = _spec([])
    projections: int = _spec(50, low=1)


@dataclass(frozen=True)
class Config:
    """The whole experiment: what :func:`model_collapse.run` and ``model-collapse run`` take."""

    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    family: FamilyConfig = field(default_factory=FamilyConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)


SECTIONS: dict[str, type] = {f.name: f.type for f in dataclasses.fields(Config)}  # type: ignore[misc]
SECTIONS = {name: typing.get_type_hints(Config)[name] for name in SECTIONS}


def _type_name(kind: Any) -> str:
    if typing.get_origin(kind) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(k) for k in typing.get_args(kind) if k is not type(None))
    if typing.get_origin(kind) is list:
        return f"a list of {_type_name(typing.get_args(kind)[0])}s"
    return {int: "an int", float: "a number", str: "a string", bool: "a boolean"}[kind]


def _coerce(value: Any, kind: Any) -> Any:
    """Return ``value`` as ``kind`` or raise TypeError; ints are accepted as floats."""
    origin = typing.get_origin(kind)
    if origin in (typing.Union, types.UnionType):
        for option in typing.get_args(kind):
            if option is type(None) and value is None:
                return None
            try:
                return _coerce(value, option)
            except TypeError:
                continue
        raise TypeError
    if origin is list:
        if not isinstance(value, list):
            raise TypeError
        return [_coerce(item, typing.get_args(kind)[0]) for item in value]
    if kind is float and isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if (
        kind is type(None)
        or not isinstance(value, kind)
        or (kind is int and isinstance(value, bool))
    ):
        raise TypeError
    return value


def _check_value(key: str, value: Any, meta: dict[str, Any]) -> None:
    """Refuse a value outside its declared range or choices, naming the key."""
    if isinstance(value, str) and meta["choices"]:
        if value not in meta["choices"]:
            valid = ", ".join(repr(c) for c in meta["choices"])
            raise UserInputError(
                f"{key} must be one of {valid}, got {value!r};"
                f"{did_you_mean(value, list(meta['choices']))}".rstrip(";")
            )
        return
    numbers = value if isinstance(value, list) else [value]
    for number in numbers:
        if not isinstance(number, int | float) or isinstance(number, bool):
            continue
        low, high = meta["low"], meta["high"]
        too_low = low is not None and (number <= low if meta["open_low"] else number < low)
        if not math.isfinite(number) or too_low or (high is not None and number > high):
            left = "(" if meta["open_low"] else "["
            lo = "-inf" if low is None else f"{low:g}"
            hi = "inf" if high is None else f"{high:g}"
            raise UserInputError(f"{key} must be in the range {left}{lo}, {hi}], got {number!r}")


def _build_section(section: str, raw: dict[str, Any]) -> Any:
    cls = SECTIONS[section]
    hints = typing.get_type_hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key not in fields:
            known = [f"{section}.{name}" for name in fields]
            hint = did_you_mean(f"{section}.{key}", known) or f" valid keys: {', '.join(known)}"
            raise UserInputError(f"unknown config key {section}.{key};{hint}")
        try:
            values[key] = _coerce(value, hints[key])
        except TypeError:
            raise UserInputError(
                f"{section}.{key} must be {_type_name(hints[key])}, got {value!r}"
            ) from None
        _check_value(f"{section}.{key}", values[key], dict(fields[key].metadata or _NO_META))
    return cls(**values)


_NO_META = {"low": None, "high": None, "choices": (), "open_low": False}


def config_from_dict(raw: dict[str, Any]) -> Config:
    """Build a validated :class:`Config` from nested dicts ``{section: {key: value}}``."""
    sections: dict[str, Any] = {}
    for section, body in raw.items():
        if section not in SECTIONS:
            hint = did_you_mean(section, list(SECTIONS)) or f" sections: {', '.join(SECTIONS)}"
            raise UserInputError(f"unknown config section [{section}];{hint}")
        if not isinstance(body, dict):
            raise UserInputError(f"[{section}] must be a table of keys, got {body!r}")
        sections[section] = _build_section(section, body)
    return resolve(Config(**sections))


def resolve(config: Config) -> Config:
    """Fill the defaults that depend on other keys, so the saved config is explicit."""
    n = config.sampling.n
    source = config.source
    if source.n_train is None:
        source = dataclasses.replace(source, n_train=n)
    if config.family.name == "hf" and not source.tokenizer:  # the model's own tokenizer
        source = dataclasses.replace(source, tokenizer=config.family.model_path)
    regime = config.regime
    if regime.size is None:
        regime = dataclasses.replace(regime, size=n)
    return dataclasses.replace(config, source=source, regime=regime)


def config_to_dict(config: Config) -> dict[str, dict[str, Any]]:
    """The config as nested dicts, the inverse of :func:`config_from_dict`."""
    return {name: dataclasses.asdict(getattr(config, name)) for name in SECTIONS}


def parse_override(text: str) -> tuple[str, str, Any]:
    """Parse ``section.key=value``; the value is read as TOML, else as a bare string."""
    if "=" not in text or "." not in text.split("=", 1)[0]:
        raise UserInputError(f"--set takes section.key=value, got {text!r}")
    dotted, literal = text.split("=", 1)
    section, key = dotted.strip().split(".", 1)
    try:
        value = tomllib.loads(f"v = {literal.strip()}")["v"]
    except tomllib.TOMLDecodeError:
        value = literal.strip()
    return section, key, value


def apply_overrides(raw: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Return a copy of ``raw`` with each ``section.key=value`` override applied."""
    merged = {
        section: dict(body) if isinstance(body, dict) else body for section, body in raw.items()
    }
    for text in overrides:
        section, key, value = parse_override(text)
        merged.setdefault(section, {})
        if isinstance(merged[section], dict):
            merged[section][key] = value
    return merged


def read_toml(path: Path) -> dict[str, Any]:
    """Read a TOML file safely (``tomllib``), with one-line errors."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UserInputError(f"{path} is not valid TOML: {err}") from None
    except OSError as err:
        raise UserInputError(f"cannot read config {path}: {err.strerror}") from None


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(item) for item in value) + "]"
    raise TypeError(f"cannot write {value!r} as TOML")


def config_to_toml(config: Config) -> str:
    """The resolved config as TOML text; reading it back gives the same config."""
    lines: list[str] = []
    for section, body in config_to_dict(config).items():
        lines.append(f"[{section}]")
        lines += [f"{key} = {_toml_value(value)}" for key, value in body.items()]
        lines.append("")
    return "\n".join(lines)
