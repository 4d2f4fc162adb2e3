"""Agreements and village notices: drafting, each step to 已签订 and beyond, dates corrected."""

from __future__ import annotations

from datetime import date
from typing import Any

from .. import services
from ..model import AgreementStatus
from ..store import Store
from .changes import operation, save_record


@operation
def start_agreement(store: Store, operator: str, year: int, drafted_on: date | str) -> str:
    return services.start_agreement(store, operator, year, drafted_on)


@operation
def advance_agreement(store: Store, agreement: str, target: AgreementStatus | str,
                      on: date | str | None = None, reason: str | None = None) -> int:
    """One allowed step (公示, 签订 …) or 终止."""
    return services.advance_agreement(store, agreement, target, on, reason)


def sign_agreement(store: Store, agreement: str, on: date | str | None = None):  # type: ignore[no-untyped-def]
    return advance_agreement(store, agreement, AgreementStatus.SIGNED, on)


@operation
def correct_agreement_date(store: Store, agreement: str, field: str, on: date | str) -> int:
    return services.correct_agreement_date(store, agreement, field, on)


@operation
def save_notice(store: Store, uuid: str | None, values: dict[str, Any], *,
                base_rev: int | None = None) -> str:
    """A village's 公示 (village and year in `values` when new)."""
    return save_record(store, "notice", uuid, values, base_rev=base_rev)
