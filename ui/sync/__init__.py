"""Sync in the window: the 同步 menu and button, conflicts, refused changes, USB packages."""

from .controller import SyncController, install_sync

__all__ = ["SyncController", "install_sync"]
