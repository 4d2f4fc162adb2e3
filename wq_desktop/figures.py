"""Figures of record: the one rounding rule for areas, money and water.

An auditor redoes the arithmetic from the paper, so a figure is rounded where it is decided, not
where it is shown: an area becomes a figure of record at 0.01 亩, an amount is that area × the rate
rounded to 0.01 元, and every total is the sum of the figures of record. Everything that computes,
prints, exports or checks an area, an amount or a water volume goes through these functions.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

ZERO = Decimal(0)
AREA_QUANTUM = Decimal("0.01")  # 亩
MONEY_QUANTUM = Decimal("0.01")  # 元
WATER_QUANTUM = Decimal("0.01")  # 万立方米


def to_decimal(value: Decimal | float | int | str | None) -> Decimal:
    """A stored or typed number as Decimal; floats via their shortest repr so 12.35 stays 12.35."""
    if type(value) is float:  # a stored area: no other branch applies
        number = Decimal(repr(value))
        if not number.is_finite():
            raise ValueError(f"不是有限的数字：{value!r}")
        return number
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool):
        raise ValueError(f"不是数字：{value!r}")
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"不是数字：{value!r}") from None
    if not number.is_finite():
        raise ValueError(f"不是有限的数字：{value!r}")
    return number


def area_of_record(value: Decimal | float | int | str | None) -> Decimal:
    """An area in 亩 as the figure of record: 0.01 亩, half up."""
    return to_decimal(value).quantize(AREA_QUANTUM, rounding=ROUND_HALF_UP)


def money_of_record(value: Decimal | float | int | str | None) -> Decimal:
    """A sum of money in 元 as the figure of record: 0.01 元, half up."""
    return to_decimal(value).quantize(MONEY_QUANTUM, rounding=ROUND_HALF_UP)


def amount(area: Decimal | float | int | str | None, rate: Decimal | float | int | str | None
           ) -> Decimal:
    """Subsidy = area of record × rate, rounded to 0.01 元: what the paper multiplies out to."""
    return money_of_record(area_of_record(area) * to_decimal(rate))


def water_of_record(value: Decimal | float | int | str | None) -> Decimal:
    """A water volume in 万立方米: 0.01 万m³, half up."""
    return to_decimal(value).quantize(WATER_QUANTUM, rounding=ROUND_HALF_UP)


def total(values: Iterable[Decimal]) -> Decimal:
    """A total is the plain sum of figures of record (never re-rounded from unrounded parts)."""
    return sum(values, ZERO)


RATE_QUANTUM = Decimal("0.01")  # 元/亩


def rate_of_record(value: Decimal | float | int | str | None) -> Decimal:
    """A subsidy rate in 元/亩 as printed and multiplied: 0.01 元, half up."""
    return to_decimal(value).quantize(RATE_QUANTUM, rounding=ROUND_HALF_UP)


def stored(value: Decimal | None) -> float | None:
    """A figure of record as the store's REAL column keeps it (its shortest repr reads back exact)."""
    return None if value is None else float(value)


def show(value: Decimal | float | int | str | None) -> str:
    """A figure of record as every screen, PDF and xlsx text shows it: two decimals ("12.50");
    None shows as "". Values not yet of record (a drawing in progress) round half up here."""
    if value is None:
        return ""
    return str(to_decimal(value).quantize(AREA_QUANTUM, rounding=ROUND_HALF_UP))


def sum_of_records(values: Iterable[Decimal | float | int | str | None]) -> Decimal:
    """The total of stored figures of record, summed exactly as Decimal (None counts as 0)."""
    return sum((to_decimal(v) for v in values), ZERO)
