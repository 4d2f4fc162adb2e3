"""Three-level roll-ups: exact sums, who counts, rates, and village → township → city agreement."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from fractions import Fraction

from wq_desktop import services
from wq_desktop.model import MeasureKind, PatrolResult
from wq_desktop.rules import identity
from wq_desktop.summary import fmt_rate, load_households, summarize

YEAR = 2025
ATTRS = ("农民土地承包确权颁证耕地", "集体机动地")


def person_id(n: int) -> str:
    first17 = f"652399198001{n % 28 + 1:02d}{n % 1000:03d}"
    return first17 + identity.id_check_char(first17)


def small_world(store):
    """One township, two villages; areas like 0.1 and 0.2 that float sums get wrong."""
    with store.transaction():
        t = store.create("township", {"code": "652301105", "name": "六工镇"})
        villages = [store.create("village", {"township": t, "code": f"652301105{900 + i}",
                                             "name": f"测试{i}村"}) for i in (1, 2)]
        ops = []
        for i, (village, area, kind) in enumerate([
                (villages[0], 0.1, MeasureKind.RETIRED), (villages[0], 0.2, MeasureKind.RETIRED),
                (villages[0], 5.0, MeasureKind.FALLOW), (villages[1], 12.345, MeasureKind.RETIRED),
                (villages[1], 3.0, MeasureKind.PLANTED)]):
            op = store.create("operator", {"village": village, "name": f"户主{i}", "kind": "农户",
                                           "id_code": person_id(i)})
            parcel = store.create("parcel", {"village": village, "operator": op, "code": f"P{i}",
                                             "land_attribute": ATTRS[i == 1],
                                             "area_mu": area})
            rate = 400 if kind != MeasureKind.PLANTED else None
            services.set_measure(store, parcel, YEAR, kind, area, rate)
            ops.append((op, parcel))
        # 户主0 signed; 户主3 terminated (drops out); 户主1 only drafted.
        a0 = services.start_agreement(store, ops[0][0], YEAR, date(YEAR, 7, 1))
        services.advance_agreement(store, a0, "已签订", date(YEAR, 7, 2))
        services.start_agreement(store, ops[1][0], YEAR, date(YEAR, 7, 1))
        a3 = services.start_agreement(store, ops[3][0], YEAR, date(YEAR, 7, 1))
        services.advance_agreement(store, a3, "终止", date(YEAR, 7, 3), "放弃")
        store.create("notice", {"village": villages[0], "year": YEAR, "start_on": date(YEAR, 8, 1),
                                "end_on": date(YEAR, 8, 7)})
        store.create("patrol", {"parcel": ops[0][1], "year": YEAR, "stage": "秋翻",
                                "visited_on": date(YEAR, 10, 3), "patrollers": ["甲", "乙"],
                                "result": PatrolResult.COMPLIANT})
        store.create("patrol", {"parcel": ops[1][1], "year": YEAR, "stage": "秋翻",
                                "visited_on": date(YEAR, 10, 4), "patrollers": ["甲"],
                                "result": PatrolResult.IRRIGATED})
    return villages


def test_village_row_counts_only_live_retirement_and_sums_exactly(store):
    small_world(store)
    city = summarize(store, YEAR)
    v1, v2 = city.children[0].children
    assert (v1.households, v1.parcels) == (3, 3)
    assert v1.retired_mu == Decimal("0.3")  # not 0.30000000000000004
    assert v1.retired_by_attribute["集体机动地"] == Decimal("0.2")
    assert v1.fallow_mu == Decimal("5.0")
    assert v1.subsidy == Decimal("2120.00")  # 40 + 80 + 2000
    assert v1.signed == 1 and v1.signing_rate == Fraction(1, 3)
    assert v1.villages_publicized == 1
    assert v1.coverage("秋翻") == Fraction(2, 3) and v1.coverage("冬压") == 0
    assert (v1.violations, v1.rectified, v1.rectification_rate) == (1, 0, Fraction(0))
    # The terminated household and the planted-only one do not count.
    assert (v2.households, v2.retired_mu, v2.villages_publicized) == (0, 0, 0)
    assert v2.signing_rate is None and v2.rectification_rate is None


def test_levels_add_up(demo_store):
    from wq_desktop.demo import demo_year

    city = summarize(demo_store, demo_year())
    assert city.villages == 3 and city.households > 0
    for attr in ("households", "parcels", "verified_mu", "retired_mu", "fallow_mu", "subsidy", "signed",
                 "violations", "rectified"):
        township_sum = sum(getattr(t, attr) for t in city.children)
        village_sum = sum(getattr(v, attr) for t in city.children for v in t.children)
        assert getattr(city, attr) == township_sum == village_sum, attr


def test_summary_equals_household_data(demo_store):
    from wq_desktop.demo import demo_year
    from wq_desktop.household_totals import household_totals

    year = demo_year()
    city = summarize(demo_store, year)
    households = [h for h in load_households(demo_store, year) if h.participates]
    assert city.households == len(households)
    assert city.subsidy == sum(household_totals(h.retiring_parcels).subsidy for h in households)
    # The same money straight from the store, summed as exact decimals.
    stored = demo_store.conn.execute(
        "SELECT m.subsidy_amount FROM measure m JOIN parcel p ON p.uuid=m.parcel"
        " LEFT JOIN agreement a ON a.operator=p.operator AND a.year=m.year AND a.deleted=0"
        " WHERE m.deleted=0 AND m.year=? AND m.kind<>'实际种植' AND coalesce(a.status,'')<>'终止'",
        (year,)).fetchall()
    assert city.subsidy == sum(Decimal(repr(v)) for (v,) in stored)


def test_rates_display():
    assert fmt_rate(None) == "—"
    assert fmt_rate(Fraction(2, 3)) == "66.7%"
    assert fmt_rate(Fraction(1, 8)) == "12.5%"
