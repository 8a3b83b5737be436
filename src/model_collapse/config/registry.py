"""A tiny registry of plug-ins by name, with "did you mean" for unknown names."""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Generic, TypeVar

from model_collapse.core.errors import UserInputError

T = TypeVar("T")


def did_you_mean(name: str, valid: list[str]) -> str:
    """Return ``" did you mean 'x'?"`` for the closest valid name, or an empty string."""
    close = difflib.get_close_matches(name, valid, n=1, cutoff=0.5)
    return f" did you mean '{close[0]}'?" if close else ""


class Registry(Generic[T]):
    """Plug-ins of one kind (family, regime, metric, source) registered by name."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator that registers its argument under ``name``."""

        def add(entry: T) -> T:
            if name in self._entries:
                raise ValueError(f"{self.kind} '{name}' is registered twice")
            self._entries[name] = entry
            return entry

        return add

    def get(self, name: str) -> T:
        """Look up ``name``; an unknown name raises a UserInputError listing the valid ones."""
        if name not in self._entries:
            names = self.names()
            raise UserInputError(
                f"unknown {self.kind} '{name}';{did_you_mean(name, names)} "
                f"Available: {', '.join(names)}"
            )
        return self._entries[name]

    def names(self) -> list[str]:
        """All registered names, sorted."""
        return sorted(self._entries)

    def items(self) -> list[tuple[str, T]]:
        """(name, entry) pairs in the order they were registered."""
        return list(self._entries.items())
