"""Tests for wq_desktop.rules: identifiers, phones, masking, areas, dates, statuses, 大写金额."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wq_desktop.errors import ValidationError
from wq_desktop.model import AGREEMENT_NEXT, AgreementStatus, OperatorKind
from wq_desktop.rules.agreements import check_agreement_transition
from wq_desktop.rules.amount_words import amount_in_words
from wq_desktop.rules.dates import parse_date
from wq_desktop.rules.identity import (
    CREDIT_ALPHABET,
    credit_check_char,
    id_birth_date,
    id_check_char,
    normalize_credit_code,
    normalize_id_number,
    normalize_identity,
)
from wq_desktop.rules.masking import mask_id, mask_name, mask_phone
from wq_desktop.rules.phones import format_phone, normalize_phone
from wq_desktop.rules.quantities import format_mu, positive_area

# Pinned so the "not in the future" rule does not depend on the test machine's clock.
TODAY = date(2026, 7, 1)

# Synthetic numbers: 652399 is not an assigned region code, so no real person is named.
DEMO_ID = "652399" + "19800101" + "123"
DEMO_ID += id_check_char(DEMO_ID)
DEMO_CREDIT_17 = "93652301MA7ABCDE1"
DEMO_CREDIT = DEMO_CREDIT_17 + credit_check_char(DEMO_CREDIT_17)


_ANY_FIELD = object()


@contextmanager
def raises(
    text: str | None = None, field: object = _ANY_FIELD
) -> Iterator[pytest.ExceptionInfo[ValidationError]]:
    """pytest.raises(ValidationError) matching plain text (not a regex) and, if given, field."""
    with pytest.raises(ValidationError, match=re.escape(text) if text else None) as info:
        yield info
    if field is not _ANY_FIELD:
        assert info.value.field == field


# ---------------------------------------------------------------------------
# ID numbers
# ---------------------------------------------------------------------------


class TestIdNumber:
    def test_standard_examples_checksum(self) -> None:
        assert id_check_char("11010519491231002") == "X"
        assert id_check_char("44052418800101001") == "4"

    def test_standard_example_passes(self) -> None:
        assert normalize_id_number("11010519491231002X", today=TODAY) == "11010519491231002X"

    def test_standard_example_born_1880_is_refused_only_for_its_date(self) -> None:
        # Checksum is right (see above); the app's rule "born 1900 or later" refuses it.
        with raises("早于1900年", field="id_number"):
            normalize_id_number("440524188001010014", today=TODAY)

    def test_normalises_spaces_lower_x_and_full_width(self) -> None:
        assert normalize_id_number(" 110105 19491231 002x ") == "11010519491231002X"
        assert normalize_id_number("１１０１０５１９４９１２３１００２ｘ") == "11010519491231002X"

    def test_demo_id(self) -> None:
        assert normalize_id_number(DEMO_ID) == DEMO_ID

    def test_fifteen_digit_upgrade(self) -> None:
        assert normalize_id_number("110105491231002") == "11010519491231002X"

    @pytest.mark.parametrize("value", ["", "   ", None])
    def test_empty(self, value: str | None) -> None:
        with raises("不能为空", field="id_number"):
            normalize_id_number(value)  # type: ignore[arg-type]

    def test_wrong_checksum_message(self) -> None:
        with raises("身份证号校验码错误：第18位应为X，实为3", field="pid") as info:
            normalize_id_number("110105194912310023", "pid")
        assert "核对" in str(info.value)

    def test_invalid_birth_date_message(self) -> None:
        first17 = "652399" + "19991332" + "123"
        with raises("身份证号中的出生日期19991332不是有效日期"):
            normalize_id_number(first17 + id_check_char(first17))

    def test_feb_29(self) -> None:
        leap = "652399" + "20000229" + "123"
        assert normalize_id_number(leap + id_check_char(leap))
        not_leap = "652399" + "19000229" + "123"
        with raises("19000229不是有效日期"):
            normalize_id_number(not_leap + id_check_char(not_leap))

    def test_future_birth_date(self) -> None:
        first17 = "652399" + "20260702" + "123"
        with raises("晚于今天"):
            normalize_id_number(first17 + id_check_char(first17), today=TODAY)
        first17 = "652399" + "20260701" + "123"
        assert normalize_id_number(first17 + id_check_char(first17), today=TODAY)

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("1101051949123100", "应为18位（旧证为15位），实为16位"),
            ("11010519491231002X1", "实为19位"),
            ("X1010519491231002X", "第1位“X”无效，应为数字"),
            ("1101051949123100AX", "第17位“A”无效，应为数字"),
            ("11010519491231002Y", "第18位“Y”无效，应为数字或X"),
            ("11010549123100X", "15位旧身份证号应全为数字"),
        ],
    )
    def test_bad_shapes(self, value: str, message: str) -> None:
        with raises(message, field="id_number"):
            normalize_id_number(value)

    def test_fifteen_digit_bad_date(self) -> None:
        with raises("19491331不是有效日期"):
            normalize_id_number("110105491331002")

    def test_check_char_needs_17_digits(self) -> None:
        with raises("17位数字"):
            id_check_char("1234")
        with raises("17位数字"):
            id_check_char("1101051949123100A")

    def test_birth_date(self) -> None:
        assert id_birth_date("11010519491231002X") == date(1949, 12, 31)
        assert id_birth_date("110105491231002") == date(1949, 12, 31)
        with raises("不是有效日期"):
            id_birth_date("110105194913310023")
        with raises("应为18位"):
            id_birth_date("123")


_ID_REGIONS = st.text(alphabet="0123456789", min_size=6, max_size=6)
_BIRTHS = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
_SEQS = st.integers(min_value=0, max_value=999)


@st.composite
def valid_ids(draw: st.DrawFn) -> str:
    first17 = draw(_ID_REGIONS) + draw(_BIRTHS).strftime("%Y%m%d") + f"{draw(_SEQS):03d}"
    return first17 + id_check_char(first17)


def _reference_id_check(first17: str) -> str:
    """GB 11643 written out independently of rules.identity's tables: W_i = 2^(18-i) mod 11,
    check value (12 - S mod 11) mod 11, where 10 is written X."""
    total = sum(int(ch) * pow(2, 18 - i, 11) for i, ch in enumerate(first17, start=1))
    value = (12 - total % 11) % 11
    return "X" if value == 10 else str(value)


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_id_check_char_matches_reference(first17: str) -> None:
    assert id_check_char(first17) == _reference_id_check(first17)


@pytest.mark.parametrize("expected", list("0123456789X"))
def test_id_check_char_every_value(expected: str) -> None:
    # Vary the sequence code until each check character appears once.
    for seq in range(1000):
        first17 = f"65239919800101{seq:03d}"
        if _reference_id_check(first17) == expected:
            assert id_check_char(first17) == expected
            assert normalize_id_number(first17 + expected, today=TODAY)
            return
    pytest.fail(f"no sequence code gives check character {expected}")


@given(valid_ids())
def test_every_generated_id_passes(id18: str) -> None:
    assert normalize_id_number(id18, today=TODAY) == id18
    assert normalize_id_number(id18.lower(), today=TODAY) == id18
    assert id_birth_date(id18).strftime("%Y%m%d") == id18[6:14]


@given(valid_ids(), st.data())
def test_every_one_character_id_corruption_fails(id18: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(min_value=0, max_value=17))
    replacement = data.draw(st.sampled_from("0123456789X").filter(lambda c: c != id18[pos]))
    corrupted = id18[:pos] + replacement + id18[pos + 1 :]
    with pytest.raises(ValidationError):
        normalize_id_number(corrupted, today=TODAY)


@given(
    _ID_REGIONS,
    st.dates(min_value=date(1900, 1, 1), max_value=date(1999, 12, 31)),
    _SEQS,
)
def test_every_fifteen_digit_id_is_upgraded(region: str, born: date, seq: int) -> None:
    legacy = region + born.strftime("%y%m%d") + f"{seq:03d}"
    first17 = region + born.strftime("%Y%m%d") + f"{seq:03d}"
    assert normalize_id_number(legacy, today=TODAY) == first17 + id_check_char(first17)


# ---------------------------------------------------------------------------
# Credit codes
# ---------------------------------------------------------------------------


class TestCreditCode:
    def test_known_codes(self) -> None:
        assert normalize_credit_code("91350100M000100Y43") == "91350100M000100Y43"
        assert normalize_credit_code(DEMO_CREDIT.lower()) == DEMO_CREDIT
        assert normalize_credit_code(" 9135 0100 M000 100Y43 ") == "91350100M000100Y43"

    def test_check_char(self) -> None:
        assert credit_check_char("91350100M000100Y4") == "3"
        assert credit_check_char("91350100m000100y4") == "3"
        with raises("17位"):
            credit_check_char("91350100M000100Y")
        with raises("17位"):
            credit_check_char("91350100M000100I4")

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            ("", "不能为空"),
            ("91350100M000100Y4", "应为18位，实为17位"),
            ("91350100M000100I43", "第16位“I”无效"),
            ("91350100M000100O43", "不含I、O、S、V、Z"),
            ("913501A0M000100Y43", "第3–8位应为6位数字的行政区划码，实为“3501A0”"),
            ("91350100M000100Y44", "校验码错误：第18位应为3，实为4"),
        ],
    )
    def test_bad(self, value: str, message: str) -> None:
        with raises(message, field="credit_code"):
            normalize_credit_code(value)

    def test_field_passed_through(self) -> None:
        with raises("校验码错误", field="org"):
            normalize_credit_code("91350100M000100Y44", "org")


_ALPHA = st.sampled_from(CREDIT_ALPHABET)


@st.composite
def valid_credit_codes(draw: st.DrawFn) -> str:
    first17 = (
        draw(_ALPHA)
        + draw(_ALPHA)
        + draw(st.text(alphabet="0123456789", min_size=6, max_size=6))
        + "".join(draw(st.lists(_ALPHA, min_size=9, max_size=9)))
    )
    return first17 + credit_check_char(first17)


def _reference_credit_check(first17: str) -> str:
    """GB 32100 written out independently: weight 3^(i-1) mod 31, check (31 - S mod 31) mod 31."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(ch) * pow(3, i, 31) for i, ch in enumerate(first17))
    return alphabet[(31 - total % 31) % 31]


