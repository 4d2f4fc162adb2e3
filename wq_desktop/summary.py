"""Three-level roll-ups (village → township → city) and the per-household year data behind them.

Every printed or exported table (agreement, 公示, 包联清单, 汇总表, Excel) reads the households
from `load_households`, and `summarize` adds them up, so a village's 公示 totals always equal its
row in the summary table. The stored areas and amounts are figures of record (figures.py: 0.01 亩,
0.01 元, decided when the record is written) and every total is their exact Decimal sum, so each
printed product and sum can be redone with a calculator.

Who counts as a 退减 household for a year: an operator with a 退减灌溉 or 休耕轮作 measure in that
year whose agreement for the year is not 终止 (a terminated agreement is neither publicised nor
paid). `counts_in_totals` is that rule, and every screen and table that adds up 退减/休耕 areas or
subsidies (village tab, water saved, 包联清单, 公示, 汇总表) asks it, so their totals agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction

from . import figures
from .errors import ValidationError
from .household_totals import HouseholdTotals, household_totals
from .model import AgreementStatus, LandAttribute, MeasureKind, PatrolResult, PatrolStage
from .ordering import group_sort_key
from .rollup import RollUpRow
from .store import Store

CITY_NAME = "昌吉市"
CITY_CODE = "652301"
ZERO = Decimal(0)
# The regular stages the plan asks coverage for; 专项/复查 are extra visits.
COVERAGE_STAGES: tuple[str, ...] = (PatrolStage.AUTUMN_PLOUGH, PatrolStage.WINTER_IRRIGATION,
                                    PatrolStage.SPRING_SOWING)
SIGNED_STATUSES = frozenset({AgreementStatus.SIGNED, AgreementStatus.PUBLICIZED, AgreementStatus.FILED})
PUBLICIZED_STATUSES = frozenset({AgreementStatus.PUBLICIZED, AgreementStatus.FILED})


def counts_in_totals(agreement_status: str | None) -> bool:
    """THE rule for every 退减/休耕 area and subsidy total: a household whose agreement for the
    year is 终止 is not counted (it is not paid); one without an agreement yet still is."""
    return agreement_status != AgreementStatus.TERMINATED


def dec(value: float | int | None) -> Decimal:
    """A stored figure of record as Decimal (12.35 stays 12.35 when summed)."""
    return figures.to_decimal(value)


def boundary_text(side: str, value: str) -> str:
    """"东至渠道"; a value typed with its own prefix ("东至渠道") is not printed as 东至东至渠道."""
    value = value.strip()
    return value if value.startswith(f"{side}至") else f"{side}至{value}"


@dataclass(frozen=True)
class Contact:
    name: str
    post: str
    phone: str


@dataclass
class ParcelYear:
    """One parcel and its measures in the year."""

    uuid: str
    code: str
    place_name: str
    land_attribute: str
    east: str
    south: str
    west: str
    north: str
    area_mu: Decimal  # the parcel's whole area
    crop: str
    water_source: str
    planted_mu: Decimal = ZERO
    retired_mu: Decimal = ZERO
    fallow_mu: Decimal = ZERO
    rates: dict[str, Decimal] = field(default_factory=dict)  # measure kind -> 元/亩
    amounts: dict[str, Decimal] = field(default_factory=dict)  # measure kind -> stored 元
    stages: set[str] = field(default_factory=set)  # patrol stages visited this year

    @property
    def subsidy(self) -> Decimal:
        return sum(self.amounts.values(), ZERO)

    @property
    def verified_mu(self) -> Decimal:
        """核实种植面积: everything verified on the parcel this year (planted + retired + fallow)."""
        return self.planted_mu + self.retired_mu + self.fallow_mu

    @property
    def retiring(self) -> bool:
        return self.retired_mu > 0 or self.fallow_mu > 0

    @property
    def boundaries(self) -> str:
        return "；".join(boundary_text(side, value) for side, value in
                        (("东", self.east), ("南", self.south), ("西", self.west), ("北", self.north))
                        if value)


@dataclass
class Household:
    """One operator (户) in the year, with its village, 包联 contacts, agreement and parcels."""

    uuid: str
    name: str
    kind: str
    id_code: str
    legal_rep: str
    phone: str
    address: str
    note: str
    group: str
    village_uuid: str
    village_code: str
    village_name: str
    township_uuid: str
    township_code: str
    township_name: str
    leader: Contact | None
    staff: Contact | None
    agreement: dict | None  # number, status, signed_on, publicized_on, … (ISO dates)
    parcels: list[ParcelYear] = field(default_factory=list)
    patrol_count: int = 0

    @property
    def terminated(self) -> bool:
        return not counts_in_totals(self.agreement["status"] if self.agreement else None)

    @property
    def retiring_parcels(self) -> list[ParcelYear]:
        return [p for p in self.parcels if p.retiring]

    @property
    def participates(self) -> bool:
        return not self.terminated and any(p.retiring for p in self.parcels)

    @property
    def signed(self) -> bool:
        return bool(self.agreement) and self.agreement["status"] in SIGNED_STATUSES

    @property
    def publicized(self) -> bool:
        return bool(self.agreement) and self.agreement["status"] in PUBLICIZED_STATUSES

    def totals(self, parcels: Iterable[ParcelYear] | None = None) -> HouseholdTotals:
        """The household's totals (or those of some of its parcels), added up as the household
        view adds them."""
        return household_totals(self.parcels if parcels is None else parcels)


def _village_filter(villages: Iterable[str] | None) -> tuple[str, str, str, list[str]]:
    """Filters on v.uuid, on a row's parcel and on a row's operator, and their parameters."""
    if villages is None:
        return "", "", "", []
    ids = list(villages)
    marks = ",".join("?" * len(ids))
    return (f" AND v.uuid IN ({marks})",
            f" AND parcel IN (SELECT uuid FROM parcel WHERE village IN ({marks}))",
            f" AND operator IN (SELECT uuid FROM operator WHERE village IN ({marks}))", ids)


def load_households(store: Store, year: int, villages: Iterable[str] | None = None,
                    operators: Iterable[str] | None = None) -> list[Household]:
    """Every live operator (of the given village UUIDs / operator UUIDs) with its year data,
    ordered by township code, village code, group (一组 … 十一组, counted) and entry order.
    With villages given, only their measures, agreements and patrols are read."""
    vsql, parcel_sql, operator_sql, vparams = _village_filter(villages)
    osql, oparams = "", []
    if operators is not None:
        ops = list(operators)
        osql, oparams = f" AND o.uuid IN ({','.join('?' * len(ops))})", ops
    conn = store.conn
    contacts = {u: Contact(n, p or "", ph or "") for u, n, p, ph in conn.execute(
        "SELECT uuid, name, post, phone FROM contact WHERE deleted=0")}
    agreements = {row[0]: dict(zip(("operator", "uuid", "number", "status", "drafted_on", "signed_on",
                                    "publicized_on", "filed_on"), row, strict=True))
                  for row in conn.execute(
        "SELECT operator, uuid, number, status, drafted_on, signed_on, publicized_on, filed_on"
        f" FROM agreement WHERE deleted=0 AND year=?{operator_sql}", (year, *vparams))}
    households: dict[str, Household] = {}
    for row in conn.execute(
            "SELECT o.uuid, o.name, o.kind, o.id_code, o.legal_rep, o.phone, o.address, o.note,"
            " coalesce(g.name, ''), v.uuid, v.code, v.name, t.uuid, t.code, t.name, o.leader, o.staff"
            " FROM operator o JOIN village v ON v.uuid=o.village JOIN township t ON t.uuid=v.township"
            " LEFT JOIN village_group g ON g.uuid=o.\"group\" AND g.deleted=0"
            f" WHERE o.deleted=0{vsql}{osql}"
            " ORDER BY t.code, v.code, coalesce(g.name, ''), o.rowid", (*vparams, *oparams)):
        (uuid, name, kind, id_code, legal_rep, phone, address, note, group, v_uuid, v_code, v_name,
         t_uuid, t_code, t_name, leader, staff) = row
        households[uuid] = Household(
            uuid, name, kind, id_code, legal_rep or "", phone or "", address or "", note or "", group,
            v_uuid, v_code, v_name, t_uuid, t_code, t_name, contacts.get(leader), contacts.get(staff),
            agreements.get(uuid))
    if not households:
        return []
    entered = {uuid: n for n, uuid in enumerate(households)}
    ordered = sorted(households.values(), key=lambda h: (
        h.township_code, h.village_code, group_sort_key(h.group) if h.group else (-1, ""),
        entered[h.uuid]))
    households = {h.uuid: h for h in ordered}
    parcels: dict[str, ParcelYear] = {}
    for row in conn.execute(
            "SELECT p.uuid, p.operator, p.code, p.place_name, p.land_attribute, p.east, p.south, p.west,"
            " p.north, p.area_mu, p.crop, p.water_source FROM parcel p JOIN village v ON v.uuid=p.village"
            f" WHERE p.deleted=0 AND p.operator IS NOT NULL{vsql} ORDER BY p.code", vparams):
        owner = households.get(row[1])
        if owner is None:
            continue
        parcel = ParcelYear(row[0], row[2], row[3] or "", row[4], *(v or "" for v in row[5:9]),
                            dec(row[9]), row[10] or "", row[11] or "")
        parcels[parcel.uuid] = parcel
        owner.parcels.append(parcel)
    for parcel_uuid, kind, area, rate, amount in conn.execute(
            "SELECT parcel, kind, area_mu, subsidy_rate, subsidy_amount FROM measure"
            f" WHERE deleted=0 AND year=?{parcel_sql}", (year, *vparams)):
        parcel = parcels.get(parcel_uuid)
        if parcel is None:
            continue
        if kind == MeasureKind.RETIRED:
            parcel.retired_mu += dec(area)
        elif kind == MeasureKind.FALLOW:
            parcel.fallow_mu += dec(area)
        else:
            parcel.planted_mu += dec(area)
        if kind != MeasureKind.PLANTED:
            parcel.amounts[kind] = parcel.amounts.get(kind, ZERO) + dec(amount)
            if rate is not None:
                parcel.rates[kind] = dec(rate)
    owner_of = {p.uuid: h for h in households.values() for p in h.parcels}
    for parcel_uuid, stage in conn.execute(
            f"SELECT parcel, stage FROM patrol WHERE deleted=0 AND year=?{parcel_sql}", (year, *vparams)):
        if parcel_uuid in parcels:
            parcels[parcel_uuid].stages.add(stage)
            owner_of[parcel_uuid].patrol_count += 1
    return list(households.values())


@dataclass
class Summary(RollUpRow):
    """One row of the 三级汇总表; `children` holds the rows it adds up (townships, villages)."""

    households: int = 0
    parcels: int = 0
    verified_mu: Decimal = ZERO
    retired_by_attribute: dict[str, Decimal] = field(
        default_factory=lambda: {a.value: ZERO for a in LandAttribute})
    fallow_mu: Decimal = ZERO
    subsidy: Decimal = ZERO
    signed: int = 0
    villages: int = 0
    villages_publicized: int = 0
    patrolled_by_stage: dict[str, int] = field(default_factory=lambda: dict.fromkeys(COVERAGE_STAGES, 0))
    violations: int = 0
    rectified: int = 0

    @property
    def retired_mu(self) -> Decimal:
        return sum(self.retired_by_attribute.values(), ZERO)

    @property
    def signing_rate(self) -> Fraction | None:
        return Fraction(self.signed, self.households) if self.households else None

    def coverage(self, stage: str) -> Fraction | None:
        """Share of the 退减 parcels visited at least once at `stage`."""
        return Fraction(self.patrolled_by_stage[stage], self.parcels) if self.parcels else None

    @property
    def rectification_rate(self) -> Fraction | None:
        return Fraction(self.rectified, self.violations) if self.violations else None


def village_summary(code: str, name: str, households: Iterable[Household], *, publicized: bool,
                    violations: int = 0, rectified: int = 0) -> Summary:
    row = Summary("village", code, name, villages=1, villages_publicized=int(publicized),
                  violations=violations, rectified=rectified)
    for h in households:
        if not h.participates:
            continue
        row.households += 1
        row.signed += h.signed
        for p in h.retiring_parcels:
            row.parcels += 1
            row.verified_mu += p.verified_mu
            row.retired_by_attribute[p.land_attribute] = (
                row.retired_by_attribute.get(p.land_attribute, ZERO) + p.retired_mu)
            row.fallow_mu += p.fallow_mu
            row.subsidy += p.subsidy
            for stage in COVERAGE_STAGES:
                row.patrolled_by_stage[stage] += stage in p.stages
    return row


def summarize(store: Store, year: int, only_township: str | None = None) -> Summary:
    """The city row, with one child per township and one grandchild per village (all villages,
    also those without 退减 households, so a missing village is visible as zeros). `only_township` (a
    UUID) keeps only that township, as a township's own store holds it. The households are read
    one village at a time: the whole city's at once held ~270 MiB (106,400 parcels)."""
    noticed = {v for (v,) in store.conn.execute(
        "SELECT village FROM notice WHERE deleted=0 AND year=?", (year,))}
    violations: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for village, closed in store.conn.execute(
            "SELECT p.village, t.closed_on IS NOT NULL FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
            " WHERE t.deleted=0 AND p.deleted=0 AND t.year=? AND t.result<>?",
            (year, PatrolResult.COMPLIANT)):
        violations[village][0] += 1
        violations[village][1] += closed
    city = Summary("city", CITY_CODE, CITY_NAME)
    townships: dict[str, Summary] = {}
    for v_uuid, v_code, v_name, t_uuid, t_code, t_name in store.conn.execute(
            "SELECT v.uuid, v.code, v.name, t.uuid, t.code, t.name FROM village v"
            " JOIN township t ON t.uuid=v.township WHERE v.deleted=0 AND t.deleted=0"
            " AND (? IS NULL OR t.uuid=?) ORDER BY t.code, v.code",
            (only_township, only_township)).fetchall():
        township = townships.get(t_uuid)
        if township is None:
            township = townships[t_uuid] = Summary("township", t_code, t_name)
            city.children.append(township)
        bad, closed = violations.get(v_uuid, (0, 0))
        row = village_summary(v_code, v_name, load_households(store, year, villages=[v_uuid]),
                              publicized=v_uuid in noticed, violations=bad, rectified=closed)
        township.children.append(row)
        township.add(row)
    for township in city.children:
        city.add(township)
    return city


