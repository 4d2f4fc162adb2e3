"""Domain vocabulary: the fixed values the plan and domain.md define. Chinese values are stored as is."""

from __future__ import annotations

from enum import StrEnum

# 1 亩 = 10000/15 m² exactly (666⅔ m²).
SQM_PER_MU = 10000 / 15


class OperatorKind(StrEnum):
    FARMER = "农户"
    COOPERATIVE = "合作社"
    COMPANY = "企业"
    VILLAGE_COLLECTIVE = "村集体"


class LandAttribute(StrEnum):
    CONTRACTED = "农民土地承包确权颁证耕地"
    COLLECTIVE_RESERVE = "集体机动地"
    STATE_OUTSIDE = "确权以外国有耕地"


# Short forms of LandAttribute for tables and lists (a legend under a printed table spells them out).
ATTRIBUTE_SHORT = {
    LandAttribute.CONTRACTED.value: "承包确权地",
    LandAttribute.COLLECTIVE_RESERVE.value: "集体机动地",
    LandAttribute.STATE_OUTSIDE.value: "确权外国有地",
}
# What an unmasked copy (full ID numbers and phones) says in its title, sheet name and file name.
INTERNAL_ONLY = "仅限内部使用，不得公开"


class MeasureKind(StrEnum):
    PLANTED = "实际种植"
    RETIRED = "退减灌溉"
    FALLOW = "休耕轮作"


class AgreementStatus(StrEnum):
    DRAFT = "草拟"
    SIGNED = "已签订"
    PUBLICIZED = "已公示"
    FILED = "已报备"
    TERMINATED = "终止"


# Forward steps only; 终止 is allowed from every status except itself.
AGREEMENT_NEXT: dict[AgreementStatus, AgreementStatus] = {
    AgreementStatus.DRAFT: AgreementStatus.SIGNED,
    AgreementStatus.SIGNED: AgreementStatus.PUBLICIZED,
    AgreementStatus.PUBLICIZED: AgreementStatus.FILED,
}

# The agreement column that holds the date of reaching each status.
AGREEMENT_DATE_FIELD: dict[AgreementStatus, str] = {
    AgreementStatus.DRAFT: "drafted_on",
    AgreementStatus.SIGNED: "signed_on",
    AgreementStatus.PUBLICIZED: "publicized_on",
    AgreementStatus.FILED: "filed_on",
    AgreementStatus.TERMINATED: "terminated_on",
}


class ContactRole(StrEnum):
    LEADER = "包联负责人"
    STAFF = "工作人员"


class LeaderLevel(StrEnum):
    CITY = "市"
    TOWNSHIP = "乡"
    VILLAGE = "村"


class PatrolStage(StrEnum):
    AUTUMN_PLOUGH = "秋翻"
    WINTER_IRRIGATION = "冬压"
    SPRING_SOWING = "春播"
    SPECIAL = "专项"
    RECHECK = "复查"


class PatrolResult(StrEnum):
    COMPLIANT = "合规"
    IRRIGATED = "违规-灌溉"
    PLANTED = "违规-种植"
    WELL_USED = "违规-用井"
    OTHER = "其他"


GROUND_STATES = ("未动", "已翻耕", "已播种", "有出苗", "铺设滴灌带")
IRRIGATION_SIGNS = ("湿土", "积水", "管道连通")
WELL_STATES = ("封存完好", "铅封破损", "电表或IC卡有用水记录")
# Whether the operator signed the rectification notice (domain.md §3: 当事人签字/拒签).
RECT_SIGNATURES = ("已签字", "拒签")
RECTIFICATION_ACTIONS = ("劝导", "铲除", "扣减或追回补助", "取消资格", "移交水政执法")

DEFAULT_CRS = "EPSG:4538"
DEFAULT_NOTICE_DAYS = 7


class RecordOp(StrEnum):
    """What a change did to a record: the one vocabulary of the store, the history, the views, the
    sync protocol and the server. A history entry can only carry one of these."""

    CREATE = "create"
    UPDATE = "update"
    DELETE = "delete"
    RESTORE = "restore"
    MIGRATE = "migrate"  # a schema upgrade filled a derived field; never synced
    EXPORT = "export"  # an unmasked export of the record's data (Store.log_event); never synced


RECORD_OP_LABELS: dict[RecordOp, str] = {
    RecordOp.CREATE: "新建",
    RecordOp.UPDATE: "修改",
    RecordOp.DELETE: "删除",
    RecordOp.RESTORE: "恢复",
    RecordOp.MIGRATE: "数据升级",
    RecordOp.EXPORT: "导出",
}

# The operations a device may push to the server.
SYNCED_OPS: tuple[RecordOp, ...] = (RecordOp.CREATE, RecordOp.UPDATE, RecordOp.DELETE,
                                    RecordOp.RESTORE)


def record_op_label(op: str) -> str:
    """The Chinese word for an operation; a value from a newer program shows as itself."""
    try:
        return RECORD_OP_LABELS[RecordOp(op)]
    except ValueError:
        return op


def op_between(old_exists: bool, old_deleted: bool, new_deleted: bool) -> RecordOp:
    """The operation that takes a record from one state to the other (for pulled full states)."""
    if not old_exists:
        return RecordOp.CREATE
    if old_deleted != new_deleted:
        return RecordOp.DELETE if new_deleted else RecordOp.RESTORE
    return RecordOp.UPDATE


class SupervisionStatus(StrEnum):
    """A 督办's state: the office issues it 待办理; the township answers 已回复 or 已整改."""

    OPEN = "待办理"
    ANSWERED = "已回复"
    RECTIFIED = "已整改"


# What a 督办 can be about (record kinds), with their Chinese names.
SUPERVISION_TARGETS = {"township": "乡镇", "village": "村", "operator": "农户", "parcel": "地块"}