@given(valid_credit_codes())
def test_credit_check_char_matches_reference(code: str) -> None:
    assert credit_check_char(code[:17]) == _reference_credit_check(code[:17])


@pytest.mark.parametrize("expected", list(CREDIT_ALPHABET))
def test_credit_check_char_every_value(expected: str) -> None:
    for n in range(31 * 31):
        first17 = f"93652301MA7ABC{n:03d}"
        if _reference_credit_check(first17) == expected:
            assert credit_check_char(first17) == expected
            assert normalize_credit_code(first17 + expected) == first17 + expected
            return
    pytest.fail(f"no code gives check character {expected}")


@given(valid_credit_codes())
def test_every_generated_credit_code_passes(code: str) -> None:
    assert normalize_credit_code(code) == code
    assert normalize_credit_code(code.lower()) == code


@given(valid_credit_codes(), st.data())
def test_every_one_character_credit_corruption_fails(code: str, data: st.DataObject) -> None:
    pos = data.draw(st.integers(min_value=0, max_value=17))
    replacement = data.draw(_ALPHA.filter(lambda c: c != code[pos]))
    corrupted = code[:pos] + replacement + code[pos + 1 :]
    with pytest.raises(ValidationError):
        normalize_credit_code(corrupted)


# ---------------------------------------------------------------------------
# Identity by operator kind
# ---------------------------------------------------------------------------


