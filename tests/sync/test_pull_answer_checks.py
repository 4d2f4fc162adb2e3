"""A pulled page whose values are not of their field's wire type is refused whole, naming the
field, for every wire type; values of the right type pass, whatever a fast path takes as is."""

from __future__ import annotations

from typing import Any

import pytest

from wq_desktop.schema import KINDS
from wq_desktop.sync import checks

RECORD = "9a000000-0000-4000-8000-000000000001"


def _page(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {"changes": [{"seq": 1, "kind": kind, "record": RECORD, "op": "create", "rev": 1,
                         "user": "乡镇干部", "device": "device-9", "at": "2026-02-01T00:00:00Z",
                         "fields": fields}], "cursor": 1, "more": False}


def _field_of(wire_type: str) -> tuple[str, str, str]:
    """(kind, field, label) of a field of the given wire type."""
    return next((k.name, f.name, f.label) for k in KINDS.values() for f in k.fields
                if f.type == wire_type)


WRONG = {"text": [3, ["a"], True], "date": [20260101], "int": [True, 1.5, "3"],
         "real": [float("nan"), "2.5", False], "json": ["[1]", 3], "geom": ["0G", "abc", b"\x01"]}
RIGHT = {"text": ["村"], "date": ["2026-01-01"], "int": [3], "real": [3, 2.5], "json": [[1], {"a": 1}],
         "geom": ["", "01ab"]}


@pytest.mark.parametrize("wire_type", list(WRONG))
def test_a_value_of_the_wrong_type_is_refused_naming_its_field(wire_type: str) -> None:
    kind, name, label = _field_of(wire_type)
    for value in WRONG[wire_type]:
        with pytest.raises(checks.BadAnswer) as refused:
            checks.pull_page(_page(kind, {name: value}), 0)
        assert f"“{label}”类型不符" in str(refused.value), value
    for value in [*RIGHT[wire_type], None]:
        assert checks.pull_page(_page(kind, {name: value, "deleted": 0}), 0)["cursor"] == 1


def test_a_deleted_flag_or_conflict_kind_outside_the_protocol_is_refused() -> None:
    with pytest.raises(checks.BadAnswer, match="删除状态无效"):
        checks.pull_page(_page("parcel", {"deleted": 2}), 0)
    with pytest.raises(checks.BadAnswer, match="冲突记录类型未知"):
        checks.pull_page(_page("conflict", {"record_kind": "rocket"}), 0)
    assert checks.pull_page(_page("conflict", {"record_kind": "parcel", "future_field": 1}), 0)
