"""Why a sync stopped, one exception per reason the window tells apart; str() is the message."""

from __future__ import annotations

from ..errors import WqError


class SyncError(WqError):
    """Sync could not go on; str() is the message for the user. Nothing local was lost."""


class OfflineError(SyncError):
    pass


class AuthError(SyncError):
    pass


class VersionError(SyncError):
    pass


class CertificateError(SyncError):
    """HTTPS certificate not trusted (self-signed office server without its CA file set)."""
