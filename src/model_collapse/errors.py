"""Errors that the command line turns into one line on stderr, without a traceback."""


class UserInputError(ValueError):
    """Bad input from the user: a config value, a file, a name or an output directory.

    The message is one line that names the problem and, where it can, the fix. Exit 2.
    """


class SaveError(OSError):
    """The system failed the run: a full disk, a directory that became unwritable.

    The message is one line that says what could not be written and what is saved; the
    command line adds the command that resumes. Exit 1.
    """
