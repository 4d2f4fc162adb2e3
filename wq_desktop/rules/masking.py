"""Masking of ID numbers, phones and names for 公示 and exports (domain.md §2)."""

from __future__ import annotations

from wq_desktop.errors import ValidationError
from wq_desktop.rules._text import _clean, _looks_valid
from wq_desktop.rules.identity import normalize_credit_code, normalize_id_number
from wq_desktop.rules.phones import normalize_phone, split_landline


def _keep_ends(text: str, head: int, tail: int) -> str:
    if len(text) <= head + tail:
        return "*" * len(text)
    return text[:head] + "*" * (len(text) - head - tail) + text[len(text) - tail :]


def mask_id(value: str | None) -> str:
    """ID number as first 6 + ******** + last 4; a credit code is public and stays whole."""
    text = _clean(value).upper()
    if not text:
        return ""
    if len(text) == 18:
        # Anything that is not clearly a company code is masked: showing a person's ID by
        # mistake is the worse error.
        if not _looks_valid(normalize_id_number, text) and _looks_valid(
            normalize_credit_code, text
        ):
            return text
        return text[:6] + "*" * 8 + text[-4:]
    return _keep_ends(text, 6, 4)


def mask_phone(value: str | None) -> str:
    """Mobile as 139****5678; landline as 0994-***4567."""
    if not value:
        return ""
    try:
        digits = normalize_phone(value)
    except ValidationError:
        # Unknown shape: keep only the last 4 digits, which is never more than the rules show.
        return _keep_ends(_clean(value), 0, 4)
    parts = split_landline(digits)
    if parts:
        return f"{parts[0]}-***{parts[1][-4:]}"
    return digits[:3] + "****" + digits[-4:]


# Two-character surnames: keeping only 欧 of 欧阳 would look like a different family name.
_COMPOUND_SURNAMES = frozenset(
    {
        "欧阳", "司马", "诸葛", "上官", "东方", "皇甫", "令狐", "慕容", "尉迟", "公孙",
        "长孙", "宇文", "司徒", "司空", "夏侯", "轩辕", "端木", "独孤", "南宫", "西门",
        "澹台", "呼延", "闻人", "万俟", "赫连", "申屠", "百里", "东郭", "太史", "钟离",
        "拓跋", "公冶", "濮阳", "淳于", "单于", "羊舌", "仲孙", "左丘", "宗政", "第五",
    }
)


def mask_name(name: str | None) -> str:
    """Surname kept, one * per remaining character: 张三 → 张*, 欧阳娜娜 → 欧阳**."""
    text = (name or "").strip()
    if not text:
        return ""
    keep = 2 if len(text) > 2 and text[:2] in _COMPOUND_SURNAMES else 1
    return text[:keep] + "*" * (len(text) - keep)
