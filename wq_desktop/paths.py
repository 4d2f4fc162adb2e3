"""Where the program keeps its files: the user's data folder (platformdirs), never beside the
executable, so an installed copy in Program Files works without write rights there."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "wq-desktop"
APP_AUTHOR = "changji-wq"


def data_dir() -> Path:
    """The data folder; WQ_DATA_DIR overrides it (tests, portable installs)."""
    override = os.environ.get("WQ_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, APP_AUTHOR))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _sub(name: str) -> Path:
    path = data_dir() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def logs_dir() -> Path:
    return _sub("logs")


def backups_dir() -> Path:
    return _sub("backups")


def reports_dir() -> Path:
    """Crash reports written when something unexpected happens in the window."""
    return _sub("reports")


def default_store_path() -> Path:
    return data_dir() / "wq.sqlite"


def settings_path() -> Path:
    return data_dir() / "settings.json"
