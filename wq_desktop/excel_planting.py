"""种植面积摸底核查汇总表及用水量测算 as one xlsx workbook: one sheet per printed table, from the same
lines as the PDF (printing.planting_survey), numbers as numbers with two decimals."""

from __future__ import annotations

import os
from pathlib import Path

from openpyxl import Workbook

from .excel import Column, fill_sheet
from .printing import planting_survey as doc
from .store import Store


def _columns(titles: tuple[str, ...], kinds: tuple[str, ...]) -> list[Column]:
    widths = {"text": 20, "mu": 13, "int": 10, "pct": 10, "rate": 13}
    return [Column(t, widths[k], k) for t, k in zip(titles, kinds, strict=True)]


def export_planting(store: Store, year: int, path: str | os.PathLike[str],
                    village: str | None = None) -> Path:
    data = doc.planting_document(store, year, village)
    wb = Workbook()
    sheets = [
        ("种植面积汇总", f"{data.scope}{year}年度村、乡镇、市三级种植面积摸底核查汇总表",
         _columns(doc.SURVEY_COLUMNS, ("text", *["mu"] * 13, "int")), data.survey, doc.SURVEY_NOTE),
        ("作物结构及用水量", f"{data.scope}{year}年度种植作物结构及用水量测算表",
         _columns(doc.CROP_COLUMNS, ("text", "text", "mu", "pct", "rate", "mu", "mu", "mu", "mu")),
         data.crops, doc.CROP_NOTE),
        ("退减目标完成情况", f"{data.scope}{year}年度退减目标完成情况",
         _columns(doc.PROGRESS_COLUMNS, ("text", "mu", "mu", "mu", "mu", "pct", "mu", "pct", "mu",
                                         "int")), data.progress, doc.PROGRESS_NOTE),
    ]
    if data.series:
        sheets.append(("各年度变化", f"{data.scope}各年度种植、退减与用水量",
                       _columns(doc.SERIES_COLUMNS, ("text", *["mu"] * 6)), data.series,
                       doc.series_note()))
    for index, (name, title, columns, lines, note) in enumerate(sheets):
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = name
        fill_sheet(ws, title, columns, [line.values for line in lines], note=note,
                   bold_rows=[i for i, line in enumerate(lines) if line.level in ("township", "city")])
    out = Path(path)
    wb.save(out)
    return out
