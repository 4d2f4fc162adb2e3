"""居民身份证号 (GB 11643-1999), 统一社会信用代码 (GB 32100-2015), which one an operator
needs, and how long a name may be.
"""

from __future__ import annotations

from datetime import date

from wq_desktop.errors import ValidationError
from wq_desktop.model import OperatorKind
from wq_desktop.rules._text import _clean, _fail, _looks_valid, _valid_ymd

# W_i = 2^(18-i) mod 11 (i = 1..17 from the left; domain.md says 17-i, but its weight
# list and the standard's examples agree with 18-i); S mod 11 indexes ID_CHECK_CHARS.
ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK_CHARS = "10X98765432"

# Nobody alive to sign a 2026 agreement was born before 1900. Note: the standard's own
# example 440524188001010014 (born 1880) is therefore refused by normalize_id_number,
# although its check character is correct.
MIN_BIRTH_YEAR = 1900


def id_check_char(first17: str) -> str:
    """GB 11643 check character for the first 17 digits of an ID number."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise _fail(f"计算身份证校验码需要17位数字，实为“{first17}”", None)
    total = sum(int(ch) * w for ch, w in zip(first17, ID_WEIGHTS, strict=True))
    return ID_CHECK_CHARS[total % 11]


def _check_birth(ymd: str, field: str | None, today: date | None) -> date:
    born = _valid_ymd(ymd)
    if born is None:
        raise _fail(f"身份证号中的出生日期{ymd}不是有效日期", field)
    if born.year < MIN_BIRTH_YEAR:
        raise _fail(
            f"身份证号中的出生日期{ymd}早于{MIN_BIRTH_YEAR}年，不可能是在世经营者，请核对",
            field,
        )
    today = today or date.today()
    if born > today:
        raise _fail(f"身份证号中的出生日期{ymd}晚于今天，不是有效的出生日期", field)
    return born


def normalize_id_number(
    value: str, field: str = "id_number", *, today: date | None = None
) -> str:
    """A valid 18-character ID number (upper-case X); 15-digit legacy numbers are upgraded.

    `today` exists only so tests can pin the "not in the future" check.
    """
    text = _clean(value).upper()
    if not text:
        raise _fail("身份证号不能为空", field)

    if len(text) == 15:
        # Legacy numbers: 6 region + YYMMDD + 3 sequence, all issued to people born 19xx.
        for pos, ch in enumerate(text, start=1):
            if not ("0" <= ch <= "9"):
                raise _fail(f"15位旧身份证号应全为数字，第{pos}位为“{ch}”", field)
        first17 = text[:6] + "19" + text[6:]
        _check_birth(first17[6:14], field, today)
        return first17 + id_check_char(first17)

    if len(text) != 18:
        raise _fail(f"身份证号应为18位（旧证为15位），实为{len(text)}位", field)

    for pos, ch in enumerate(text, start=1):
        if "0" <= ch <= "9" or (pos == 18 and ch == "X"):
            continue
        expected = "数字或X" if pos == 18 else "数字"
        raise _fail(f"身份证号第{pos}位“{ch}”无效，应为{expected}", field)

    # Date before checksum: a mistyped birth date gets the more specific message.
    _check_birth(text[6:14], field, today)

    expected_check = id_check_char(text[:17])
    if text[17] != expected_check:
        raise _fail(
            f"身份证号校验码错误：第18位应为{expected_check}，实为{text[17]}，"
            "请逐位核对号码是否录入有误",
            field,
        )
    return text


def id_birth_date(id18: str) -> date:
    """Birth date encoded in an ID number (18-digit; a 15-digit legacy number also works)."""
    text = _clean(id18).upper()
    if len(text) == 18:
        ymd = text[6:14]
    elif len(text) == 15:
        ymd = "19" + text[6:12]
    else:
        raise _fail(f"身份证号应为18位（旧证为15位），实为{len(text)}位", None)
    born = _valid_ymd(ymd)
    if born is None:
        raise _fail(f"身份证号中的出生日期{ymd}不是有效日期", None)
    return born


# No I, O, S, V, Z: they are too easily confused with 1, 0, 5, U, 2.
CREDIT_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_CREDIT_VALUE = {ch: i for i, ch in enumerate(CREDIT_ALPHABET)}
CREDIT_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))


def credit_check_char(first17: str) -> str:
    """GB 32100 check character for the first 17 characters of a credit code."""
    text = first17.upper()
    if len(text) != 17 or any(ch not in _CREDIT_VALUE for ch in text):
        raise _fail(
            f"计算统一社会信用代码校验码需要17位数字或大写字母（不含I、O、S、V、Z），实为“{first17}”",
            None,
        )
    total = sum(_CREDIT_VALUE[ch] * w for ch, w in zip(text, CREDIT_WEIGHTS, strict=True))
    return CREDIT_ALPHABET[(31 - total % 31) % 31]


def normalize_credit_code(value: str, field: str = "credit_code") -> str:
    """A valid 18-character unified social credit code, upper-case."""
    text = _clean(value).upper()
    if not text:
        raise _fail("统一社会信用代码不能为空", field)
    if len(text) != 18:
        raise _fail(f"统一社会信用代码应为18位，实为{len(text)}位", field)
    for pos, ch in enumerate(text, start=1):
        if ch not in _CREDIT_VALUE:
            raise _fail(
                f"统一社会信用代码第{pos}位“{ch}”无效，应为数字或大写字母（不含I、O、S、V、Z）",
                field,
            )
    region = text[2:8]
    if not region.isdigit():
        raise _fail(
            f"统一社会信用代码第3–8位应为6位数字的行政区划码，实为“{region}”", field
        )
    expected_check = credit_check_char(text[:17])
    if text[17] != expected_check:
        raise _fail(
            f"统一社会信用代码校验码错误：第18位应为{expected_check}，实为{text[17]}，"
            "请逐位核对代码是否录入有误",
            field,
        )
    return text


def normalize_identity(kind: OperatorKind | str, value: str, field: str = "id_code") -> str:
    """ID number for a 农户, credit code for 合作社/企业/村集体; the message names which one."""
    try:
        operator_kind = OperatorKind(kind)
    except ValueError:
        allowed = "、".join(k.value for k in OperatorKind)
        raise _fail(f"经营主体类型“{kind}”无效，应为{allowed}之一", "kind") from None

    if operator_kind is OperatorKind.FARMER:
        try:
            return normalize_id_number(value, field)
        except ValidationError as err:
            # A common slip: the cooperative's code typed into a household's row.
            if _looks_valid(normalize_credit_code, value):
                raise _fail(
                    "填写的是统一社会信用代码，农户应填写18位居民身份证号", field
                ) from None
            raise _fail(f"农户应填写居民身份证号：{err.message}", field) from None

    try:
        return normalize_credit_code(value, field)
    except ValidationError as err:
        if _looks_valid(normalize_id_number, value):
            raise _fail(
                f"填写的是居民身份证号，{operator_kind.value}应填写18位统一社会信用代码",
                field,
            ) from None
        raise _fail(
            f"{operator_kind.value}应填写统一社会信用代码：{err.message}", field
        ) from None


# Long enough for the longest cooperative or company name in a real register ("昌吉市××镇××村
# ××农民专业合作社联合社" is 20–30 characters); past it the text is a paste accident.
MAX_NAME_CHARS = 60


def check_name_length(name: str | None, field: str = "name", label: str = "姓名/名称") -> None:
    text = name or ""
    if len(text) > MAX_NAME_CHARS:
        raise _fail(
            f"{label}最多{MAX_NAME_CHARS}个字，实为{len(text)}个字：请核对是否粘贴了多余的内容",
            field,
        )
