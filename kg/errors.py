"""The error hierarchy every layer raises; the CLI and UI turn these into one clear sentence."""


class KgeditError(Exception):
    """Base of every error kgedit raises on purpose."""


class InputError(KgeditError, ValueError):
    """The caller's input is wrong: the message names the file, line or field and what to do."""


class ConflictError(KgeditError):
    """An edit disagrees with an active edit and the caller asked for strict mode."""


class StoreError(KgeditError):
    """The fact store cannot be opened, read or written."""


class ModelError(KgeditError):
    """A language model or embedding model cannot be loaded or used."""
