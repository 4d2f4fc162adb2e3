"""A hand-computed township for the planting survey, water use and target tests.

村一: 户一 120.00 亩 承包地 棉花 实际种植, 庭院 蔬菜 0.50 + 玉米 0.30;
      户二 8.25 亩 集体机动地 玉米 退减灌溉 (400 元/亩, agreement 已签订);
      户三 30.00 亩 确权外国有地 小麦: 15.00 实际种植 + 15.00 休耕轮作 (no agreement yet);
      户四 5.00 亩 承包地 棉花 退减灌溉, agreement 终止 (not counted).
村二: 户五 85.345 亩 承包地 番茄 实际种植 (area of record 85.35), 庭院 葡萄 1.00 (no quota).
Quotas (m³/亩): 棉花 380, 玉米 420, 小麦 320, 番茄 400, 蔬菜 350.

实际种植 (含庭院): 村一 120.00 + 15.00 + 0.80 = 135.80; 村二 85.35 + 1.00 = 86.35; 乡 222.15.
Water (万m³): 村一 棉花 120.00×380/1e4 = 4.56, 小麦 15.00×320 = 0.48, 蔬菜 0.50×350 = 0.0175 → 0.02,
玉米 0.30×420 = 0.0126 → 0.01: 5.07; 村二 番茄 85.35×400 = 3.414 → 3.41, 葡萄 unquoted 1.00 亩;
乡 5.07 + 3.41 = 8.48. Target 9.00 → 0.52 under.
"""

from __future__ import annotations

from datetime import date

from wq_desktop import services, water
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.planting import set_courtyard
from wq_desktop.rules import identity

YEAR = 2025
CONTRACTED, RESERVE, STATE = "农民土地承包确权颁证耕地", "集体机动地", "确权以外国有耕地"
QUOTAS = {"棉花": 380, "玉米": 420, "小麦": 320, "番茄": 400, "蔬菜": 350}


def person_id(n: int) -> str:
    first17 = f"652399198001{n % 28 + 1:02d}{n % 1000:03d}"
    return first17 + identity.id_check_char(first17)


def build(store) -> dict[str, str]:
    ids: dict[str, str] = {}
    with store.transaction():
        t = ids["township"] = store.create("township", {"code": "652301105", "name": "六工镇"})
        v1 = ids["v1"] = store.create("village", {"township": t, "code": "652301105901",
                                                  "name": "村一"})
        v2 = ids["v2"] = store.create("village", {"township": t, "code": "652301105902",
                                                  "name": "村二"})

        def household(n: int, village: str, parcels: list[tuple[str, float, str, str]]) -> str:
            op = ids[f"h{n}"] = store.create("operator", {
                "village": village, "name": f"户{n}", "kind": "农户", "id_code": person_id(n)})
            for code, area, attribute, crop in parcels:
                ids[code] = store.create("parcel", {
                    "village": village, "operator": op, "code": code, "land_attribute": attribute,
                    "area_mu": area, "crop": crop})
            return op

        h1 = household(1, v1, [("P1", 120.0, CONTRACTED, "棉花")])
        services.set_measure(store, ids["P1"], YEAR, MeasureKind.PLANTED, 120.0)
        ids["c1"] = set_courtyard(store, h1, YEAR, "蔬菜", 0.5)
        ids["c2"] = set_courtyard(store, h1, YEAR, "玉米", 0.3)
        h2 = household(2, v1, [("P2", 8.25, RESERVE, "玉米")])
        services.set_measure(store, ids["P2"], YEAR, MeasureKind.RETIRED, 8.25, 400)
        a2 = services.start_agreement(store, h2, YEAR, date(YEAR, 7, 15))
        services.advance_agreement(store, a2, AgreementStatus.SIGNED, date(YEAR, 7, 28))
        household(3, v1, [("P3", 30.0, STATE, "小麦")])
        services.set_measure(store, ids["P3"], YEAR, MeasureKind.PLANTED, 15.0)
        services.set_measure(store, ids["P3"], YEAR, MeasureKind.FALLOW, 15.0, 300)
        h4 = household(4, v1, [("P4", 5.0, CONTRACTED, "棉花")])
        services.set_measure(store, ids["P4"], YEAR, MeasureKind.RETIRED, 5.0, 400)
        a4 = services.start_agreement(store, h4, YEAR, date(YEAR, 7, 15))
        services.advance_agreement(store, a4, AgreementStatus.SIGNED, date(YEAR, 7, 28))
        services.advance_agreement(store, a4, AgreementStatus.TERMINATED, date(YEAR, 8, 1), "放弃")
        h5 = household(5, v2, [("P5", 85.345, CONTRACTED, "番茄")])
        services.set_measure(store, ids["P5"], YEAR, MeasureKind.PLANTED, 85.345)
        ids["c3"] = set_courtyard(store, h5, YEAR, "葡萄", 1.0)
        for crop, quota in QUOTAS.items():
            water.set_quota(store, t, YEAR, crop, quota)
    return ids
