"""Areas in 亩 and other non-negative figures as typed, and the 亩 display format."""

from __future__ import annotations

import math
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from wq_desktop.rules._text import _clean, _fail

_CENT = Decimal("0.01")


def positive_area(value: object, field: str = "area_mu") -> float:
    """Area in 亩: a finite number > 0, given as a number or text like "12.5" or "12.5亩"."""
    if type(value) is float:  # a measured outline's area: only the number checks below apply
        number = value
    elif value is None or (isinstance(value, str) and not value.strip()):
        raise _fail("面积不能为空，应填写大于0的亩数", field)
    elif isinstance(value, bool):
        raise _fail(f"面积应为大于0的亩数，实为“{value}”", field)
    elif isinstance(value, (int, float, Decimal)):
        number = float(value)
    else:
        text = _clean(value)
        text = text.removesuffix("亩")
        try:
            number = float(text)
        except ValueError:
            raise _fail(f"面积应为大于0的数字（单位：亩），实为“{value}”", field) from None
    if not math.isfinite(number):
        raise _fail(f"面积应为有限的数字（单位：亩），实为“{value}”", field)
    if number <= 0:
        raise _fail(f"面积必须大于0亩，实为{value}", field)
    return number


# No single field in the plan's area is this large; a figure past it is a slip (平方米 typed as 亩,
# a lost decimal point) rather than land, so it is refused with that reason.
MAX_PARCEL_MU = 5000.0


def parcel_area(value: object, field: str = "area_mu") -> float:
    """A parcel's area in 亩: positive, and not past MAX_PARCEL_MU."""
    number = positive_area(value, field)
    if number > MAX_PARCEL_MU:
        raise _fail(
            f"单块地面积 {number:,.2f} 亩超过 {MAX_PARCEL_MU:,.0f} 亩，不合常理："
            "请核对是否把平方米当作亩，或小数点位置录错",
            field,
        )
    return number


def non_negative_number(value: object, field: str, label: str) -> float | None:
    """A number as typed (“400”, “400.5元/亩”, full-width digits); empty is None; refused with a
    reason when it is not a finite number ≥ 0. Never rounded or clamped to fit a box."""
    text = _clean(value)
    for unit in ("元/亩", "元", "亩"):
        text = text.removesuffix(unit)
    text = text.replace(",", "")
    if not text:
        return None
    try:
        number = float(text)
    except ValueError:
        raise _fail(f"{label}应为数字，实为“{value}”", field) from None
    if not math.isfinite(number) or number < 0:
        raise _fail(f"{label}应为不小于0的数字，实为“{value}”", field)
    return number


def format_mu(value: float) -> str:
    """Area for display with two decimals, rounded half-up ("12.50"); None shows as ""."""
    if value is None:
        return ""
    try:
        # str() first so 12.345 rounds to 12.35 as staff expect, not by its binary value.
        number = Decimal(str(value)) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        raise _fail(f"面积应为数字（单位：亩），实为“{value}”", "area_mu") from None
    if isinstance(value, bool) or not number.is_finite():
        raise _fail(f"面积应为有限的数字（单位：亩），实为“{value}”", "area_mu")
    return str(number.quantize(_CENT, rounding=ROUND_HALF_UP))
