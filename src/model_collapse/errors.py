"""Errors that the command line turns into one line on stderr, without a traceback."""


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
