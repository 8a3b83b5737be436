"""One writer per run directory: an exclusive ``flock`` on ``DIR/.lock`` held for the run.

The kernel drops the lock when its process ends, however it ends (kill -9 included), so
a lock left by a dead run is free for the next one: no pid guessing, no stale files to
remove. While held, the file names its holder (host, pid, start time) for the message a
second writer gets; it is emptied when the run lets go.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
from datetime import UTC, datetime
from pathlib import Path

from model_collapse.core.errors import UserInputError

LOCK = ".lock"


class RunLock:
    """An exclusive lock on a run directory (which must exist)."""

    def __init__(self, directory: Path, what: str = "run") -> None:
        self.directory = directory
        self.what = what  # "run", or "sweep" for a sweep's folder
        self.fd: int | None = None

    def acquire(self) -> None:
        """Take the lock, or refuse in one line naming the run that holds it."""
        path = self.directory / LOCK
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as err:
            raise UserInputError(
                f"cannot write to --out {self.directory}: {err.strerror}"
            ) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip()
            os.close(fd)
            raise UserInputError(
                f"--out {self.directory} is in use by another {self.what} "
                f"({holder or 'starting up'}); wait for it to finish, or choose another --out"
            ) from None
        except OSError as err:
            os.close(fd)
            raise UserInputError(
                f"cannot lock --out {self.directory} ({err.strerror}); use a local directory"
            ) from None
        started = datetime.now(UTC).isoformat(timespec="seconds")
        holder = f"pid {os.getpid()} on {socket.gethostname()}, started {started}"
        with contextlib.suppress(OSError):  # a full disk: the lock holds without its label
            os.ftruncate(fd, 0)
            os.pwrite(fd, holder.encode(), 0)
        self.fd = fd

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):  # a read-only disk: the lock goes all the same
            os.ftruncate(self.fd, 0)
        fcntl.flock(self.fd, fcntl.LOCK_UN)
        os.close(self.fd)
        self.fd = None
