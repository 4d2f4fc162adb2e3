"""The shape of every request body, as pydantic models, so a malformed request is refused with a
reason (HTTP 422) instead of failing somewhere inside (HTTP 500).

A pushed page is checked in two steps: the page itself (device, a list of at most so many
changes), then each change on its own, so one bad change is refused with its reason and the others
in the page are applied. The field values of a change are checked against the record kind's
declaration in `wq_desktop.schema`, with the maximum lengths the laptop's store enforces.
"""

from __future__ import annotations

import json
import math
from functools import cache
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    StrictFloat,
    StrictInt,
    StrictStr,
    StringConstraints,
    ValidationError,
    create_model,
    field_validator,
)
from pydantic import Field as Bounded

from wq_desktop.schema import KINDS, Field, Kind
from wq_desktop.sync import protocol as p

from .authors import Accounts

MAX_PAGE = 5 * p.PUSH_PAGE
Name = Annotated[StrictStr, StringConstraints(min_length=1, max_length=100)]
Ident = Annotated[StrictStr, StringConstraints(min_length=1, max_length=64)]
Sha256 = Annotated[StrictStr, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Stamp = Annotated[StrictStr, StringConstraints(max_length=40)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Login(Strict):
    user: Annotated[StrictStr, StringConstraints(max_length=100)]
    password: Annotated[StrictStr, StringConstraints(max_length=128)]


class PushPage(Strict):
    device: Name
    changes: Annotated[list[Any], Bounded(max_length=MAX_PAGE)]  # each checked alone: parse_change
    accounts: Accounts = []  # the laptop's accounts: the authors its changes may name (authors.py)


class PhotoHashes(Strict):
    hashes: Annotated[list[Sha256], Bounded(max_length=5000)]


class Manifest(Strict):
    """manifest.json of a USB package from a device (format and direction checked by the core)."""

    device: Name
    user: Annotated[StrictStr, StringConstraints(max_length=100)] | None = None
    cursor: Annotated[StrictInt, Bounded(ge=0)] | None = 0
    photos: Annotated[list[Sha256], Bounded(max_length=100_000)] = []
    accounts: Accounts = []
    # The laptop's public key (hex X25519): the reply package is sealed to it.
    device_key: Annotated[StrictStr, StringConstraints(pattern=r"^[0-9a-f]{64}$")]


class Change(Strict):
    change_id: Ident
    kind: Literal[tuple(KINDS)]  # type: ignore[valid-type]
    record: Ident
    op: Literal["create", "update", "delete", "restore"]
    base_rev: Annotated[StrictInt, Bounded(ge=0)] | None = 0
    fields: dict[str, Any]
    at: Stamp | None = None
    user: Annotated[StrictStr, StringConstraints(max_length=100)] | None = None

    @field_validator("fields")
    @classmethod
    def _fields_of_kind(cls, fields: dict[str, Any], info: Any) -> dict[str, Any]:
        name = info.data.get("kind")
        if name is None:
            return fields  # the kind's own error is reported
        try:
            _values_model(name).model_validate(fields)
        except ValidationError as err:
            raise ValueError(_field_reason(KINDS[name], err)) from None
        return fields


def parse_change(raw: Any) -> tuple[Change | None, str | None, str]:
    """(the change, None, its id) or (None, the reason in Chinese, whatever id it carried)."""
    change_id = raw.get("change_id") if isinstance(raw, dict) else None
    shown = change_id if isinstance(change_id, str) and len(change_id) <= 64 else "?"
    try:
        return Change.model_validate(raw), None, shown
    except ValidationError as err:
        return None, change_reason(err), shown


def change_reason(err: ValidationError) -> str:
    first = err.errors()[0]
    where = ".".join(str(x) for x in first["loc"])
    if first["type"] == "value_error":  # from _fields_of_kind: already a sentence
        return "变更格式不正确：" + str(first["ctx"]["error"])
    if not first["loc"]:
        return "变更格式不正确：每条变更应为一个对象。"
    labels = {"change_id": "变更编号", "kind": "记录类型", "record": "记录编号", "op": "操作",
              "base_rev": "基础版本", "fields": "字段", "at": "修改时间", "user": "用户"}
    return f"变更格式不正确：“{labels.get(where, where)}”{_TYPE_TEXT.get(first['type'], '不符合要求')}。"


_TYPE_TEXT = {
    "missing": "缺失", "string_type": "应为文字", "int_type": "应为整数", "dict_type": "应为对象",
    "literal_error": "不是可用的值", "string_too_long": "过长", "string_too_short": "为空",
    "greater_than_equal": "不能为负数", "list_type": "应为列表", "too_long": "条目过多",
    "string_pattern_mismatch": "格式不正确", "float_type": "应为数字", "finite_number": "不是有效数字",
}


def _field_reason(k: Kind, err: ValidationError) -> str:
    first = err.errors()[0]
    name = str(first["loc"][0]) if first["loc"] else ""
    try:
        f = k.field(name)
    except KeyError:
        return f"{k.label}的字段“{name}”不正确。"
    if first["type"] == "value_error":
        return str(first["ctx"]["error"])
    if first["type"] == "string_too_long":
        return f"“{f.label}”最多 {f.max_length} 字。"
    if f.type == "real" and first["type"] in ("int_type", "float_type"):
        return f"“{f.label}”应为数字。"
    return f"“{f.label}”{_TYPE_TEXT.get(first['type'], '不符合要求')}。"


def _geometry_hex(limit: int) -> Any:
    def check(value: Any) -> Any:
        if value is None:
            return None
        if not isinstance(value, str):
            raise ValueError("地块图形应为十六进制 WKB 文字。")
        if len(value) > 2 * limit:
            raise ValueError(f"地块图形的顶点过多（超过 {limit // 16} 个）。")
        try:
            bytes.fromhex(value)
        except ValueError:
            raise ValueError("地块图形不是有效的十六进制 WKB。") from None
        return value
    return check


def _json_bounded(limit: int) -> Any:
    def check(value: Any) -> Any:
        if value is not None and len(json.dumps(value, ensure_ascii=False)) > limit:
            raise ValueError(f"内容过长，最多 {limit} 字。")
        return value
    return check


def _finite(value: Any) -> Any:
    if value is not None and not math.isfinite(value):
        raise ValueError("不是有效数字。")
    return value


def _annotation(f: Field) -> Any:
    from pydantic import AfterValidator, BeforeValidator

    if f.type == "text":
        return Annotated[StrictStr, StringConstraints(max_length=f.max_length)] | None
    if f.type == "date":
        return Annotated[StrictStr, StringConstraints(max_length=f.max_length)] | None
    if f.type == "int":
        return StrictInt | None
    if f.type == "real":
        return Annotated[StrictInt | StrictFloat | None, AfterValidator(_finite)]
    if f.type == "json":
        return Annotated[list[Any] | dict[str, Any] | None, AfterValidator(_json_bounded(f.max_length))]
    return Annotated[Any, BeforeValidator(_geometry_hex(f.max_length))]  # geom


@cache
def _values_model(kind_name: str) -> type[BaseModel]:
    """The fields a change of this kind may carry, typed and bounded from the schema. Unknown
    names are left out, as `Store.apply_change` leaves them (a newer laptop's field)."""
    k = KINDS[kind_name]
    fields: dict[str, Any] = {f.name: (_annotation(f), None) for f in k.fields}
    fields["deleted"] = (StrictInt | bool | None, None)
    return create_model(f"{kind_name}_values", __config__=ConfigDict(extra="ignore"), **fields)
