"""Declaration of every record kind the store holds.

The tables, the migrations, validation of plain field types, the change history and sync all read
this one declaration, so a field is added in one place. `since` is the schema version that added a
field or kind; migrations add exactly those columns when moving a file forward.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from .model import (
    RECT_SIGNATURES,
    SUPERVISION_TARGETS,
    AgreementStatus,
    ContactRole,
    LandAttribute,
    LeaderLevel,
    MeasureKind,
    OperatorKind,
    PatrolResult,
    PatrolStage,
    SupervisionStatus,
)

# Column types: text, int, real, date (ISO text), json (list/dict as text), geom (WKB blob).
FIELD_TYPES = ("text", "int", "real", "date", "json", "geom")

# The longest value a field takes, by type unless the field says otherwise: characters of text,
# characters of the JSON text of a list, bytes of a geometry's WKB (62,000 vertices). The laptop's
# store refuses longer values, and the server checks pushed changes against the same numbers.
MAX_LENGTH = {"text": 200, "date": 10, "json": 20_000, "geom": 1_000_000}
LONG_TEXT = 2_000  # notes, descriptions, objections: a page of writing

# Columns every record table carries, managed by the store (never set by callers).
SYSTEM_COLUMNS = ("uuid", "rev", "created_at", "created_by", "updated_at", "updated_by", "deleted")


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    required: bool = False
    ref: str | None = None  # kind this field holds the UUID of
    choices: tuple[str, ...] | None = None
    derived: bool = False  # computed by the core from other fields; callers cannot set it
    since: int = 1
    max_len: int | None = None  # None: MAX_LENGTH of the type; ints and reals have none

    def __post_init__(self) -> None:
        assert self.type in FIELD_TYPES, self.type

    @cached_property
    def max_length(self) -> int | None:
        return self.max_len or MAX_LENGTH.get(self.type)


@dataclass(frozen=True)
class Kind:
    name: str  # table name
    label: str  # Chinese name for messages
    fields: tuple[Field, ...]
    since: int = 1

    def field(self, name: str) -> Field:
        try:
            return self._by_name[name]
        except KeyError:
            raise KeyError(f"{self.name}.{name}") from None

    @cached_property
    def _by_name(self) -> dict[str, Field]:
        # A dict, not a scan: bulk writes and pulls look fields up millions of times.
        return {f.name: f for f in self.fields}

    @cached_property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)




# The 三调 DLTB fields a parcel keeps: (field name, type, label). gis_import and gis_export read the
# 三调 names (upper case) from here; the parcel dialog shows the labels.
SANDIAO_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("bsm", "text", "标识码（BSM）"),
    ("tbbh", "text", "图斑编号（TBBH）"),
    ("dlbm", "text", "地类编码（DLBM）"),
    ("dlmc", "text", "地类名称（DLMC）"),
    ("tbmj", "real", "图斑面积（TBMJ，平方米）"),
    ("qsxz", "text", "权属性质（QSXZ）"),
    ("zldwdm", "text", "坐落单位代码（ZLDWDM）"),
)


def _choices(enum: type) -> tuple[str, ...]:
    return tuple(m.value for m in enum)  # type: ignore[attr-defined]


KINDS: dict[str, Kind] = {
    k.name: k
    for k in (
        Kind("township", "乡镇", (
            Field("code", "text", "乡镇代码", required=True),
            Field("name", "text", "乡镇名称", required=True),
        )),
        Kind("village", "村", (
            Field("township", "text", "所属乡镇", required=True, ref="township"),
            Field("code", "text", "村代码", required=True),
            Field("name", "text", "村名称", required=True),
        )),
        Kind("village_group", "组", (
            Field("village", "text", "所属村", required=True, ref="village"),
            Field("name", "text", "组名称", required=True),
        )),
        Kind("contact", "包联人员", (
            Field("township", "text", "所属乡镇", required=True, ref="township"),
            Field("role", "text", "角色", required=True, choices=_choices(ContactRole)),
            Field("name", "text", "姓名", required=True),
            Field("post", "text", "职务"),
            Field("phone", "text", "联系电话"),
            Field("level", "text", "层级", choices=_choices(LeaderLevel)),
        )),
        Kind("operator", "耕地经营者", (
            Field("village", "text", "所属村", required=True, ref="village"),
            Field("group", "text", "所属组", ref="village_group"),
            Field("name", "text", "姓名/名称", required=True),
            Field("kind", "text", "经营者类型", required=True, choices=_choices(OperatorKind)),
            Field("id_code", "text", "身份证号/统一社会信用代码", required=True),
            Field("legal_rep", "text", "法定代表人"),
            Field("phone", "text", "联系电话"),
            Field("address", "text", "住址"),
            Field("leader", "text", "包联负责人", ref="contact"),
            Field("staff", "text", "包联工作人员", ref="contact"),
            Field("note", "text", "备注", max_len=LONG_TEXT),
        )),
        Kind("parcel", "地块", (
            Field("village", "text", "所属村", required=True, ref="village"),
            Field("operator", "text", "耕地经营者", ref="operator"),
            Field("code", "text", "地块编号", required=True),
            Field("place_name", "text", "小地名"),
            Field("land_attribute", "text", "土地属性", required=True,
                  choices=_choices(LandAttribute)),
            Field("east", "text", "东至"),
            Field("south", "text", "南至"),
            Field("west", "text", "西至"),
            Field("north", "text", "北至"),
            Field("geometry", "geom", "地块图形"),
            # Derived from the geometry when there is one; typed in only for parcels not yet mapped.
            Field("area_mu", "real", "面积（亩）"),
            Field("water_source", "text", "灌溉水源"),
            Field("crop", "text", "种植作物"),
            # Bounding box, kept for fast map and overlap queries (added in schema 2).
            Field("minx", "real", "范围", derived=True, since=2),
            Field("miny", "real", "范围", derived=True, since=2),
            Field("maxx", "real", "范围", derived=True, since=2),
            Field("maxy", "real", "范围", derived=True, since=2),
            # 三调 (DLTB) keys, kept as the bureau's file had them so results join back to its 图斑
            # (added in schema 8). Names are TD/T 1016's, lower-case; the file's TBMJ is in m².
            *(Field(name, kind, label, since=8) for name, kind, label in SANDIAO_FIELDS),
        )),
        Kind("measure", "年度措施", (
            Field("parcel", "text", "地块", required=True, ref="parcel"),
            Field("year", "int", "年度", required=True),
            Field("kind", "text", "措施", required=True, choices=_choices(MeasureKind)),
            Field("area_mu", "real", "面积（亩）", required=True),
            Field("subsidy_rate", "real", "补助标准（元/亩）"),
            Field("subsidy_amount", "real", "补助金额（元）", derived=True),
        )),
        Kind("agreement", "协议", (
            Field("operator", "text", "耕地经营者", required=True, ref="operator"),
            Field("year", "int", "年度", required=True),
            Field("number", "text", "协议编号", derived=True),
            Field("status", "text", "状态", required=True, choices=_choices(AgreementStatus)),
            Field("drafted_on", "date", "草拟日期"),
            Field("signed_on", "date", "签订日期"),
            Field("publicized_on", "date", "公示日期"),
            Field("filed_on", "date", "报备日期"),
            Field("terminated_on", "date", "终止日期"),
            Field("terminate_reason", "text", "终止原因", max_len=LONG_TEXT),
        )),
        Kind("notice", "公示", (
            Field("village", "text", "村", required=True, ref="village"),
            Field("year", "int", "年度", required=True),
            Field("start_on", "date", "公示开始日期", required=True),
            Field("end_on", "date", "公示结束日期", required=True),
            Field("objection_count", "int", "收到异议数"),
            Field("objections", "text", "异议情况", max_len=LONG_TEXT),
            Field("photo", "text", "公示现场照片"),
        )),
        Kind("patrol", "巡查记录", (
            Field("parcel", "text", "地块", required=True, ref="parcel"),
            Field("year", "int", "年度", required=True),
            Field("stage", "text", "巡查节点", required=True, choices=_choices(PatrolStage)),
            Field("visited_on", "date", "巡查日期", required=True),
            Field("patrollers", "json", "巡查人", required=True),
            Field("escort", "text", "陪同人"),
            Field("ground_state", "json", "地表状况"),
            Field("irrigation_signs", "json", "灌溉痕迹"),
            Field("well_state", "json", "机井状况"),
            Field("meter_reading", "real", "电表读数"),
            Field("result", "text", "判定", required=True, choices=_choices(PatrolResult)),
            Field("description", "text", "问题描述", max_len=LONG_TEXT),
            Field("rect_requirement", "text", "整改要求", max_len=LONG_TEXT),
            Field("rect_deadline", "date", "整改期限"),
            Field("rect_responsible", "text", "整改责任人"),
            Field("rect_action", "text", "处理措施", max_len=LONG_TEXT),
            # The notice's date and whether the operator signed it (domain §3 整改通知, 签字/拒签).
            Field("rect_notified_on", "date", "整改通知日期", since=4),
            Field("rect_signature", "text", "当事人签字情况", choices=RECT_SIGNATURES, since=4),
            Field("recheck_on", "date", "复查日期"),
            Field("recheck_result", "text", "复查结果", max_len=LONG_TEXT),
            Field("closed_on", "date", "结案日期"),
        )),
        # 亩均需水量 per crop: the plan's basis for turning retired 亩 into water saved.
        Kind("water_quota", "亩均需水量", (
            Field("township", "text", "所属乡镇", required=True, ref="township"),
            Field("year", "int", "年度", required=True),
            Field("crop", "text", "作物", required=True),
            Field("m3_per_mu", "real", "亩均需水量（立方米/亩）", required=True),
        ), since=2),
        # 庭院种植 (plan (二)1: 实际种植含庭院种植面积): per household and year, usually without a
        # mapped parcel. Counted in 实际种植 and in water use; never retired, fallowed or paid.
        Kind("courtyard", "庭院种植", (
            Field("operator", "text", "耕地经营者", required=True, ref="operator"),
            Field("year", "int", "年度", required=True),
            Field("crop", "text", "种植作物", required=True),
            Field("area_mu", "real", "面积（亩）", required=True),
        ), since=7),
        # The township's water-use control target for a year (plan (五)1: set by 7月10日 for next year).
        Kind("water_target", "用水总量控制目标", (
            Field("township", "text", "所属乡镇", required=True, ref="township"),
            Field("year", "int", "目标年度", required=True),
            Field("total_wan_m3", "real", "用水总量控制目标（万立方米）", required=True),
            Field("groundwater_wan_m3", "real", "地下水用水量控制目标（万立方米）"),
        ), since=7),
        # Per village, the 退减灌溉 / 休耕轮作 area planned for a year (plan (六)1) and the water
        # it is allotted (plan (五)2: 细化到村).
        Kind("village_target", "村退减目标", (
            Field("village", "text", "村", required=True, ref="village"),
            Field("year", "int", "目标年度", required=True),
            Field("retired_mu", "real", "计划退减灌溉面积（亩）", required=True),
            Field("fallow_mu", "real", "计划休耕轮作面积（亩）", required=True),
            Field("water_wan_m3", "real", "用水量控制目标（万立方米）"),
        ), since=7),
        # 督办: the city office's finding about a township, village, household or parcel, with a
        # due date; it syncs to that township's laptops, whose staff answer it (回复, 已整改).
        # Issued on the server only (wq_server.web); `target` names a record of `target_kind`.
        Kind("supervision", "督办", (
            Field("township", "text", "所属乡镇", required=True, ref="township"),
            Field("target_kind", "text", "督办对象类型", required=True,
                  choices=tuple(SUPERVISION_TARGETS)),
            Field("target", "text", "督办对象", required=True),
            Field("note", "text", "督办事项", required=True, max_len=LONG_TEXT),
            Field("due_on", "date", "办理期限", required=True),
            Field("issued_by", "text", "督办人"),
            Field("issued_on", "date", "督办日期"),
            Field("status", "text", "办理状态", required=True, choices=_choices(SupervisionStatus)),
            Field("reply", "text", "回复", max_len=LONG_TEXT),
            Field("replied_by", "text", "回复人"),
            Field("replied_on", "date", "回复日期"),
        ), since=11),
        Kind("photo", "照片", (
            Field("owner_kind", "text", "所属记录类型", required=True),
            Field("owner", "text", "所属记录", required=True),
            Field("sha256", "text", "文件摘要", required=True),
            Field("file_name", "text", "原文件名"),
            Field("size", "int", "大小（字节）"),
            Field("taken_at", "text", "拍摄时间"),
            Field("lat", "real", "纬度"),
            Field("lon", "real", "经度"),
        )),
        # A sync conflict is itself a synced record, so it is marked, and resolved, on every device.
        # `fields` maps each field in dispute to {"mine": value, "theirs": value} in wire form
        # ("deleted" stands for the record's tombstone); "mine" is the side that reached the server second
# (sync.conflicts shows each device its own side as "mine").
        Kind("conflict", "同步冲突", (
            Field("record_kind", "text", "记录类型", required=True),
            Field("record", "text", "记录", required=True),
            Field("fields", "json", "冲突字段", required=True, max_len=4_200_000),
            # "create": this device created a record the server already held under another UUID
            # (a uniqueness rule, say one 退减 measure per parcel and year); `record` is the held
            # one, `duplicate` the refused one, and choosing "mine" merges its values into it.
            Field("mine_op", "text", "本方操作", required=True,
                  choices=("create", "update", "delete")),
            Field("theirs_op", "text", "对方操作", required=True, choices=("update", "delete")),
            Field("mine_user", "text", "本方用户"),
            Field("mine_device", "text", "本方设备"),
            Field("mine_at", "text", "本方修改时间"),
            Field("theirs_user", "text", "对方用户"),
            Field("theirs_device", "text", "对方设备"),
            Field("theirs_at", "text", "对方修改时间"),
            Field("status", "text", "状态", required=True, choices=("未解决", "已解决")),
            Field("resolved_by", "text", "处理人"),
            Field("resolved_at", "text", "处理时间"),
            Field("resolution", "json", "处理结果", max_len=4_200_000),
            Field("duplicate", "text", "本机重复新增的记录", since=5),
        ), since=3),
    )
}

# Version 3 also adds the sync tables (migrations._TABLE_STEPS); version 4 the patrol's rectification
# notice date and signature; version 5 the outbox's own base revisions (migrations._DATA_STEPS) and
# duplicate-create conflicts; version 6 rounds stored areas and amounts to figures of record;
# version 7 庭院种植 and the targets; version 8 the parcel's 三调 keys; version 10 the local
# accounts and the security log; version 11 督办 (supervision); version 13 the index the 查找农户
# box scans; version 14 outbox rows that name their history entry instead of repeating the
# record's fields, and one parcel index less (migrations._outbox_refers_to_history). The floor
# is stated here as well so the version cannot fall back if a field's `since` is ever changed
# by mistake.
SCHEMA_VERSION = max(
    [4, 5, 6, 7, 8, 10, 11, 13, 14] + [max([k.since] + [f.since for f in k.fields]) for k in KINDS.values()]
)


def kind(name: str) -> Kind:
    try:
        return KINDS[name]
    except KeyError:
        raise KeyError(f"未知的记录类型：{name}") from None
