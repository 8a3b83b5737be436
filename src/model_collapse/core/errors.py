"""Errors that the command line turns into one line on stderr, without a traceback."""

from __future__ import annotations

import stat
from pathlib import Path

# a checkpoint saved before a model kept its fixed inputs (an n-gram's prompts, a linear
# model's design) in its learned state
OLD_CHECKPOINT = (
    "this checkpoint was saved by an earlier model-collapse, which kept the model's {what} "
    "outside it; run the run again with --restart"
)


class UserInputError(ValueError):
    """Bad input from the user: a config value, a file, a name or an output directory.

    The message is one line that names the problem and, where it can, the fix. Exit 2.
    """


class DifferentRunError(UserInputError):
    """A run directory holds another config's run: refused, so old numbers never pass as
    new. ``difference`` names what differs, for a sweep to say it in its own terms."""

    def __init__(self, message: str, difference: str) -> None:
        super().__init__(message)
        self.difference = difference


class SaveError(OSError):
    """The system failed the run: a full disk, a directory that became unwritable.

    The message is one line that says what could not be written and what is saved; the
    command line adds the command that resumes. Exit 1.
    """


def first_line(err: BaseException) -> str:
    """An exception's message in one line: its first line, or its type's name if empty."""
    text = str(err)
    return text.splitlines()[0] if text.strip() else type(err).__name__


def check_regular_file(path: Path, what: str) -> None:
    """A file to read is a regular file, or one line says what it is instead: reading a
    FIFO waits for a writer for ever, and a device never ends."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise UserInputError(f"{path} not found; give {what}") from None
    except OSError as err:
        raise UserInputError(f"cannot read {path}: {err.strerror}") from None
    if stat.S_ISDIR(mode):
        raise UserInputError(f"{path} is a folder; give {what} as a file")
    if not stat.S_ISREG(mode):
        raise UserInputError(f"{path} is {special_kind(mode)}, not a regular file; give {what}")


def refuse_special(path: Path) -> None:
    """A path that may be a file or a folder is no FIFO, socket or device (see above)."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return  # missing or unreadable: the reader says so in its own words
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        raise UserInputError(
            f"{path} is {special_kind(mode)}; give a regular file or a folder (reading it "
            "could wait for ever)"
        )


def special_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "a device" if stat.S_ISCHR(mode) or stat.S_ISBLK(mode) else "a special file"
