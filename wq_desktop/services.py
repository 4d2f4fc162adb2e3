"""Domain actions that are more than one plain write: agreement steps, measures, 包联 assignment,
deleting and restoring a whole household (what belongs to it: household_scope).

Each action runs in one transaction through the store's write path, so it either happens whole,
with its history, or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from . import household_scope
from .errors import ValidationError
from .model import AGREEMENT_DATE_FIELD, AgreementStatus, MeasureKind
from .rules import dates
from .rules.agreements import check_agreement_transition
from .store import Store


def start_agreement(store: Store, operator_uuid: str, year: int, drafted_on: date | str) -> str:
    return store.create("agreement", {"operator": operator_uuid, "year": year,
                                      "status": AgreementStatus.DRAFT, "drafted_on": drafted_on})


def advance_agreement(store: Store, agreement_uuid: str, target: AgreementStatus | str,
                      on: date | str | None = None, reason: str | None = None) -> int:
    """Move an agreement one allowed step (or to 终止), recording the date of the step."""
    target = AgreementStatus(target)
    agreement = store.get("agreement", agreement_uuid)
    check_agreement_transition(agreement["status"], target)
    on = dates.parse_date(on or date.today(), AGREEMENT_DATE_FIELD[target])
    values: dict[str, object] = {"status": target, AGREEMENT_DATE_FIELD[target]: on}
    if target == AgreementStatus.TERMINATED:
        values["terminate_reason"] = reason
    return store.update("agreement", agreement_uuid, values, base_rev=agreement["rev"])


def correct_agreement_date(store: Store, agreement_uuid: str, field: str, on: date | str) -> int:
    """Correct the date of a step already taken (a typo found later). The agreement's rules (step
    order, notice period, not in the future) apply as for the step itself; the history keeps the
    old date beside the new one."""
    agreement = store.get("agreement", agreement_uuid)
    if field not in AGREEMENT_DATE_FIELD.values():
        raise ValidationError(f"协议没有日期字段“{field}”。", field)
    if not agreement[field]:
        raise ValidationError("该步骤尚未进行，没有日期可更正；请按步骤办理。", field)
    return store.update("agreement", agreement_uuid, {field: dates.parse_date(on, field)},
                        base_rev=agreement["rev"])


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


# ---------------------------------------------------------------- deleting a whole household

# The order a household's records come back in: each one's references must be live again first.
_RESTORE_ORDER = (household_scope.OPERATOR, *household_scope.BELONGS)


@dataclass
class HouseholdRecords:
    """The live records deleting a household takes with it, by kind."""

    parcels: list[str] = field(default_factory=list)
    measures: list[str] = field(default_factory=list)
    patrols: list[str] = field(default_factory=list)
    photos: list[str] = field(default_factory=list)
    agreements: list[str] = field(default_factory=list)
    courtyards: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """"地块 3 块、各年度措施 5 条、协议 1 份、巡查记录 2 条、照片 4 张" (kinds with none left out)."""
        parts = [(f"地块 {len(self.parcels)} 块", self.parcels),
                 (f"各年度措施 {len(self.measures)} 条", self.measures),
                 (f"协议 {len(self.agreements)} 份", self.agreements),
                 (f"巡查记录 {len(self.patrols)} 条", self.patrols),
                 (f"庭院种植 {len(self.courtyards)} 条", self.courtyards),
                 (f"照片 {len(self.photos)} 张", self.photos)]
        return "、".join(text for text, items in parts if items) or "无其他记录"


def household_records(store: Store, operator_uuid: str) -> HouseholdRecords:
    """What `delete_household` would tombstone besides the operator itself."""
    found = household_scope.household_records(store, operator_uuid)
    return HouseholdRecords(parcels=found["parcel"], measures=found["measure"], patrols=found["patrol"],
                            photos=found["photo"], agreements=found["agreement"],
                            courtyards=found["courtyard"])


def _meta_key(operator_uuid: str) -> str:
    return f"household_delete:{operator_uuid}"


def _last_entry(store: Store, record_uuid: str) -> tuple[int, str] | None:
    return store.conn.execute("SELECT seq, op FROM history WHERE record=? ORDER BY seq DESC LIMIT 1",
                              (record_uuid,)).fetchone()


def delete_household(store: Store, operator_uuid: str) -> list[tuple[str, str]]:
    """Tombstone a household with everything that is its own: its parcels with their measures,
    patrols and photos, then the operator with its agreements. One transaction; every record gets
    its own history entry. Returns every (kind, uuid) tombstoned."""
    store.get("operator", operator_uuid)  # a clear message when it is already gone
    deleted: list[tuple[str, str]] = []
    with store.transaction():
        for parcel in household_records(store, operator_uuid).parcels:
            deleted += store.delete("parcel", parcel, cascade=True)
        deleted += store.delete("operator", operator_uuid, cascade=True)
        # Which records went together, so a restore brings back exactly these (history alone
        # cannot tell them from a record of the household deleted on its own just before).
        last = _last_entry(store, operator_uuid)
        assert last is not None
        store.set_meta(_meta_key(operator_uuid), json.dumps({"seq": last[0], "records": deleted}))
    return deleted


def _deleted_with(store: Store, operator_uuid: str) -> list[tuple[str, str]]:
    """The records tombstoned together with this operator by `delete_household`."""
    last = _last_entry(store, operator_uuid)
    if last is None or last[1] != "delete":
        raise ValidationError("该经营者没有被删除，无需恢复。")
    saved = store.meta(_meta_key(operator_uuid))
    if saved:
        batch = json.loads(saved)
        if batch["seq"] == last[0]:
            return [(k, u) for k, u in batch["records"]]
    # Deleted on another device (or before this function existed): the unbroken run of delete
    # entries of the household's records ending at the operator's own delete.
    belongs = {uuid for _kind, uuid in
               household_scope.household_record_list(store, operator_uuid, include_deleted=True)}
    together: list[tuple[str, str]] = []
    for kind_name, record, op in store.conn.execute(
            "SELECT kind, record, op FROM history WHERE seq<=? ORDER BY seq DESC", (last[0],)):
        if op != "delete" or record not in belongs:
            break
        together.append((kind_name, record))
    return together


def restore_household(store: Store, operator_uuid: str) -> list[tuple[str, str]]:
    """Undo `delete_household`: bring back the operator and exactly the records deleted with it,
    in one transaction, each with its own 恢复 history entry. Returns every (kind, uuid) restored."""
    records = _deleted_with(store, operator_uuid)
    records.sort(key=lambda kr: _RESTORE_ORDER.index(kr[0]) if kr[0] in _RESTORE_ORDER else 99)
    with store.transaction():
        for kind_name, record in records:
            store.restore(kind_name, record)
        store.set_meta(_meta_key(operator_uuid), None)
    return records
