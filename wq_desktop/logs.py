"""The program's log: rotating files in the data folder, with ID and phone numbers masked.

Logs are read when something goes wrong, by people who have no business seeing an operator's
ID number or phone. So every record passes a filter that masks 18/15-digit ID numbers, 11-digit
mobiles and landlines with area code in the message, its arguments and any traceback, before a
handler writes it. Callers should still log counts and record UUIDs, not personal fields.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import threading
from pathlib import Path

from .paths import logs_dir

LOG_FILE_NAME = "wq-desktop.log"
MAX_BYTES = 1024 * 1024  # 1 MiB per file …
BACKUP_COUNT = 5  # … and five older ones: enough for weeks of normal use, never a full disk
# Our loggers; third-party libraries still reach the file at their own level (WARNING by default).
OWN_LOGGERS = ("wq_desktop", "ui", "server")
_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# No digit (or ID letter) directly before or after: a longer number is not an ID or a phone.
_NOT_AFTER = r"(?<![0-9A-Za-z])"
_NOT_BEFORE = r"(?![0-9A-Za-z])"
# One optional space or dash between any two digits: people group numbers as they like
# (652399 19850307 123X, 6523-9919-8503-0712-3X, 138 1234 5678, 1381-234-5678).
_SEP = r"[ \t\-]?"
# 18-character ID (last character may be X) and the old 15-digit ID.
ID_PATTERN = re.compile(
    _NOT_AFTER + rf"(?:\d(?:{_SEP}\d){{16}}{_SEP}[\dXx]|\d(?:{_SEP}\d){{14}})" + _NOT_BEFORE)
# Mobile, optionally with +86 / 86 / (+86) in front.
MOBILE_PATTERN = re.compile(
    _NOT_AFTER + rf"(?:[(（]?\+?86[)）]?{_SEP})?1[3-9](?:{_SEP}\d){{9}}" + _NOT_BEFORE)
# Landline with area code (010, 02x, or 0 + 3 digits), in brackets or not, and a 7–8 digit number,
# optionally +86 before the code without its 0 and an extension after:
# 0994-1234567, (0994)1234567, （0994）1234-567, 0994 123 4567, 099412345678, 0994-1234567-801.
LANDLINE_PATTERN = re.compile(
    r"(?<![0-9A-Za-z])(?:\+86[ \-]?)?[(（]?(?:010|02\d|0[3-9]\d\d|(?<=86[ \-])(?:10|2\d|[3-9]\d\d)"
    rf"|(?<=86)(?:10|2\d|[3-9]\d\d))[)）]?{_SEP}\d(?:{_SEP}\d){{6,7}}(?:[ \-]?(?:转|-|ext\.?)\d{{1,5}})?"
    + _NOT_BEFORE)
SENSITIVE_PATTERNS: dict[str, re.Pattern[str]] = {
    "身份证号": ID_PATTERN,
    "手机号": MOBILE_PATTERN,
    "固定电话": LANDLINE_PATTERN,
}
_MASKS = {"身份证号": "[身份证号已隐去]", "手机号": "[手机号已隐去]", "固定电话": "[电话已隐去]"}


def mask_sensitive(text: str) -> str:
    """``text`` with every ID number, mobile and landline replaced by a placeholder.

    Numbers are removed whole rather than partly kept: a log line needs no digit of them.
    """
    # IDs first: an 18-digit ID contains digit runs that could otherwise look like a phone.
    for label, pattern in SENSITIVE_PATTERNS.items():
        text = pattern.sub(_MASKS[label], text)
    return text


def find_sensitive(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) for every ID or phone number left in ``text`` (for audits)."""
    found: list[tuple[str, str]] = []
    for label, pattern in SENSITIVE_PATTERNS.items():
        found.extend((label, m.group(0)) for m in pattern.finditer(text))
        text = pattern.sub(" ", text)  # an ID's digits are not reported again as a phone
    return found


class MaskingFilter(logging.Filter):
    """Masks ID and phone numbers in a record's message, arguments and traceback text."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # broad on purpose: a bad format string must not hide the record
            message = f"{record.msg!r} {record.args!r}"
        # Freeze the formatted message: the args are folded in, so no raw value survives in them.
        record.msg = mask_sensitive(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_sensitive(record.exc_text)
        if record.stack_info:
            record.stack_info = mask_sensitive(record.stack_info)
        return True


class _WqFileHandler(logging.handlers.RotatingFileHandler):
    """Marks the handler setup_logging installed, so a second call finds and reuses it."""


_lock = threading.Lock()


def _installed() -> _WqFileHandler | None:
    return next((h for h in logging.getLogger().handlers if isinstance(h, _WqFileHandler)), None)


def setup_logging(level: int = logging.INFO, log_dir: Path | None = None, *,
                  max_bytes: int = MAX_BYTES) -> Path:
    """Send the program's log to a rotating file in ``log_dir`` (default: the data folder's logs).

    Idempotent: once set up, a call without ``log_dir`` keeps the current file and only sets
    the level; a call naming another folder moves the log there. ``max_bytes=0`` never rotates
    (the test run's log, which is audited as a whole). Returns the log file's path.
    """
    root = logging.getLogger()
    with _lock:
        handler = _installed()
        if log_dir is None and handler is not None:
            path = Path(handler.baseFilename)
        else:
            folder = Path(log_dir) if log_dir is not None else logs_dir()
            folder.mkdir(parents=True, exist_ok=True)
            path = (folder / LOG_FILE_NAME).resolve()
        if handler is not None and Path(handler.baseFilename) != path:
            root.removeHandler(handler)
            handler.close()
            handler = None
        if handler is None:
            handler = _WqFileHandler(path, maxBytes=max_bytes, backupCount=BACKUP_COUNT,
                                     encoding="utf-8", delay=True)
            handler.setFormatter(logging.Formatter(_FORMAT))
            handler.addFilter(MaskingFilter())
            root.addHandler(handler)
        handler.setLevel(level)
        for name in OWN_LOGGERS:
            logging.getLogger(name).setLevel(level)
    return path


def current_log_file() -> Path | None:
    """The file setup_logging writes to, or None before it was called."""
    handler = _installed()
    return Path(handler.baseFilename) if handler else None


def current_level() -> int | None:
    handler = _installed()
    return handler.level if handler else None


def audit_log_files(folder: Path) -> tuple[int, list[str]]:
    """Scan every log file (rotated ones too) in ``folder`` for ID and phone numbers.

    Returns (lines read, offending lines as "file:line: kind matched"). Used by the test run
    and by anyone who wants to check a laptop's logs.
    """
    lines_read = 0
    problems: list[str] = []
    for path in sorted(folder.glob(LOG_FILE_NAME + "*")):
        with path.open(encoding="utf-8", errors="replace") as fh:
            for number, line in enumerate(fh, 1):
                lines_read += 1
                for label, match in find_sensitive(line):
                    # Point at the leak without repeating it in the report.
                    problems.append(f"{path.name}:{number}: {label} {match[:3]}…{match[-2:]}")
    return lines_read, problems
