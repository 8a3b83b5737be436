"""Configuration: one frozen, typed config (:mod:`.schema`), the parameters plug-ins
declare (:mod:`.params`), the registries they register in (:mod:`.registry`) and the
data sizes a run needs (:mod:`.sizes`). It names no plug-in; building a checked config
from dicts, which asks the plug-ins' registries, is the layer above
(:mod:`model_collapse.assemble.validate`).

The config's types and forms are imported from here: ``from model_collapse.config import
Config``.
"""

from model_collapse.config.schema import (
    OWNED_BY,
    SECTIONS,
    Config,
    ExperimentConfig,
    FamilyConfig,
    MetricsConfig,
    PluginParams,
    RegimeConfig,
    SamplingConfig,
    SourceConfig,
    absolute_path,
    apply_overrides,
    config_to_dict,
    config_to_toml,
    generic_params,
    override_keys,
    parse_override,
    read_toml,
    replace,
    toml_value,
    unused_overrides,
)

__all__ = [
    "OWNED_BY",
    "SECTIONS",
    "Config",
    "ExperimentConfig",
    "FamilyConfig",
    "MetricsConfig",
    "PluginParams",
    "RegimeConfig",
    "SamplingConfig",
    "SourceConfig",
    "absolute_path",
    "apply_overrides",
    "config_to_dict",
    "config_to_toml",
    "generic_params",
    "override_keys",
    "parse_override",
    "read_toml",
    "replace",
    "toml_value",
    "unused_overrides",
]