class TestIdentity:
    def test_farmer_needs_id(self) -> None:
        assert normalize_identity(OperatorKind.FARMER, DEMO_ID) == DEMO_ID
        assert normalize_identity("农户", "110105491231002") == "11010519491231002X"

    @pytest.mark.parametrize("kind", ["合作社", "企业", "村集体", OperatorKind.COMPANY])
    def test_organisations_need_credit_code(self, kind: str) -> None:
        assert normalize_identity(kind, DEMO_CREDIT.lower()) == DEMO_CREDIT

    def test_farmer_given_credit_code(self) -> None:
        with raises("农户应填写18位居民身份证号", field="id_code"):
            normalize_identity("农户", DEMO_CREDIT)

    def test_cooperative_given_id(self) -> None:
        with raises("合作社应填写18位统一社会信用代码", field="id_code"):
            normalize_identity(OperatorKind.COOPERATIVE, DEMO_ID)

    def test_farmer_bad_id_says_what_was_expected(self) -> None:
        with raises("农户应填写居民身份证号：身份证号校验码错误", field="x"):
            normalize_identity("农户", DEMO_ID[:17] + ("0" if DEMO_ID[17] != "0" else "1"), "x")

    def test_company_bad_code(self) -> None:
        with raises("企业应填写统一社会信用代码：统一社会信用代码应为18位"):
            normalize_identity("企业", "12345")

    def test_unknown_kind(self) -> None:
        with raises("经营主体类型“个人”无效", field="kind"):
            normalize_identity("个人", DEMO_ID)


