"""Dates as staff type them: 2026-07-01, 2026/7/1, 2026年7月1日, 20260701."""

from __future__ import annotations

import re
from datetime import date, datetime

from wq_desktop.rules._text import _clean, _fail

_DATE_NUMERIC = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})")
_DATE_CHINESE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日?")
_DATE_COMPACT = re.compile(r"(\d{4})(\d{2})(\d{2})")


def parse_date(value: object, field: str = "date") -> date:
    """A calendar date from a date, "2026-07-01", "2026/7/1", "2026.7.1", "20260701" or
    "2026年7月1日"."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _clean(value)
    if not text:
        raise _fail("日期不能为空，应填写如2026-07-01或2026年7月1日", field)
    m = (
        _DATE_NUMERIC.fullmatch(text)
        or _DATE_CHINESE.fullmatch(text)
        or _DATE_COMPACT.fullmatch(text)
    )
    if not m:
        raise _fail(
            f"日期“{text}”格式无法识别，应填写如2026-07-01、2026/7/1或2026年7月1日", field
        )
    groups = [g for g in m.groups() if g.isdigit()]
    year, month, day = (int(g) for g in groups)
    # Years outside this range are typos (0026, 2206), not real records.
    if not 1900 <= year <= 2100:
        raise _fail(f"日期“{text}”无效：年份应在1900–2100之间，实为{year}", field)
    if not 1 <= month <= 12:
        raise _fail(f"日期“{text}”无效：月份应为1–12，实为{month}", field)
    try:
        return date(year, month, day)
    except ValueError:
        raise _fail(f"日期“{text}”无效：{year}年{month}月没有{day}日", field) from None
