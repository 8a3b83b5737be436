"""Where plug-ins come from: the built-in ones, installed packages, and the config's own.

A plug-in is a module that registers families, regimes, sources, metrics or theories in
their registries when it is imported. Three kinds are loaded:

- the built-in ones (importing the packages registers them);
- those an installed package announces in the entry-point group
  ``model_collapse.plugins`` (``[project.entry-points."model_collapse.plugins"]
  my_family = "my_package.my_family"``);
- the modules a config lists in ``experiment.plugins``: module names on the Python path,
  or ``.py`` files (kept absolute in the saved config, like every path).

The config then validates each section's keys against what the plug-in it names declares.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from model_collapse.config.params import Param
from model_collapse.config.registry import Registry
from model_collapse.core.errors import UserInputError

ENTRY_POINTS = "model_collapse.plugins"
_loaded: set[str] = set()


def registries() -> dict[str, Registry[Any]]:
    """The registries whose plug-ins own config parameters, by config section."""
    from model_collapse.families import FAMILIES
    from model_collapse.metrics import METRICS
    from model_collapse.regimes import REGIMES
    from model_collapse.sources import SOURCES

    return {"source": SOURCES, "family": FAMILIES, "regime": REGIMES, "metrics": METRICS}


def load_plugins(modules: list[str], named_by: str = "experiment.plugins") -> None:
    """Import the built-in plug-ins, those of installed packages, and ``modules`` (which
    ``named_by`` names, for the message if one cannot be imported)."""
    registries()
    if ENTRY_POINTS not in _loaded:
        _loaded.add(ENTRY_POINTS)
        for entry in metadata.entry_points(group=ENTRY_POINTS):
            _import(entry.value.split(":")[0], f"the entry point {entry.name} of {ENTRY_POINTS}")
    for module in modules:
        _import(module, named_by)


def _import(module: str, named_by: str) -> None:
    if module in _loaded:
        return
    if module.endswith(".py"):
        _import_file(Path(module), named_by)
        _loaded.add(module)
        return
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as err:
        raise UserInputError(
            f"{named_by} names '{module}', which Python cannot import ({err}); put its folder "
            "on PYTHONPATH or install it"
        ) from None
    except (Exception, SystemExit, KeyboardInterrupt) as err:  # the plug-in's own: say whose
        raise plugin_failed(f"'{module}'", err) from None
    _loaded.add(module)


def _import_file(path: Path, named_by: str) -> None:
    """Import a plug-in from its file (``experiment.plugins = ["my_family.py"]``)."""
    if not path.is_file():
        raise UserInputError(f"{named_by} names {path}, which is not a file")
    spec = importlib.util.spec_from_file_location(path.stem, path)
    if spec is None or spec.loader is None:
        raise UserInputError(f"{named_by} names {path}, which Python cannot load as a module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[path.stem] = module  # dataclasses and pickling look modules up by name
    try:
        spec.loader.exec_module(module)
    except (Exception, SystemExit, KeyboardInterrupt) as err:  # the plug-in's own: say whose
        del sys.modules[path.stem]
        raise plugin_failed(str(path), err) from None


def plugin_failed(name: str, err: BaseException) -> UserInputError:
    """One line for a plug-in whose import failed, exited or was interrupted: without it
    an exit would end the command with nothing said."""
    if isinstance(err, SystemExit):
        return UserInputError(
            f"the plug-in {name} called sys.exit({err.code!r}) while it was imported; a "
            "plug-in must register, not exit"
        )
    if isinstance(err, KeyboardInterrupt):
        return UserInputError(f"importing the plug-in {name} was interrupted (KeyboardInterrupt)")
    return UserInputError(f"importing the plug-in {name} failed: {type(err).__name__}: {err}")


def _entries(section: str) -> tuple[Registry[Any] | None, str]:
    """The registry whose plug-ins declare a section's keys, and the attribute that holds
    them: sampling's keys are the family's ``sampling``, the others their own ``params``."""
    from model_collapse.config import OWNED_BY

    owner = OWNED_BY.get(section)
    if owner is not None:
        return registries().get(owner), section
    return registries().get(section), "params"


def declared(section: str, name: str) -> dict[str, Param]:
    """What the plug-in ``name`` declares in a config section (for sampling, ``name`` is
    the family's); every metric's, for ``metrics`` (they run together). An unknown name
    is refused with "did you mean"."""
    registry, attribute = _entries(section)
    if registry is None:
        return {}
    if section == "metrics":
        return {k: v for _, entry in registry.items() for k, v in entry.params.items()}
    return dict(getattr(registry.get(name), attribute))


def declared_elsewhere(section: str) -> dict[str, Param]:
    """Every key some plug-in declares in a section, with (one of) its declarations."""
    registry, attribute = _entries(section)
    if registry is None:
        return {}
    return {k: v for _, e in registry.items() for k, v in getattr(e, attribute).items()}


def owners(section: str, key: str) -> list[str]:
    """The plug-ins that declare ``key`` in a section."""
    registry, attribute = _entries(section)
    if registry is None:
        return []
    return [n for n, e in registry.items() if key in getattr(e, attribute)]
