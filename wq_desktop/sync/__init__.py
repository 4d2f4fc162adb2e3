"""Offline-first sync with the central server (client side): see client.sync_now."""

from .client import SyncReport, sync_now
from .conflicts import conflict_detail, list_conflicts, resolve_conflict
from .errors import AuthError, CertificateError, OfflineError, SyncError, VersionError

__all__ = ["AuthError", "CertificateError", "OfflineError", "SyncError", "SyncReport", "VersionError",
           "conflict_detail", "list_conflicts", "resolve_conflict", "sync_now"]
