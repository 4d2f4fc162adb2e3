"""人民币大写: an amount in 元 written out for agreements and receipts."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from wq_desktop.rules._text import _clean, _fail

_DIGITS_CN = "零壹贰叁肆伍陆柒捌玖"
_SMALL_UNITS = ("", "拾", "佰", "仟")
_SECTION_UNITS = ("", "万", "亿")
# 9999亿 is far beyond any subsidy; refusing is better than inventing a 万亿 rule.
_MAX_AMOUNT = Decimal(10) ** 12
_CENT = Decimal("0.01")


def _to_decimal(amount: object) -> Decimal:
    if isinstance(amount, bool) or amount is None:
        raise _fail(f"金额应为数字，实为“{amount}”", "amount")
    if isinstance(amount, Decimal):
        number = amount
    elif isinstance(amount, (int, float)):
        # str() first so 0.1 stays 0.1 instead of its binary approximation.
        number = Decimal(str(amount))
    else:
        text = _clean(amount).replace(",", "").removesuffix("元")
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise _fail(f"金额应为数字，实为“{amount}”", "amount") from None
    if not number.is_finite():
        raise _fail(f"金额应为有限的数字，实为“{amount}”", "amount")
    return number


def _integer_in_words(n: int) -> str:
    """Chinese finance numerals for 0 < n < 10^12, with the standard 零 rules."""
    digits = str(n)
    width = len(digits)
    out: list[str] = []
    pending_zero = False  # a run of zeros that must become one 零 before the next digit
    section_has_digit = False
    for i, ch in enumerate(digits):
        pos = width - 1 - i  # 0 = 元 position
        d = int(ch)
        if d == 0:
            pending_zero = bool(out)
        else:
            if pending_zero:
                out.append("零")
                pending_zero = False
            out.append(_DIGITS_CN[d] + _SMALL_UNITS[pos % 4])
            section_has_digit = True
        if pos % 4 == 0:
            if section_has_digit and pos > 0:
                out.append(_SECTION_UNITS[pos // 4])
                # Zeros at the end of a section are silent: 1201000 → 壹佰贰拾万壹仟.
                pending_zero = False
            section_has_digit = False
    return "".join(out)


def amount_in_words(amount: Decimal | float | str) -> str:
    """人民币大写金额, e.g. 1234.56 → 壹仟贰佰叁拾肆元伍角陆分, 1000 → 壹仟元整.

    Rounded half-up to 分. 零 rules follow 《正确填写票据和结算凭证的基本规定》: one 零 for
    a run of zeros inside the number, none at the end of a 万/亿 section or after 元 before a
    non-zero 角 (both are optional there), but always 零 between 元 and 分 when 角 is 0.
    """
    number = _to_decimal(amount)
    if number < 0:
        raise _fail(f"金额不能为负数，实为{number}", "amount")
    number = number.quantize(_CENT, rounding=ROUND_HALF_UP)
    if number >= _MAX_AMOUNT:
        raise _fail(f"金额过大：{number}元超过可书写的上限9999亿元", "amount")
    cents = int(number * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10

    if cents == 0:
        return "零元整"
    parts: list[str] = []
    if yuan:
        parts.append(_integer_in_words(yuan) + "元")
    if jiao:
        parts.append(_DIGITS_CN[jiao] + "角")
    if fen:
        if yuan and not jiao:
            parts.append("零")
        parts.append(_DIGITS_CN[fen] + "分")
    if not jiao and not fen:
        parts.append("整")
    return "".join(parts)
