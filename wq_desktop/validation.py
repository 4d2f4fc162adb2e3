"""Domain rules for each record kind, run by the store inside the write transaction.

`validate` receives the record as it would be after the write (`new`, column values already
type-checked), fills derived fields, and raises ValidationError with a Chinese message on the first
broken rule. Because it runs before anything is written, a refused change leaves no trace.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING, Any

from . import figures
from .errors import DuplicateError, ValidationError
from .model import (
    AGREEMENT_DATE_FIELD,
    GROUND_STATES,
    IRRIGATION_SIGNS,
    RECTIFICATION_ACTIONS,
    WELL_STATES,
    AgreementStatus,
    ContactRole,
    MeasureKind,
    OperatorKind,
)
from .record_queries import queries_of
from .rules import agreements, identity, masking, patrols, phones, quantities
from .schema import KINDS, Field

if TYPE_CHECKING:
    from .record_queries import RecordQueries

# Areas are figures of record (0.01 亩) and compared as Decimal, so this only lets a file written
# before schema 6 (areas with 15 decimals) be rounded record by record while it is migrated.
AREA_TOLERANCE_MU = 1e-3

Row = dict[str, Any]


def _live_row(store: RecordQueries, kind_name: str, record_uuid: str) -> Row | None:
    return store.live_row(kind_name, record_uuid)


def _check_required_and_refs(store: RecordQueries, kind_name: str, new: Row) -> None:
    for f in _checked_fields(kind_name):
        if f.required and new.get(f.name) is None and not f.derived:
            raise ValidationError(f"请填写“{f.label}”。", f.name)
        if f.ref and new.get(f.name) is not None and _live_row(store, f.ref, new[f.name]) is None:
            raise ValidationError(f"“{f.label}”指向的{KINDS[f.ref].label}不存在或已删除。", f.name)


@cache
def _checked_fields(kind_name: str) -> tuple[Field, ...]:
    """The kind's fields that are required or refer to a record, in schema order (this runs for
    every record a bulk write takes)."""
    return tuple(f for f in KINDS[kind_name].fields if (f.required and not f.derived) or f.ref)


def _unique(store: RecordQueries, kind_name: str, new: Row, uuid: str, columns: tuple[str, ...],
            message: str) -> None:
    clash = store.unique_clash(kind_name, uuid, {c: new[c] for c in columns})
    if clash:
        raise DuplicateError(message, columns[-1], clash)


def _year(new: Row) -> None:
    if not 2000 <= new["year"] <= 2100:
        raise ValidationError(f"年度“{new['year']}”不在 2000–2100 之间。", "year")


def _not_future(new: Row, field: str, label: str) -> None:
    if new.get(field) and date.fromisoformat(new[field]) > date.today():
        raise ValidationError(f"{label}（{new[field]}）晚于今天，请检查。", field)


def _township(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    if not re.fullmatch(r"\d{9}", new["code"]):
        raise ValidationError(f"乡镇代码应为9位数字，实为“{new['code']}”。", "code")
    _unique(store, "township", new, uuid, ("code",), f"乡镇代码 {new['code']} 已存在。")


def _village(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    township = _live_row(store, "township", new["township"])
    assert township is not None
    if not re.fullmatch(r"\d{12}", new["code"]):
        raise ValidationError(f"村代码应为12位数字，实为“{new['code']}”。", "code")
    if not new["code"].startswith(township["code"]):
        raise ValidationError(
            f"村代码 {new['code']} 应以所属乡镇代码 {township['code']} 开头。", "code")
    _unique(store, "village", new, uuid, ("code",), f"村代码 {new['code']} 已存在。")


def _village_group(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    _unique(store, "village_group", new, uuid, ("village", "name"), f"本村已有“{new['name']}”。")


def _contact(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    identity.check_name_length(new["name"], "name", "姓名")
    if new["phone"]:
        new["phone"] = phones.normalize_phone(new["phone"])
    if new["role"] == ContactRole.LEADER and not new["level"]:
        raise ValidationError("包联负责人请选择层级（市/乡/村）。", "level")


def id_clash(store: Any, village: str, id_code: str, uuid: str | None) -> str | None:
    """The sentence for an ID number or credit code another live operator of the same township
    already holds (one person or body is one household there), else None. The form says it as
    the number is typed, the store refuses with it, and 数据检查 reports it in the same words.
    `store`: a Store or its RecordQueries."""
    row = queries_of(store).id_holder(village, id_code, uuid)
    if row is None:
        return None
    return f"证件号 {masking.mask_id(id_code)} 已登记为{row[1]}的{row[0]}，同一乡镇不能重复登记。"


def _operator(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    identity.check_name_length(new["name"], "name")
    new["id_code"] = identity.normalize_identity(new["kind"], new["id_code"], "id_code")
    clash = id_clash(store, new["village"], new["id_code"], uuid)
    if clash:
        raise ValidationError(clash, "id_code")
    if new["phone"]:
        new["phone"] = phones.normalize_phone(new["phone"])
    if new["kind"] in (OperatorKind.COOPERATIVE, OperatorKind.COMPANY) and not new["legal_rep"]:
        raise ValidationError(f"{new['kind']}请填写法定代表人。", "legal_rep")
    if new["group"]:
        group = _live_row(store, "village_group", new["group"])
        if group and group["village"] != new["village"]:
            raise ValidationError("所选的组不属于该村。", "group")
    for field, role in (("leader", ContactRole.LEADER), ("staff", ContactRole.STAFF)):
        if new[field]:
            contact = _live_row(store, "contact", new[field])
            if contact and contact["role"] != role:
                raise ValidationError(f"“{contact['name']}”不是{role}。", field)


def _area_of_record(value: object, field: str) -> float:
    """A typed or computed area as the figure of record; refused when it rounds to nothing."""
    area = figures.area_of_record(quantities.positive_area(value, field))
    if area <= 0:
        raise ValidationError(f"面积 {value} 亩不足 0.01 亩，请核对。", field)
    return figures.stored(area)


def _measure_sum(areas: list[float]) -> Decimal:
    return figures.sum_of_records(areas)


def _parcel(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    if new["geometry"] is not None:
        _, shape_mu, box = store.outline_facts(new["geometry"])  # a batch writer may hold them
        # The figure of record is decided here; the geometric area (polygons.area_mu) stays 图形面积.
        new["area_mu"] = _area_of_record(quantities.parcel_area(shape_mu, "geometry"), "geometry")
        new["minx"], new["miny"], new["maxx"], new["maxy"] = box
    else:
        new["minx"] = new["miny"] = new["maxx"] = new["maxy"] = None
        if new["area_mu"] is None:
            raise ValidationError("地块没有图形时，请填写面积（亩）。", "area_mu")
        new["area_mu"] = _area_of_record(quantities.parcel_area(new["area_mu"], "area_mu"), "area_mu")
    _unique(store, "parcel", new, uuid, ("village", "code"), f"本村已有地块编号 {new['code']}。")
    if old is not None:
        area = figures.to_decimal(new["area_mu"])
        for year in store.measure_years(uuid):
            used = _measure_sum(store.measure_areas(uuid, year))
            if used > area + figures.to_decimal(AREA_TOLERANCE_MU):
                raise ValidationError(
                    f"修改后地块面积 {figures.show(area)} 亩小于 {year} 年度已登记的措施面积合计"
                    f" {figures.show(used)} 亩，请先调整措施面积。", "area_mu")


def _measure(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    _year(new)
    new["area_mu"] = _area_of_record(new["area_mu"], "area_mu")
    area = figures.to_decimal(new["area_mu"])
    parcel = _live_row(store, "parcel", new["parcel"])
    assert parcel is not None
    # A duplicate first: it is the same measure twice, not a second one that overfills the parcel
    # (sync turns a duplicate into a conflict a person settles).
    _unique(store, "measure", new, uuid, ("parcel", "year", "kind"),
            f"地块 {parcel['code']} 在 {new['year']} 年度已有“{new['kind']}”措施，请修改原记录。")
    used = _measure_sum(store.measure_areas(new["parcel"], new["year"], but=uuid))
    parcel_area = figures.to_decimal(parcel["area_mu"])
    if used + area > parcel_area + figures.to_decimal(AREA_TOLERANCE_MU):
        raise ValidationError(
            f"地块 {parcel['code']} 面积 {figures.show(parcel_area)} 亩，{new['year']} 年度已登记其他措施"
            f" {figures.show(used)} 亩，本次 {figures.show(area)} 亩超出地块面积。", "area_mu")
    rate = new["subsidy_rate"]
    if rate is not None and rate < 0:
        raise ValidationError("补助标准不能为负数。", "subsidy_rate")
    if new["kind"] == MeasureKind.PLANTED:
        rate = None  # planted land gets no retirement subsidy
    rate = figures.rate_of_record(rate) if rate is not None else None
    new["subsidy_rate"] = figures.stored(rate)
    # The amount of record: area of record × rate, to the 分 (what the paper multiplies out to).
    new["subsidy_amount"] = figures.stored(figures.amount(area, rate)) if rate is not None else None


def _agreement_number(store: RecordQueries, new: Row) -> str:
    # Deleted ones are counted too, so a number is never given out twice.
    village_code, count = store.agreement_serial(new["operator"], new["year"])
    return f"{new['year']}-{village_code[:9]}-{village_code[9:]}-{count + 1:03d}"


def _agreement(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    _year(new)
    status = AgreementStatus(new["status"])
    if old is None:
        if status != AgreementStatus.DRAFT:
            raise ValidationError("新协议的状态应为“草拟”，再按步骤签订、公示、报备。", "status")
        new["number"] = _agreement_number(store, new)
    elif old["status"] != new["status"]:
        agreements.check_agreement_transition(old["status"], new["status"])
    date_field = AGREEMENT_DATE_FIELD[status]
    if not new[date_field]:
        raise ValidationError(f"请填写{KINDS['agreement'].field(date_field).label}。", date_field)
    steps = [new[AGREEMENT_DATE_FIELD[s]] for s in
             (AgreementStatus.DRAFT, AgreementStatus.SIGNED, AgreementStatus.PUBLICIZED,
              AgreementStatus.FILED)]
    filled = [d for d in steps if d]
    if filled != sorted(filled):
        raise ValidationError("协议各步骤日期应依次为：草拟 ≤ 签订 ≤ 公示 ≤ 报备。", date_field)
    if status == AgreementStatus.TERMINATED and not new["terminate_reason"]:
        raise ValidationError("终止协议请填写终止原因。", "terminate_reason")
    _not_future(new, date_field, "日期")
    if new["publicized_on"]:
        period = notice_period_error(store, new["operator"], new["year"], new["publicized_on"])
        if period:
            raise ValidationError(period, "publicized_on")
    _unique(store, "agreement", new, uuid, ("operator", "year"),
            f"该经营者 {new['year']} 年度已有协议。")


def notice_period_error(store: Any, operator: str, year: int, on: date | str) -> str | None:
    """先公示后兑现: an agreement is 已公示 only through its village's notice for the year, on a day
    of that notice period. The sentence for a date outside it (or no notice yet), else None.
    `store`: a Store or its RecordQueries."""
    day = on if isinstance(on, str) else on.isoformat()
    row = queries_of(store).notice_period(operator, year)
    if row is None:
        return None  # the operator reference is checked (and named) elsewhere
    village, start, end = row
    if start is None:
        return f"{village}尚无 {year} 年度公示期，请先在“村”页登记本年度公示期。"
    if not start <= day <= end:
        return (f"公示日期 {day} 不在{village}本年度公示期（{start} 至 {end}）内，请核对。")
    return None


def _notice(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    _year(new)
    if date.fromisoformat(new["start_on"]).year != new["year"]:
        # A new year's form once carried last year's dates: a 2027 notice dated 2026 is a mistake.
        raise ValidationError(f"公示开始日期应在 {new['year']} 年度内。", "start_on")
    if new["end_on"] < new["start_on"]:
        raise ValidationError("公示结束日期不能早于开始日期。", "end_on")
    if new["objection_count"] is not None and new["objection_count"] < 0:
        raise ValidationError("异议数不能为负数。", "objection_count")
    _unique(store, "notice", new, uuid, ("village", "year"), f"该村 {new['year']} 年度已有公示记录。")


def _patrol(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    import json

    _year(new)
    _not_future(new, "visited_on", "巡查日期")
    patrollers = json.loads(new["patrollers"])
    if not isinstance(patrollers, list) or not patrols.patrol_people(patrollers, None):
        raise ValidationError("请至少填写一名巡查人。", "patrollers")
    for field, allowed in (("ground_state", GROUND_STATES), ("irrigation_signs", IRRIGATION_SIGNS),
                           ("well_state", WELL_STATES)):
        chosen = json.loads(new[field]) if new[field] else []
        wrong = [c for c in chosen if c not in allowed]
        if wrong:
            label = KINDS["patrol"].field(field).label
            raise ValidationError(f"{label}只能选：{'、'.join(allowed)}；实为“{'、'.join(wrong)}”。", field)
    if new["rect_action"] and new["rect_action"] not in RECTIFICATION_ACTIONS:
        raise ValidationError(f"处理措施只能是：{'、'.join(RECTIFICATION_ACTIONS)}。", "rect_action")
    if new["rect_deadline"] and new["rect_deadline"] < new["visited_on"]:
        raise ValidationError("整改期限不能早于巡查日期。", "rect_deadline")
    _not_future(new, "rect_notified_on", "整改通知日期")
    if new["rect_notified_on"]:
        if new["rect_notified_on"] < new["visited_on"]:
            raise ValidationError("整改通知日期不能早于巡查日期。", "rect_notified_on")
        if new["rect_deadline"] and new["rect_notified_on"] > new["rect_deadline"]:
            raise ValidationError("整改通知日期不能晚于整改期限。", "rect_notified_on")
    # Only 已签字/拒签 get this far: the store checks schema choices before these rules run.
    if new["rect_signature"] and not new["rect_notified_on"]:
        # The signature (or refusal) is on the notice, so the notice must have a date.
        raise ValidationError("填写当事人签字情况前请填写整改通知日期。", "rect_notified_on")
    if new["recheck_on"] and new["recheck_on"] < new["visited_on"]:
        raise ValidationError("复查日期不能早于巡查日期。", "recheck_on")
    if new["closed_on"]:
        if not (new["recheck_on"] and new["recheck_result"]):
            raise ValidationError("结案前请填写复查日期和复查结果。", "closed_on")
        if new["closed_on"] < new["recheck_on"]:
            raise ValidationError("结案日期不能早于复查日期。", "closed_on")


def _photo(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    if not re.fullmatch(r"[0-9a-f]{64}", new["sha256"]):
        raise ValidationError("照片摘要应为64位十六进制SHA-256。", "sha256")
    if new["owner_kind"] not in ("patrol", "notice"):
        raise ValidationError("照片只能属于巡查记录或公示。", "owner_kind")
    if _live_row(store, new["owner_kind"], new["owner"]) is None:
        raise ValidationError("照片所属的记录不存在或已删除。", "owner")


def _water_quota(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    _year(new)
    if new["m3_per_mu"] <= 0 or new["m3_per_mu"] > 3000:
        raise ValidationError(
            f"亩均需水量 {new['m3_per_mu']:g} 立方米/亩不合理（应大于0、不超过3000）。", "m3_per_mu")
    _unique(store, "water_quota", new, uuid, ("township", "year", "crop"),
            f"{new['year']} 年度已有“{new['crop']}”的亩均需水量，请修改原记录。")


# A courtyard (庭院) is a house plot; more than this is a field and belongs on a parcel.
COURTYARD_MAX_MU = 20


def _courtyard(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    _year(new)
    new["area_mu"] = _area_of_record(new["area_mu"], "area_mu")
    if new["area_mu"] > COURTYARD_MAX_MU:
        raise ValidationError(
            f"庭院种植面积 {new['area_mu']:.2f} 亩超过 {COURTYARD_MAX_MU} 亩，请核对；"
            "成片耕地请按地块登记。", "area_mu")
    _unique(store, "courtyard", new, uuid, ("operator", "year", "crop"),
            f"该户 {new['year']} 年度已登记庭院种植“{new['crop']}”，请修改原记录。")


def _non_negative(new: Row, field: str, label: str, *, water: bool = False) -> None:
    if new[field] is None:
        return
    value = (figures.water_of_record if water else figures.area_of_record)(new[field])
    if value < 0:
        raise ValidationError(f"{label}不能为负数。", field)
    new[field] = figures.stored(value)


def _water_target(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    _year(new)
    _non_negative(new, "total_wan_m3", "用水总量控制目标", water=True)
    _non_negative(new, "groundwater_wan_m3", "地下水用水量控制目标", water=True)
    if new["total_wan_m3"] <= 0:
        raise ValidationError("用水总量控制目标应大于 0 万立方米。", "total_wan_m3")
    if new["groundwater_wan_m3"] is not None and new["groundwater_wan_m3"] > new["total_wan_m3"]:
        raise ValidationError(
            f"地下水用水量控制目标 {new['groundwater_wan_m3']:.2f} 万立方米大于用水总量控制目标"
            f" {new['total_wan_m3']:.2f} 万立方米。", "groundwater_wan_m3")
    _unique(store, "water_target", new, uuid, ("township", "year"),
            f"本乡镇 {new['year']} 年度已有用水总量控制目标，请修改原记录。")


def _village_target(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    _year(new)
    _non_negative(new, "retired_mu", "计划退减灌溉面积")
    _non_negative(new, "fallow_mu", "计划休耕轮作面积")
    _non_negative(new, "water_wan_m3", "村用水量控制目标", water=True)
    _unique(store, "village_target", new, uuid, ("village", "year"),
            f"该村 {new['year']} 年度已有退减目标，请修改原记录。")


def _conflict(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    import json

    if new["record_kind"] not in KINDS or new["record_kind"] == "conflict":
        raise ValidationError(f"冲突所属的记录类型“{new['record_kind']}”无效。", "record_kind")
    if not isinstance(json.loads(new["fields"]), dict):
        raise ValidationError("冲突字段应为字段到双方取值的对照。", "fields")
    if new["status"] == "已解决" and not new["resolved_by"]:
        raise ValidationError("已解决的冲突请记下处理人。", "resolved_by")


def _supervision(store: RecordQueries, new: Row, old: Row | None, uuid: str) -> None:
    from . import supervision

    supervision.validate(store, new, old)


_RULES: dict[str, Callable[[RecordQueries, Row, Row | None, str], None]] = {
    "township": _township, "village": _village, "village_group": _village_group,
    "contact": _contact, "operator": _operator, "parcel": _parcel, "measure": _measure,
    "agreement": _agreement, "notice": _notice, "patrol": _patrol, "photo": _photo,
    "water_quota": _water_quota, "conflict": _conflict, "courtyard": _courtyard,
    "water_target": _water_target, "village_target": _village_target,
    "supervision": _supervision,
}


def validate(store: Any, kind_name: str, new: Row, old: Row | None, uuid: str) -> None:
    """`store`: a Store, or the questions the rules ask (RecordQueries: the server's)."""
    store = queries_of(store)
    _check_required_and_refs(store, kind_name, new)
    _RULES[kind_name](store, new, old, uuid)
