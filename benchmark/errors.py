"""The one exception type that the CLI turns into a one-line message and a non-zero exit."""


class UserError(Exception):
    """Bad input or a missing prerequisite: the message says what is wrong and what to do next."""
