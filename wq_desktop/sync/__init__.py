"""Offline-first sync with the central server (client side): see client.sync_now.

The client and the conflict code are loaded when one of their names is first asked for, so that
reading `sync.status` or `sync.errors` (the window's status bar) does not load the client's
HTTP, crypto and photo code.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .errors import AuthError, CertificateError, OfflineError, SyncError, VersionError

if TYPE_CHECKING:
    from .client import SyncReport, sync_now
    from .conflicts import conflict_detail, list_conflicts, resolve_conflict

_LOADED_WHEN_ASKED = {"SyncReport": "client", "sync_now": "client", "conflict_detail": "conflicts",
                      "list_conflicts": "conflicts", "resolve_conflict": "conflicts"}

__all__ = ["AuthError", "CertificateError", "OfflineError", "SyncError", "SyncReport", "VersionError",
           "conflict_detail", "list_conflicts", "resolve_conflict", "sync_now"]


def __getattr__(name: str) -> Any:
    module = _LOADED_WHEN_ASKED.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f".{module}", __name__), name)
