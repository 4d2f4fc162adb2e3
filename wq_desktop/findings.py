"""What a data check reports: a finding, its severity, and the record it concerns so the app can
open it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "错误"
    WARNING = "提示"


@dataclass(frozen=True)
class Finding:
    severity: Severity
    check: str  # short Chinese name of the check
    message: str
    kind: str | None = None
    record: str | None = None
    other: str | None = None  # the second record of a pair (the other parcel of an overlap)
