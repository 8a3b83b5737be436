"""Progress inside a generation: long stages (an epoch, sampling, scoring) say how far
they are, so a generation that takes minutes never looks hung.

A family's code opens a stage, ``with progress.stage("training seed 0", total=40) as
ticker:``, and calls ``ticker.advance()`` as it goes. A run forwards these reports to
its observers (:meth:`model_collapse.engine.observers.Observer.stage`); outside a run (a model
used on its own) nobody listens and reporting costs nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from types import TracebackType

Listener = Callable[[str, int, int], None]  # (stage, done, total)
_listener: ContextVar[Listener | None] = ContextVar("model_collapse_progress", default=None)


@contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send the stages reported inside this block to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


class Stage:
    """One stage's ticker: reports its start, each advance and its end."""

    def __init__(self, name: str, total: int) -> None:
        self.name, self.total, self.done = name, max(1, total), 0
        self.listener = _listener.get()

    def __enter__(self) -> Stage:
        self._report()
        return self

    def advance(self, steps: int = 1) -> None:
        self.done = min(self.total, self.done + steps)
        if self.done < self.total:  # the end is reported once, on leaving
            self._report()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if kind is None:
            self.done = self.total
            self._report()

    def _report(self) -> None:
        if self.listener is not None:
            self.listener(self.name, self.done, self.total)


def stage(name: str, total: int) -> Stage:
    """A stage of ``total`` steps, to be used in a ``with`` block."""
    return Stage(name, total)
