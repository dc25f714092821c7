"""The one base class for problems a user can fix: the CLI prints the message and exits 2."""


class UserError(ValueError):
    """Bad input (a file, a name, a value): the message says what, where, and what to do."""
