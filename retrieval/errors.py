"""Errors the retrieval package raises. Each message says what to do next."""


class RetrievalError(Exception):
    """Base class: a problem the user can fix (bad file, wrong setting)."""


class CatalogError(RetrievalError):
    """A catalog file cannot be read or has invalid rows."""


class StoreError(RetrievalError):
    """The item store cannot be opened or does not match the settings."""


class EmbedderError(RetrievalError):
    """An embedding model cannot be found or loaded."""
