"""Domain actions that are more than one plain write: agreement steps, measures, 包联 assignment.

Each action runs in one transaction through the store's write path, so it either happens whole,
with its history, or not at all.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date

from . import rules
from .errors import ValidationError
from .model import AGREEMENT_DATE_FIELD, AgreementStatus, MeasureKind
from .store import Store


def start_agreement(store: Store, operator_uuid: str, year: int, drafted_on: date | str) -> str:
    return store.create("agreement", {"operator": operator_uuid, "year": year,
                                      "status": AgreementStatus.DRAFT, "drafted_on": drafted_on})


def advance_agreement(store: Store, agreement_uuid: str, target: AgreementStatus | str,
                      on: date | str | None = None, reason: str | None = None) -> int:
    """Move an agreement one allowed step (or to 终止), recording the date of the step."""
    target = AgreementStatus(target)
    agreement = store.get("agreement", agreement_uuid)
    rules.check_agreement_transition(agreement["status"], target)
    values: dict[str, object] = {"status": target,
                                 AGREEMENT_DATE_FIELD[target]: on or date.today()}
    if target == AgreementStatus.TERMINATED:
        values["terminate_reason"] = reason
    return store.update("agreement", agreement_uuid, values, base_rev=agreement["rev"])


def set_measure(store: Store, parcel_uuid: str, year: int, kind: MeasureKind | str,
                area_mu: float | str | None, subsidy_rate: float | str | None = None) -> str | None:
    """Set this year's area for one measure of a parcel; an empty area removes the measure."""
    kind = MeasureKind(kind)
    existing = store.find_one("measure", "parcel=? AND year=? AND kind=?", (parcel_uuid, year, kind))
    with store.transaction():
        if area_mu in (None, "", 0, 0.0):
            if existing:
                store.delete("measure", existing["uuid"])
            return None
        values = {"area_mu": area_mu, "subsidy_rate": subsidy_rate}
        if existing:
            store.update("measure", existing["uuid"], values)
            return existing["uuid"]
        return store.create("measure", {"parcel": parcel_uuid, "year": year, "kind": kind, **values})


def assign_contacts(store: Store, operator_uuids: Iterable[str], *, leader: str | None = None,
                    staff: str | None = None) -> int:
    """Give many households the same 包联 leader and/or staff member at once; returns how many."""
    if leader is None and staff is None:
        raise ValidationError("请选择包联负责人或工作人员。")
    values = {k: v for k, v in (("leader", leader), ("staff", staff)) if v is not None}
    count = 0
    with store.transaction():
        for operator_uuid in operator_uuids:
            store.update("operator", operator_uuid, values)
            count += 1
    return count
