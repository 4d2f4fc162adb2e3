"""Sync in the window: the 同步 menu and button, conflicts, refused changes, USB packages."""

from .controller import SyncController

__all__ = ["SyncController"]
