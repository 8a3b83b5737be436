"""A checked :class:`~model_collapse.config.Config` from nested dicts: the one path from
TOML, ``--set`` overrides and Python to a config.

:func:`config_from_dict` refuses unknown keys, wrong types and out-of-range values with
one line that names the key. A section's generic keys come from
:mod:`model_collapse.config`; the keys of the plug-in it names come from the plug-in's
registry (:mod:`model_collapse.assemble.plugins`). A key another plug-in of the section declares
is left out (a preset switched to another family keeps working); a key no plug-in
declares is refused with "did you mean". This layer sits above the plug-ins, which
import :mod:`model_collapse.config` for its types and never this module.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Collection
from typing import Any

from model_collapse.assemble.plugins import declared, declared_elsewhere, load_plugins, owners
from model_collapse.config import (
    OWNED_BY,
    SECTIONS,
    Config,
    PluginParams,
    absolute_path,
    config_to_dict,
    generic_params,
    replace,
    toml_value,
)
from model_collapse.config.params import Param, describe, validated
from model_collapse.config.registry import did_you_mean
from model_collapse.config.schedules import config_at
from model_collapse.core.errors import UserInputError


def plugin_name(section: str, body: dict[str, Any], owner: str = "") -> Any:
    """The plug-in whose keys a section holds besides its generic ones: the one it names,
    or for a section another one owns (sampling), ``owner``, the name that one gives."""
    if section in OWNED_BY:
        return owner or generic_params(OWNED_BY[section])["name"].default
    return body.get("name", generic_params(section).get("name", Param("", "", str)).default)


def plugin_params(
    section: str, body: dict[str, Any], owner: str = ""
) -> tuple[dict[str, Param], dict[str, Param]]:
    """The parameters of the plug-in a section belongs to, and the keys of its others."""
    if not isinstance(SECTIONS[section], type) or not issubclass(SECTIONS[section], PluginParams):
        return {}, {}
    name = plugin_name(section, body, owner)
    if not isinstance(name, str):  # refused with the generic type message below
        return {}, {}
    return declared(section, name), declared_elsewhere(section)


def _build_section(
    section: str, body: dict[str, Any], explicit: Collection[str] = (), owner: str = ""
) -> Any:
    generic = generic_params(section)
    own, elsewhere = plugin_params(section, body, owner)
    values: dict[str, Any] = {}
    given: dict[str, Any] = {}
    for key, value in body.items():
        if key in generic:
            values[key] = validated(f"{section}.{key}", value, generic[key])
        elif key in own:
            given[key] = validated(f"{section}.{key}", value, own[key])
        elif key not in elsewhere or key == "params":
            known = [f"{section}.{name}" for name in [*generic, *own]]
            # matched without the section, which every name shares ("sampling.n" is not
            # close to "sampling.tempreature")
            close = did_you_mean(key, [*generic, *own]).replace(" '", f" '{section}.")
            hint = close or f" valid keys: {', '.join(known)}"
            raise UserInputError(f"unknown config key {section}.{key};{hint}")
        else:
            _check_foreign(section, key, value, elsewhere[key], body, explicit, owner)
    if own or issubclass(SECTIONS[section], PluginParams):
        values["params"] = {
            key: given.get(
                key, list(spec.default) if isinstance(spec.default, list) else spec.default
            )
            for key, spec in own.items()
        }
    return SECTIONS[section](**values)


def _check_foreign(
    section: str,
    key: str,
    value: Any,
    spec: Param,
    body: dict[str, Any],
    explicit: Collection[str],
    owner: str,
) -> None:
    """A key another plug-in declares is left out (a preset switched to another family
    keeps working), unless it was set on purpose (a slip to refuse): with --set without
    choosing that plug-in, or, for a key another section's plug-in owns (sampling's), to
    a value other than its default, which the run would silently not honour."""
    naming = f"{OWNED_BY.get(section, section)}.name"
    name = plugin_name(section, body, owner)
    whose = f"{OWNED_BY[section]} '{name}'" if section in OWNED_BY else f"{section} '{name}'"
    if f"{section}.{key}" in explicit and naming not in explicit:
        # Set together with the plug-in's name (the same overrides for several regimes, as
        # a comparison or a sweep does), the key is left out, and the command line says
        # so (unused_overrides).
        raise UserInputError(
            f"{section}.{key} belongs to {joined(owners(section, key))}, not to "
            f"{whose}; set {naming} too, or leave it out"
        )
    if section in OWNED_BY and value != spec.default:
        raise UserInputError(
            f"{section}.{key} is a key of {joined(owners(section, key))}, not of {whose}; "
            f"leave it out, or set it to {toml_value(spec.default)}"
        )


def joined(names: list[str]) -> str:
    """ "a", "a and b", "a, b and c"."""
    return " and ".join(names) if len(names) < 3 else f"{', '.join(names[:-1])} and {names[-1]}"


def config_from_dict(raw: dict[str, Any], explicit: Collection[str] = ()) -> Config:
    """Build a validated :class:`Config` from nested dicts ``{section: {key: value}}``.

    experiment.plugins are imported first, so their plug-ins and parameters are known. A
    key of another plug-in is left out, unless it is among the ``explicit`` "section.key"
    (set with --set): then it is refused.
    """
    for section, body in raw.items():
        if section not in SECTIONS:
            hint = did_you_mean(section, list(SECTIONS)) or f" sections: {', '.join(SECTIONS)}"
            raise UserInputError(f"unknown config section [{section}];{hint}")
        if not isinstance(body, dict):
            raise UserInputError(f"[{section}] must be a table of keys, got {body!r}")
    experiment = _build_section("experiment", raw.get("experiment", {}))
    load_plugins(experiment.plugins)
    sections = {"experiment": experiment}
    for section in list(SECTIONS)[1:]:
        owner = sections[OWNED_BY[section]].name if section in OWNED_BY else ""
        sections[section] = _build_section(section, raw.get(section, {}), explicit, owner)
    config = resolve(Config(**sections))
    check_schedules(config)
    return config


def check_schedules(config: Config) -> None:
    """Every scheduled key's value at every generation, against its declared range: one
    line naming the generation (and a list of the wrong length, an unknown kind)."""
    from model_collapse.config.params import check_value
    from model_collapse.config.schedules import scheduled_keys, values_of

    generations = config.experiment.generations
    scheduled = scheduled_keys(config)
    if scheduled and config.family.exact:
        # the exact path sizes each generation's statistics for the next one's share
        raise UserInputError(
            f"{next(iter(scheduled))} follows a schedule, which runs on samples; set "
            "family.exact = false"
        )
    for dotted, table in scheduled.items():
        section, key = dotted.split(".", 1)
        owner = getattr(config, OWNED_BY[section]).name if section in OWNED_BY else ""
        own = plugin_params(section, config_to_dict(config)[section], owner)[0]
        spec = {**generic_params(section), **own}[key]
        for g, value in enumerate(values_of(dotted, table, generations)):
            check_value(f"{dotted} at generation {g}", value, spec)
            if dotted == "sampling.n" and round(value) < 1:  # 0 (all rows) is one value
                raise UserInputError(
                    f"sampling.n at generation {g} must be at least 1 in a schedule, got "
                    f"{value:g} (0, as many as the real rows, is one value for every generation)"
                )


def resolve(config: Config) -> Config:
    """Fill the defaults that depend on other keys, so the saved config is explicit; keep
    paths absolute, so the saved config.toml repeats the run from any folder."""
    sections = {}
    for section in ("source", "family", "regime", "metrics"):
        body = getattr(config, section)
        changes = {}
        for key, spec in declared(section, getattr(body, "name", "")).items():
            value = body.params[key]
            if value is None and spec.default_from:
                other, name = spec.default_from.split(".")
                changes[key] = getattr(getattr(config, other), name)
            elif spec.path and isinstance(value, str):
                changes[key] = absolute_path(value)
        sections[section] = replace(body, **changes)
    if config.source.n_train is None:  # generation 0's real rows: its sampling.n
        first = config_at(config, 0).sampling.n
        sections["source"] = replace(sections["source"], n_train=first)
    plugins = [absolute_path(p) if p.endswith(".py") else p for p in config.experiment.plugins]
    sections["experiment"] = dataclasses.replace(config.experiment, plugins=plugins)
    return dataclasses.replace(config, **sections)


def commented_toml(raw: dict[str, Any], title: str) -> str:
    """A config as TOML with every key of the plug-ins it names, its meaning and range.

    Keys whose default depends on other keys (source.n_train, regime.size) are written
    commented out, with the value they take now: uncomment them to pin it.
    """
    config = config_from_dict(raw)
    resolved = config_to_dict(config)
    lines = [
        f"# {title}",
        "# Run it with: model-collapse run THIS_FILE [--set section.key=value ...]",
        "",
    ]
    for section in SECTIONS:
        lines.append(f"[{section}]")
        given = raw.get(section, {})
        owner = getattr(config, OWNED_BY[section]).name if section in OWNED_BY else ""
        own, _ = plugin_params(section, config_to_dict(config)[section], owner)
        for key, spec in {**generic_params(section), **own}.items():
            derived = spec.default is None and key not in given
            value = resolved[section][key]
            shown = "(unset)" if value is None else toml_value(value)
            setting = f"{'# ' if derived else ''}{key} = {shown}"
            lines.append(f"{setting:<30} # {describe(spec)}")
        lines.append("")
    return "\n".join(lines)
