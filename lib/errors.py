"""Errors meant for people: their text says what went wrong, where, and what to do."""


class UserError(Exception):
    """A problem the user can fix. ``str(error)`` is the plain-language message to show."""
