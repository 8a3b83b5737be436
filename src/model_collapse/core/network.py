"""Whether an address answers: a cluster's scheduler or a tracking server is named in one
line within REACH_SECONDS when nothing listens there, rather than after the minutes a
client library may wait. Used by the sweep's backends and by MLflow tracking alike."""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from model_collapse.core.errors import UserInputError

REACH_SECONDS = 25  # an unreachable scheduler is named within half a minute


def reach(address: str, what: str) -> None:
    """Refuse, in one line within REACH_SECONDS, an address nothing listens on."""
    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or port is None:
        raise UserInputError(f"--address {address}: give the {what} as HOST:PORT")
    try:
        socket.create_connection((host, port), timeout=REACH_SECONDS).close()
    except OSError as err:
        raise UserInputError(
            f"cannot reach the {what} at {address} within {REACH_SECONDS} s "
            f"({err.strerror or type(err).__name__}); start it, or check the address"
        ) from None
