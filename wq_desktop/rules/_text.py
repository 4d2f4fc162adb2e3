"""Helpers every rule module shares: text as typed, the ValidationError, YYYYMMDD days."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from datetime import date

from wq_desktop.errors import ValidationError

_WHITESPACE = re.compile(r"\s+")


def _clean(value: object) -> str:
    """Text as typed, with full-width characters folded and all whitespace removed.

    NFKC folds the full-width digits/letters a Chinese IME produces (“１２３ｘ”) into ASCII,
    and staff often paste numbers with spaces in them, so both are forgiven here.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _WHITESPACE.sub("", text)


def _fail(message: str, field: str | None) -> ValidationError:
    return ValidationError(message, field=field)


def _valid_ymd(ymd: str) -> date | None:
    """The date for an 8-digit YYYYMMDD string, or None when no such day exists."""
    if len(ymd) != 8 or not ymd.isdigit():
        return None
    try:
        return date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8]))
    except ValueError:
        return None


def _looks_valid(fn: Callable[[str], str], value: str) -> bool:
    try:
        fn(value)
    except ValidationError:
        return False
    return True
