"""A run put together from its parts: the registries asked for the family, regime, source
and metrics a config names, the real data loaded, and the whole config checked against
them, before anything is written. The loop (:mod:`model_collapse.engine.loop`) runs the
:class:`~model_collapse.engine.loop.Plan` this returns and asks no registry itself."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path
from typing import Any

from model_collapse.assemble.checks import (
    check_columns,
    check_memory_before_data,
    check_run,
    generation_configs,
)
from model_collapse.assemble.lineages import other_lineages
from model_collapse.assemble.plugins import declared
from model_collapse.config import Config, replace
from model_collapse.config.schedules import config_at
from model_collapse.engine import capabilities
from model_collapse.engine.loop import Plan
from model_collapse.families import FAMILIES
from model_collapse.metrics import METRICS, choose_metrics, make_reference
from model_collapse.regimes import REGIMES
from model_collapse.services import needed
from model_collapse.sources import SOURCES, RealData, load_real_data


def check_names(config: Config) -> None:
    """Refuse an unknown family, regime, source or metric name before anything runs."""
    FAMILIES.get(config.family.name)
    REGIMES.get(config.regime.name)
    SOURCES.get(config.source.name)
    for name in config.metrics.names:
        METRICS.get(name)


def with_data_sizes(config: Config, real: Any) -> Config:
    """sampling.n = 0 means as many as the real training set (and so do sizes that
    default to it, such as regime.size)."""
    n = config.sampling.n or real.train.shape[1]
    sections: dict[str, Any] = {"sampling": dataclasses.replace(config.sampling, n=n)}
    for section in ("source", "family", "regime"):
        body = getattr(config, section)
        follows = {
            key: body.params[key] or n
            for key, spec in declared(section, body.name).items()
            if spec.default_from == "sampling.n"
        }
        sections[section] = replace(body, **follows)
    return dataclasses.replace(config, **sections)


def plan_run(config: Config) -> Plan:
    """Load the real data and check the whole config against it; refuse what cannot run."""
    family = FAMILIES.get(config.family.name)
    regime = REGIMES.get(config.regime.name)
    config = family.resolve(config) if family.resolve is not None else config
    for now in generation_configs(config):  # a scheduled sampling.n: its largest sets
        check_memory_before_data(now, family, regime.keeps(config))
    real = load_real_data(config_at(config, 0), family.kind)  # generation 0's rows
    saved, config = config, with_data_sizes(config, real)
    for now in generation_configs(config):  # a schedule's every value, checked as a constant
        check_run(now, family, regime, real)
    first = config_at(config, 0)
    probe = family.make(first, real)  # an unfitted model: what it can do
    capabilities.check(first, probe)
    reference = make_reference(config, real)
    names, notes = choose_metrics(first, reference, probe, config.family.exact)
    check_columns(first, regime, names)
    inputs = inputs_digest(real, family.inputs(config) if family.inputs is not None else [])
    metrics = {name: METRICS.get(name) for name in names}
    services = needed(regime.services, *(metric.services for metric in metrics.values()))
    others, more_notes = other_lineages(config, real, names)
    for lineage in others:  # a lineage's model files are inputs of the run too
        files = lineage.family.inputs(lineage.config) if lineage.family.inputs else []
        inputs = inputs_digest(real, [], inputs, files) if files else inputs
    role = str(config.regime.params.get("role", "both"))
    return Plan(
        config, saved, family, regime, real, reference, names, metrics, [*notes, *more_notes],
        inputs, services, role, others,
    )  # fmt: skip


def inputs_digest(
    real: RealData, files: list[Path], before: str = "", more: list[Path] | None = None
) -> str:
    """SHA-256 of what a run reads: its real data, and files such as a model's weights
    (``before`` and ``more``: another lineage's files, after the run's own digest)."""
    digest = hashlib.sha256(before.encode() if before else real.digest().encode())
    files = [*files, *(more or [])]
    for path in files:
        with open(path, "rb") as f:
            digest.update(hashlib.file_digest(f, "sha256").digest())
    return digest.hexdigest()
