"""Phone numbers: mobile and landline, as stored and as shown."""

from __future__ import annotations

import re
import unicodedata

from wq_desktop.errors import ValidationError
from wq_desktop.rules._text import _fail

_MOBILE = re.compile(r"1[3-9]\d{9}")
# 010 and 02x are the only 3-digit area codes; every other area code is 0 + 3 digits.
_LANDLINE = re.compile(r"(010|02\d|0[3-9]\d\d)(\d{7,8})")
_PHONE_SEPARATORS = re.compile(r"[\s\-－—–()（）.]")


def split_landline(digits: str) -> tuple[str, str] | None:
    m = _LANDLINE.fullmatch(digits)
    return (m.group(1), m.group(2)) if m else None


def normalize_phone(value: str, field: str = "phone") -> str:
    """Digits only: an 11-digit mobile number, or area code + 7–8 digit local number."""
    text = unicodedata.normalize("NFKC", str(value or "")).strip()
    if not text:
        raise _fail("电话号码不能为空", field)
    text = _PHONE_SEPARATORS.sub("", text)
    international = text.startswith("+86")
    if international:
        text = text[3:]
    for ch in text:
        if not ch.isascii() or not ch.isdigit():
            raise _fail(
                f"电话号码中含有无效字符“{ch}”，只能包含数字（可带空格、短横线或+86）", field
            )
    if international and text and text[0] not in "01":
        # +86 994 1234567: the domestic trunk 0 is dropped in international form.
        text = "0" + text
    if _MOBILE.fullmatch(text) or split_landline(text):
        return text
    if text.startswith("1"):
        raise _fail(
            f"手机号码“{text}”无效：应为11位数字，以13–19开头，实为{len(text)}位", field
        )
    if text.startswith("0"):
        raise _fail(
            f"固定电话“{text}”无效：应为区号加7–8位号码，如0994-1234567", field
        )
    raise _fail(
        f"电话号码“{text}”无效：应为11位手机号或带区号的固定电话（如0994-1234567）", field
    )


def format_phone(digits: str) -> str:
    """Display form: mobile unchanged, landline as 区号-号码.

    A value that is not a valid number is shown as stored rather than raising, so one bad
    imported row cannot break a table view.
    """
    if not digits:
        return ""
    try:
        normalized = normalize_phone(digits)
    except ValidationError:
        return str(digits).strip()
    parts = split_landline(normalized)
    return f"{parts[0]}-{parts[1]}" if parts else normalized