# ---------------------------------------------------------------------------
# Phones
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "digits", "shown"),
    [
        ("13912345678", "13912345678", "13912345678"),
        ("139 1234 5678", "13912345678", "13912345678"),
        ("139-1234-5678", "13912345678", "13912345678"),
        ("+86 139 1234 5678", "13912345678", "13912345678"),
        ("+8619912345678", "19912345678", "19912345678"),
        ("１３９１２３４５６７８", "13912345678", "13912345678"),
        ("0994-1234567", "09941234567", "0994-1234567"),
        ("0994 1234567", "09941234567", "0994-1234567"),
        ("09941234567", "09941234567", "0994-1234567"),
        ("(0994)2345678", "09942345678", "0994-2345678"),
        ("+86 994 2345678", "09942345678", "0994-2345678"),
        ("010-12345678", "01012345678", "010-12345678"),
        ("021 6123 4567", "02161234567", "021-61234567"),
        ("0991-12345678", "099112345678", "0991-12345678"),
    ],
)
def test_phone_good(value: str, digits: str, shown: str) -> None:
    assert normalize_phone(value) == digits
    assert format_phone(digits) == shown


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "不能为空"),
        (None, "不能为空"),
        ("1391234567", "手机号码“1391234567”无效：应为11位数字"),
        ("139123456789", "手机号码"),
        ("12912345678", "以13–19开头"),
        ("0994-12345", "固定电话“099412345”无效"),
        ("0994-123456789", "固定电话"),
        ("0012345678", "固定电话"),
        ("139a2345678", "无效字符“a”"),
        ("2345678", "应为11位手机号或带区号的固定电话"),
        ("+86", "无效"),
    ],
)
def test_phone_bad(value: str | None, message: str) -> None:
    with raises(message, field="tel"):
        normalize_phone(value, "tel")  # type: ignore[arg-type]


def test_format_phone_tolerates_bad_stored_values() -> None:
    assert format_phone("") == ""
    assert format_phone("12345") == "12345"


# ---------------------------------------------------------------------------
# Masking
# ---------------------------------------------------------------------------


