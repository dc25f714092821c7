"""The one base class for problems a user can fix: the CLI prints the message and exits 2."""


class UserError(ValueError):
    """Bad input (a file, a name, a value): the message says what, where, and what to do.

    Given apart, `fix` is the one thing to do: the training dashboard shows it as its Fix line, under `what`;
    `str()` is both, for the CLI and notifications.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(f"{message}. {fix[0].upper()}{fix[1:]}" if fix else message)
        self.what, self.fix = message, fix
