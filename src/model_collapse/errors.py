"""Errors that the command line turns into exit status 2 and one line on stderr."""


class UserInputError(ValueError):
    """Bad input from the user: a config value, a file, a name or an output directory.

    The message is one line that names the problem and, where it can, the fix.
    """