class TestMasking:
    def test_mask_id(self) -> None:
        assert mask_id("11010519491231002X") == "110105********002X"
        assert mask_id("11010519491231002x") == "110105********002X"
        assert mask_id("652301199001011234") == "652301********1234"  # even if invalid
        assert mask_id("110105491231002") == "110105*****1002"

    def test_mask_id_keeps_credit_code(self) -> None:
        assert mask_id(DEMO_CREDIT) == DEMO_CREDIT
        assert mask_id("91350100M000100Y43") == "91350100M000100Y43"

    @pytest.mark.parametrize("fn", [mask_id, mask_phone, mask_name])
    @pytest.mark.parametrize("empty", ["", None])
    def test_empty(self, fn, empty) -> None:  # type: ignore[no-untyped-def]
        assert fn(empty) == ""

    def test_mask_phone(self) -> None:
        assert mask_phone("13912345678") == "139****5678"
        assert mask_phone("139 1234 5678") == "139****5678"
        assert mask_phone("09941234567") == "0994-***4567"
        assert mask_phone("0994-12345678") == "0994-***5678"
        assert mask_phone("010-12345678") == "010-***5678"
        assert mask_phone("12345") == "*2345"

    def test_mask_name(self) -> None:
        assert mask_name("张三") == "张*"
        assert mask_name("张三丰") == "张**"
        assert mask_name("欧阳娜娜") == "欧阳**"
        assert mask_name(" 王 ") == "王"
        assert mask_name("阿依古丽·吐尔逊") == "阿*******"


# ---------------------------------------------------------------------------
# Areas and dates
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [(12.5, 12.5), (3, 3.0), ("12.5", 12.5), (" 0.01 ", 0.01), ("8亩", 8.0),
     (Decimal("7.25"), 7.25), ("１２.５", 12.5)],
)
def test_positive_area_good(value: object, expected: float) -> None:
    assert positive_area(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (0, "必须大于0亩"),
        (-1.5, "必须大于0亩"),
        ("-3", "必须大于0亩"),
        ("abc", "应为大于0的数字（单位：亩）"),
        ("", "不能为空"),
        (None, "不能为空"),
        (math.nan, "有限"),
        (math.inf, "有限"),
        (-math.inf, "有限"),
        (0.0, "必须大于0亩"),
        (-0.0, "必须大于0亩"),
        ("inf", "有限"),
        (True, "亩"),
    ],
)
def test_positive_area_bad(value: object, message: str) -> None:
    with raises(message, field="retired_mu"):
        positive_area(value, "retired_mu")


def test_format_mu() -> None:
    assert format_mu(12.5) == "12.50"
    assert format_mu(3) == "3.00"
    assert format_mu(12.345) == "12.35"
    assert format_mu(0.005) == "0.01"
    assert format_mu(None) == ""  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [
        date(2026, 7, 1),
        datetime(2026, 7, 1, 9, 30),
        "2026-07-01",
        "2026-7-1",
        "2026/7/1",
        "2026/07/01",
        "2026.7.1",
        "20260701",
        "2026年7月1日",
        "2026年07月01日",
        " 2026 年 7 月 1 日 ",
    ],
)
def test_parse_date_good(value: object) -> None:
    result = parse_date(value)
    assert result == date(2026, 7, 1)
    assert type(result) is date


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("", "不能为空"),
        (None, "不能为空"),
        ("2026-02-30", "2026年2月没有30日"),
        ("2026-13-01", "月份应为1–12"),
        ("2026/7-1", "格式无法识别"),
        ("7/1/2026", "格式无法识别"),
        ("明天", "格式无法识别"),
        ("0026-07-01", "年份应在1900–2100之间"),
    ],
)
def test_parse_date_bad(value: object, message: str) -> None:
    with raises(message, field="signed_on"):
        parse_date(value, "signed_on")


# ---------------------------------------------------------------------------
# Agreement transitions
# ---------------------------------------------------------------------------

_ALL_STATUSES = list(AgreementStatus)


def _allowed(cur: AgreementStatus, tgt: AgreementStatus) -> bool:
    if cur is AgreementStatus.TERMINATED:
        return False
    return tgt is AGREEMENT_NEXT.get(cur) or tgt is AgreementStatus.TERMINATED


