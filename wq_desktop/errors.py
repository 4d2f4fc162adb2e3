"""Errors the core raises. Every message is Chinese and meant to be shown to the user as is."""

from __future__ import annotations


class WqError(Exception):
    """Base for errors a user can act on; str(err) is the Chinese message."""

    # Set by the store's batch writes: the 0-based position of the refused row in the batch.
    batch_index: int | None = None


class ValidationError(WqError):
    """Input refused by a domain rule. Nothing has been written when this is raised."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return self.message


class DuplicateError(ValidationError):
    """Refused by a uniqueness rule: `existing` is the live record that already holds the key
    (sync turns a refused duplicate create into a conflict with it instead of a dead end)."""

    def __init__(self, message: str, field: str | None, existing: str) -> None:
        super().__init__(message, field)
        self.existing = existing


class NotFoundError(WqError):
    """A record asked for by UUID does not exist (or is deleted)."""


class StoreVersionError(WqError):
    """The database file was written by a newer version of the program."""


class ConflictError(WqError):
    """A write was based on a revision that is no longer current."""


class EncryptedStoreError(WqError):
    """The store file is encrypted and nobody has signed in to it in this process."""


class SignInError(WqError):
    """Wrong account or password, a locked or disabled account: nothing was opened or changed."""


class Stopped(Exception):
    """A read given up because its caller asked it to stop (Store.stopping_when): not an error."""