# --- display helpers -----------------------------------------


def fmt_mu(value: Decimal) -> str:
    """A figure of record as every table prints 亩 and 元 (two decimals)."""
    return figures.show(value)


def fmt_rate(value: Fraction | None) -> str:
    """A share as a percentage with one decimal ("87.5%"); "—" when there is nothing to divide."""
    if value is None:
        return "—"
    from decimal import ROUND_HALF_UP

    pct = (Decimal(value.numerator) * 100 / Decimal(value.denominator)).quantize(
        Decimal("0.1"), rounding=ROUND_HALF_UP)
    return f"{pct}%"


def find_village(store: Store, code_or_uuid: str) -> dict:
    """A village by its 12-digit code or UUID; Chinese error when there is none."""
    text = (code_or_uuid or "").strip()
    row = store.find_one("village", "code=? OR uuid=?", (text, text))
    if row is None:
        raise ValidationError(f"找不到村代码为“{text}”的村，请核对12位村代码。", "village")
    return row


def find_operator(store: Store, id_or_uuid: str) -> dict:
    """An operator by ID number / credit code (any letter case) or UUID."""
    text = (id_or_uuid or "").strip()
    rows = store.find("operator", "uuid=? OR upper(id_code)=upper(?)", (text, text))
    if not rows:
        raise ValidationError(f"找不到证件号或编号为“{text}”的经营者，请核对。", "operator")
    if len(rows) > 1:
        raise ValidationError(f"证件号“{text}”登记了{len(rows)}户，请改用经营者编号（UUID）指定。",
                              "operator")
    return rows[0]