@pytest.mark.parametrize("cur", _ALL_STATUSES)
@pytest.mark.parametrize("tgt", _ALL_STATUSES)
def test_transition_matrix(cur: AgreementStatus, tgt: AgreementStatus) -> None:
    if _allowed(cur, tgt):
        check_agreement_transition(cur, tgt)
        check_agreement_transition(cur.value, tgt.value)
    else:
        with raises() as info:
            check_agreement_transition(cur, tgt)
        assert cur.value in str(info.value)
        assert tgt.value in str(info.value)


def test_transition_examples() -> None:
    check_agreement_transition("草拟", "已签订")
    check_agreement_transition("已签订", "已公示")
    check_agreement_transition("已公示", "已报备")
    check_agreement_transition("已报备", "终止")
    check_agreement_transition("草拟", "终止")
    with raises("不能从“草拟”改为“已公示”：当前只能改为“已签订”或“终止”"):
        check_agreement_transition("草拟", "已公示")
    with raises("不能从“已公示”改为“已签订”"):
        check_agreement_transition("已公示", "已签订")
    with raises("当前只能改为“终止”"):
        check_agreement_transition("已报备", "草拟")
    with raises("协议已“终止”，不能再改为“草拟”"):
        check_agreement_transition("终止", "草拟")
    with raises("协议已是“已签订”状态"):
        check_agreement_transition("已签订", "已签订")
    with raises("协议状态“作废”无效"):
        check_agreement_transition("作废", "终止")


# ---------------------------------------------------------------------------
# 人民币大写
# ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "零元整"),
        ("0.00", "零元整"),
        (0.05, "伍分"),
        (0.5, "伍角"),
        (0.55, "伍角伍分"),
        (1, "壹元整"),
        (10, "壹拾元整"),
        (16, "壹拾陆元整"),
        (100, "壹佰元整"),
        (1000, "壹仟元整"),
        (1234.56, "壹仟贰佰叁拾肆元伍角陆分"),
        (Decimal("1234.56"), "壹仟贰佰叁拾肆元伍角陆分"),
        ("1234.56", "壹仟贰佰叁拾肆元伍角陆分"),
        (10005.2, "壹万零伍元贰角"),
        ("2000.50", "贰仟元伍角"),
        (1409.02, "壹仟肆佰零玖元零贰分"),
        (6007.14, "陆仟零柒元壹角肆分"),
        (10.05, "壹拾元零伍分"),
        (100000, "壹拾万元整"),
        (1201000, "壹佰贰拾万壹仟元整"),
        (1000100, "壹佰万零壹佰元整"),
        (1010101.01, "壹佰零壹万零壹佰零壹元零壹分"),
        (10000001, "壹仟万零壹元整"),
        (100000000, "壹亿元整"),
        (100000001, "壹亿零壹元整"),
        (100010000, "壹亿零壹万元整"),
        (120000000, "壹亿贰仟万元整"),
        (1000000000, "壹拾亿元整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
        ("1,500", "壹仟伍佰元整"),
        # Half-up rounding to 分.
        ("0.005", "壹分"),
        ("0.004", "零元整"),
        (2.675, "贰元陆角捌分"),
        ("9.995", "壹拾元整"),
    ],
)
def test_amount_in_words(amount: object, words: str) -> None:
    assert amount_in_words(amount) == words  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (-1, "不能为负数"),
        ("-0.01", "不能为负数"),
        ("abc", "应为数字"),
        (None, "应为数字"),
        (True, "应为数字"),
        ("NaN", "有限"),
        (float("inf"), "有限"),
        ("1000000000000", "金额过大"),
    ],
)
def test_amount_in_words_bad(amount: object, message: str) -> None:
    with raises(message):
        amount_in_words(amount)  # type: ignore[arg-type]


@given(st.integers(min_value=1, max_value=10**12 - 1))
def test_amount_in_words_never_doubles_or_trails_zero(n: int) -> None:
    words = amount_in_words(n)
    assert words.endswith("元整")
    assert "零零" not in words
    assert not words.startswith("零")
    assert "零元" not in words
    assert "零万" not in words and "零亿" not in words
