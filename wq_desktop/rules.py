"""Domain rules: identifier checks, phone numbers, masking, areas, dates, status steps, 大写金额.

Pure functions only (no I/O, no Qt), so the store, the forms and the printers all apply the
same rules. Every rejection is an errors.ValidationError whose Chinese message says what is
wrong and what was expected, because the message is shown to township staff as is.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from wq_desktop.errors import ValidationError
from wq_desktop.model import AGREEMENT_NEXT, AgreementStatus, OperatorKind

__all__ = [
    "CREDIT_ALPHABET",
    "CREDIT_WEIGHTS",
    "ID_CHECK_CHARS",
    "ID_WEIGHTS",
    "MIN_BIRTH_YEAR",
    "amount_in_words",
    "check_agreement_transition",
    "check_name_length",
    "credit_check_char",
    "format_mu",
    "format_phone",
    "id_birth_date",
    "id_check_char",
    "mask_id",
    "mask_name",
    "mask_phone",
    "non_negative_number",
    "normalize_credit_code",
    "normalize_id_number",
    "normalize_identity",
    "normalize_phone",
    "parcel_area",
    "parse_date",
    "patrol_people",
    "patrol_people_warning",
    "positive_area",
]

# ---------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------

_WHITESPACE = re.compile(r"\s+")


def _clean(value: object) -> str:
    """Text as typed, with full-width characters folded and all whitespace removed.

    NFKC folds the full-width digits/letters a Chinese IME produces (“１２３ｘ”) into ASCII,
    and staff often paste numbers with spaces in them, so both are forgiven here.
    """
    if value is None:
        return ""
    text = unicodedata.normalize("NFKC", str(value))
    return _WHITESPACE.sub("", text)


def _fail(message: str, field: str | None) -> ValidationError:
    return ValidationError(message, field=field)


def _valid_ymd(ymd: str) -> date | None:
    """The date for an 8-digit YYYYMMDD string, or None when no such day exists."""
    if len(ymd) != 8 or not ymd.isdigit():
        return None
    try:
        return date(int(ymd[:4]), int(ymd[4:6]), int(ymd[6:8]))
    except ValueError:
        return None


# ---------------------------------------------------------------------------
# 居民身份证号, GB 11643-1999
# ---------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------
# 统一社会信用代码, GB 32100-2015
# ---------------------------------------------------------------------------

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


def _looks_valid(fn: Callable[[str], str], value: str) -> bool:
    try:
        fn(value)
    except ValidationError:
        return False
    return True


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


# ---------------------------------------------------------------------------
# Phone numbers
# ---------------------------------------------------------------------------

_MOBILE = re.compile(r"1[3-9]\d{9}")
# 010 and 02x are the only 3-digit area codes; every other area code is 0 + 3 digits.
_LANDLINE = re.compile(r"(010|02\d|0[3-9]\d\d)(\d{7,8})")
_PHONE_SEPARATORS = re.compile(r"[\s\-－—–()（）.]")


def _split_landline(digits: str) -> tuple[str, str] | None:
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
    if _MOBILE.fullmatch(text) or _split_landline(text):
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
    parts = _split_landline(normalized)
    return f"{parts[0]}-{parts[1]}" if parts else normalized


# ---------------------------------------------------------------------------
# Masking for 公示 and exports (domain.md §2)
# ---------------------------------------------------------------------------


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
    parts = _split_landline(digits)
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


# ---------------------------------------------------------------------------
# Areas, dates
# ---------------------------------------------------------------------------


def positive_area(value: object, field: str = "area_mu") -> float:
    """Area in 亩: a finite number > 0, given as a number or text like "12.5" or "12.5亩"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _fail("面积不能为空，应填写大于0的亩数", field)
    if isinstance(value, bool):
        raise _fail(f"面积应为大于0的亩数，实为“{value}”", field)
    if isinstance(value, (int, float, Decimal)):
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


# ---------------------------------------------------------------------------
# Patrol people (domain.md §3: 巡查人 at least two; the village 陪同人 is on site too)
# ---------------------------------------------------------------------------

MIN_PATROL_PEOPLE = 2
_NAME_SPLIT = re.compile(r"[、，,；;\s]+")


def patrol_people(patrollers: object, escort: str | None) -> list[str]:
    """Everyone on site: the patrollers and the 陪同人, each name once, in the order given."""
    names: list[str] = []
    items = patrollers if isinstance(patrollers, (list, tuple)) else [patrollers or ""]
    for item in [*items, escort or ""]:
        for name in _NAME_SPLIT.split(str(item).strip()):
            if name and name not in names:
                names.append(name)
    return names


def patrol_people_warning(patrollers: object, escort: str | None) -> str | None:
    """The one sentence for a patrol with fewer than two people on site (a warning, not a refusal)."""
    people = patrol_people(patrollers, escort)
    if len(people) >= MIN_PATROL_PEOPLE:
        return None
    return (f"巡查应不少于{MIN_PATROL_PEOPLE}人（巡查人与陪同人合计），本次只有 {len(people)} 人"
            f"（{'、'.join(people) or '无'}）")


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


# ---------------------------------------------------------------------------
# Agreement status
# ---------------------------------------------------------------------------


def _status(value: str) -> AgreementStatus:
    try:
        return AgreementStatus(value)
    except ValueError:
        allowed = "、".join(s.value for s in AgreementStatus)
        raise _fail(f"协议状态“{value}”无效，应为{allowed}之一", "status") from None


def check_agreement_transition(current: str, target: str) -> None:
    """Allow the one forward step, or 终止 from any live status; refuse everything else."""
    cur = _status(current)
    tgt = _status(target)
    if cur is AgreementStatus.TERMINATED:
        raise _fail(
            f"协议已“终止”，不能再改为“{tgt.value}”：终止后的协议不可变更状态", "status"
        )
    allowed = [s for s in (AGREEMENT_NEXT.get(cur), AgreementStatus.TERMINATED) if s]
    if tgt in allowed:
        return
    allowed_text = "或".join(f"“{s.value}”" for s in allowed)
    if tgt is cur:
        raise _fail(f"协议已是“{cur.value}”状态，下一步只能改为{allowed_text}", "status")
    raise _fail(
        f"协议状态不能从“{cur.value}”改为“{tgt.value}”：当前只能改为{allowed_text}",
        "status",
    )


# ---------------------------------------------------------------------------
# 人民币大写 and display formats
# ---------------------------------------------------------------------------

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
