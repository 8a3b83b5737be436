"""One frozen, typed config, and its TOML and ``--set`` forms.

The generic keys of each section are declared here; the others belong to the plug-in
the section names (a family section that names the Gaussian mixture brings its
``components``, ``covariance``, ...), which declares them (:mod:`model_collapse.config.params`).
This module knows no plug-in: building a checked config from dicts, which asks the
registries what a plug-in declares, is :mod:`model_collapse.assemble.validate`, a layer
above the plug-ins (they import this module for its types).
"""

from __future__ import annotations

import dataclasses
import math
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from model_collapse import defaults
from model_collapse.config.params import MANY, Param
from model_collapse.core.errors import UserInputError


def _spec(
    default: Any, doc: str, low: float | None = None, high: float | None = None, **limits: Any
) -> Any:
    """A generic field with what it means and its valid range (its type comes from the hint)."""
    meta = {"param": Param(default, doc, None, low, high, **limits)}
    if isinstance(default, list):
        return field(default_factory=lambda: list(default), metadata=meta)
    return field(default=default, metadata=meta)


class PluginParams:
    """A section whose other keys belong to the plug-in it names: read them as attributes
    (``config.family.components``) or from ``params``."""

    def __getattr__(self, key: str) -> Any:
        params = self.__dict__.get("params")
        if params is None or key.startswith("__") or key not in params:
            named = self.__dict__.get("name")
            whose = f"the {named} plug-in" if named else "the run's family"
            raise AttributeError(f"{whose} declares no parameter {key!r}")
        return params[key]


@dataclass(frozen=True)
class ExperimentConfig:
    generations: int = _spec(10, "generations to run", low=1, high=10_000_000)
    seeds: int = _spec(10, "independent chains, run as one batched computation", 1, 1_000_000)
    seed: int = _spec(0, "the root seed of every random stream", low=0, high=2**63 - 1)
    keep_checkpoints: bool = _spec(
        False, "keep every generation's model, not only generation 0's and the latest"
    )
    device: str = _spec(
        "auto",
        "where torch families compute (auto: cuda, else mps, else cpu)",
        choices=("auto", "cpu", "cuda", "mps"),
    )
    plugins: list[str] = _spec([], "modules to import first: your own plug-ins")


@dataclass(frozen=True)
class SourceConfig(PluginParams):
    name: str = _spec(defaults.SOURCE, "the real data (model-collapse list shows the sources)")
    n_train: int | None = _spec(
        None, "generation 0's real training rows per seed (default sampling.n; 0: all)", 0, MANY
    )
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class FamilyConfig(PluginParams):
    name: str = _spec(defaults.FAMILY, "the model family (model-collapse list shows them)")
    exact: bool = _spec(False, "draw sufficient statistics instead of samples, where it can")
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RegimeConfig(PluginParams):
    name: str = _spec(defaults.REGIME, "how each training set is built (model-collapse list)")
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SamplingConfig(PluginParams):
    """How each generation samples. ``n`` is everyone's; the other keys belong to the
    family the config names (a language model's ``temperature``, a Gaussian's ``bias``):
    the family declares them (``Family.sampling``), as it declares its family.* keys."""

    n: int = _spec(
        1000,
        "samples each generation draws per seed (0: as many as real rows)",
        0,
        MANY,
        schedulable=True,
    )
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class MetricsConfig(PluginParams):
    names: list[str] = _spec([], "metrics to compute (empty: every one that applies)")
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Config:
    """The whole experiment: what :func:`model_collapse.run` and ``model-collapse run`` take."""

    experiment: ExperimentConfig = field(default_factory=ExperimentConfig)
    source: SourceConfig = field(default_factory=SourceConfig)
    family: FamilyConfig = field(default_factory=FamilyConfig)
    regime: RegimeConfig = field(default_factory=RegimeConfig)
    sampling: SamplingConfig = field(default_factory=SamplingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)


SECTIONS: dict[str, Any] = typing.get_type_hints(Config)
# Sections whose plug-in keys belong to the plug-in another section names: sampling's
# keys (temperature, bias, watermark, ...) are the family's.
OWNED_BY: dict[str, str] = {"sampling": "family"}


def generic_params(section: str) -> dict[str, Param]:
    """The keys a section has whatever plug-in it names, with their declarations."""
    cls = SECTIONS[section]
    hints = typing.get_type_hints(cls)
    return {
        f.name: dataclasses.replace(f.metadata["param"], kind=hints[f.name])
        for f in dataclasses.fields(cls)
        if f.name != "params"
    }


def replace(section: Any, **changes: Any) -> Any:
    """A section with some keys changed, generic or a plug-in's."""
    names = {f.name for f in dataclasses.fields(section)}
    params = {k: v for k, v in changes.items() if k not in names}
    fields = {k: v for k, v in changes.items() if k in names}
    if params:
        fields["params"] = {**section.params, **params}
    return dataclasses.replace(section, **fields)


def absolute_path(path: str) -> str:
    """A path made absolute (``~`` expanded); "" and ``package:NAME`` stay as they are."""
    if not path or path.startswith("package:"):
        return path
    return str(Path(path).expanduser().absolute())


def config_to_dict(config: Config) -> dict[str, dict[str, Any]]:
    """The config as nested dicts, the inverse of ``assemble.validate.config_from_dict``."""
    out = {}
    for name in SECTIONS:
        body = getattr(config, name)
        keys = {
            f.name: getattr(body, f.name) for f in dataclasses.fields(body) if f.name != "params"
        }
        out[name] = {**keys, **getattr(body, "params", {})}
    return out


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


def unused_overrides(config: Config, overrides: list[str] | None) -> list[str]:
    """A note for each ``--set`` override that the run's plug-ins do not use."""
    fields = config_to_dict(config)
    notes = []
    for name in sorted(override_keys(overrides)):
        section, key = name.split(".", 1)
        if section in fields and key not in fields[section]:
            plugin = getattr(getattr(config, section), "name", section)
            notes.append(f"note: {name} is not used by {section} '{plugin}'; left out")
    return notes


def override_keys(overrides: list[str] | None) -> set[str]:
    """The "section.key" that ``--set`` overrides name."""
    return {".".join(parse_override(text)[:2]) for text in overrides or []}


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
    from model_collapse.core.errors import refuse_special

    refuse_special(path)  # a FIFO would wait for a writer for ever
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UserInputError(f"config file not found: {path}") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise UserInputError(f"{path} is not valid TOML: {err}") from None
    except OSError as err:
        raise UserInputError(f"cannot read config {path}: {err.strerror}") from None


def toml_value(value: Any) -> str:
    """A value as TOML writes it (and ``--set`` reads it)."""
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
        return "[" + ", ".join(toml_value(item) for item in value) + "]"
    if isinstance(value, dict) and all(isinstance(k, str) and k.isidentifier() for k in value):
        # an inline table: a schedule (config.schedules)
        return "{" + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"cannot write {value!r} as TOML")


def config_to_toml(config: Config) -> str:
    """The resolved config as TOML text; reading it back gives the same config."""
    lines: list[str] = []
    for section, body in config_to_dict(config).items():
        lines.append(f"[{section}]")
        # None is "unset" (a plug-in's choice, made when the run starts): left out
        lines += [f"{key} = {toml_value(v)}" for key, v in body.items() if v is not None]
        lines.append("")
    return "\n".join(lines)
