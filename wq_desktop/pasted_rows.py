"""Rows pasted from Excel or WPS (tab-separated text on the clipboard) for the places that take
lists: the roster import and the 包联 assignment. Plain functions, no Qt: the window passes the
clipboard's text in."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .errors import ValidationError

if TYPE_CHECKING:
    from .excel import Roster


def parse_tsv(text: str) -> list[list[str]]:
    """Cells of tab-separated text as Excel copies it (a cell with a line break comes quoted);
    blank lines are dropped, cells stripped."""
    reader = csv.reader(io.StringIO(text.replace("\r\n", "\n")), delimiter="\t", quotechar='"')
    return [[cell.strip() for cell in row] for row in reader if any(cell.strip() for cell in row)]


def roster_from_tsv(text: str) -> Roster:
    """A roster from pasted rows: the first row with at least two filled cells is the header, as
    in read_roster, so the same mapping and preview apply."""
    rows = parse_tsv(text)
    start = next((i for i, r in enumerate(rows) if sum(bool(c) for c in r) >= 2), None)
    if start is None:
        raise ValidationError("剪贴板中没有可导入的表格：请在Excel中连同表头选中多列后复制，再粘贴。")
    columns = [c or f"第{i + 1}列" for i, c in enumerate(rows[start])]
    body: list[dict[str, Any]] = []
    for number, cells in enumerate(rows[start + 1:], start=start + 2):
        row: dict[str, Any] = {c: (v or None) for c, v in zip(columns, cells, strict=False)}
        row["_row"] = number
        body.append(row)
    if not body:
        raise ValidationError("粘贴的内容只有表头，没有经营者的行。")
    from .excel import Roster  # openpyxl: imported when rows are pasted, not with the window

    return Roster(columns, body)


@dataclass
class PastedMatch:
    operators: list[str] = field(default_factory=list)  # UUIDs, in the pasted order
    unmatched: list[str] = field(default_factory=list)  # pasted lines naming no household
    ambiguous: list[str] = field(default_factory=list)  # names held by several households

    def describe(self) -> str:
        parts = [f"已选中 {len(self.operators)} 户"]
        if self.unmatched:
            more = "等" if len(self.unmatched) > 10 else ""
            parts.append(f"未找到：{'、'.join(self.unmatched[:10])}{more}")
        if self.ambiguous:
            parts.append(f"同名多户，请加上村或组再粘贴：{'、'.join(self.ambiguous[:10])}")
        return "；".join(parts)


def match_households(rows: Sequence[Any], pasted: str) -> PastedMatch:
    """Which of `rows` (queries.contacts.AssignRow: operator, village, group, name) the pasted lines name.
    A line names a household by its name; other cells on the line (村, 组) narrow it down."""
    result = PastedMatch()
    by_name: dict[str, list[Any]] = {}
    for row in rows:
        by_name.setdefault(row.name, []).append(row)
    for cells in parse_tsv(pasted):
        named = [c for c in cells if c in by_name]
        if not named:
            result.unmatched.append(" ".join(c for c in cells if c))
            continue
        candidates = by_name[named[0]]
        others = set(cells) - {named[0]}
        if len(candidates) > 1 and others:
            candidates = [r for r in candidates if {r.village, r.group} & others] or candidates
        if len(candidates) > 1:
            result.ambiguous.append(named[0])
            continue
        if candidates[0].operator not in result.operators:
            result.operators.append(candidates[0].operator)
    return result
