"""A township of drawn parcels whose areas are never round numbers, for reading figures back.

Two townships, three villages; the big one has 300 households in 一组 … 十一组, and its first
household works 40 parcels. Rates include cents (333.33 元/亩), so a product needs rounding.
"""

from __future__ import annotations

from datetime import date

from shapely.geometry import box

from wq_desktop import services
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.rules import identity
from wq_desktop.store import Store

YEAR = 2025
BIG_VILLAGE = "652301105901"
GROUPS = ("一组", "二组", "三组", "四组", "五组", "六组", "七组", "八组", "九组", "十组", "十一组")
BIG_HOUSEHOLDS = 300
MANY_PARCELS = 40
RATES = (400, 333.33, 400, 350.5)  # 退减灌溉 元/亩, by parcel number
FALLOW_RATE = 300
ATTRIBUTES = ("农民土地承包确权颁证耕地", "集体机动地", "确权以外国有耕地")


def person_id(n: int) -> str:
    first17 = f"652399{19500101 + n % 28:08d}{n % 1000:03d}"
    return first17 + identity.id_check_char(first17)


class PaperVillage:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._n = 0
        self._x = 500000.0
        self.many_parcels_id = person_id(0)
        with store.transaction():
            t1 = store.create("township", {"code": "652301105", "name": "六工镇"})
            t2 = store.create("township", {"code": "652301104", "name": "大西渠镇"})
            big = store.create("village", {"township": t1, "code": BIG_VILLAGE, "name": "测试村"})
            small = store.create("village", {"township": t1, "code": "652301105902", "name": "小村"})
            other = store.create("village", {"township": t2, "code": "652301104901", "name": "西村"})
            # Groups entered out of order: documents must still print them counted.
            groups = {name: store.create("village_group", {"village": big, "name": name})
                      for name in reversed(GROUPS)}
            for i in range(BIG_HOUSEHOLDS):
                self._household(big, groups[GROUPS[(i * 7) % len(GROUPS)]],
                                MANY_PARCELS if i == 0 else 1 + i % 2)
            for village in (small, other):
                for _ in range(5):
                    self._household(village, None, 2)
            for village in (big, small, other):
                store.create("notice", {"village": village, "year": YEAR,
                                        "start_on": date(YEAR, 8, 1), "end_on": date(YEAR, 8, 7)})

    def _household(self, village: str, group: str | None, parcels: int) -> None:
        store, n = self.store, self._n
        self._n += 1
        op = store.create("operator", {"village": village, "group": group, "name": f"农户{n:03d}",
                                       "kind": "农户", "id_code": person_id(n),
                                       "phone": f"139{n:08d}", "address": "测试村"})
        for p in range(parcels):
            k = n * 41 + p
            # 60–140 m × 40–110 m with odd decimetres: every drawn area has many decimals.
            width, height = 60 + (k * 7.31) % 80, 40 + (k * 3.77) % 70
            shape = box(self._x, 4870000, self._x + width, 4870000 + height)
            self._x += width + 10
            parcel = store.create("parcel", {
                "village": village, "operator": op, "code": f"{n + 1:03d}-{p + 1:02d}",
                "land_attribute": ATTRIBUTES[k % 3], "geometry": shape, "place_name": "东坪",
                # The east side typed with its own prefix: printed once, not 东至东至.
                "east": "东至渠道" if p % 2 else "渠道", "south": "机耕道", "west": "林带",
                "north": "邻户耕地", "crop": "玉米"})
            area = store.get("parcel", parcel)["area_mu"]
            rate = RATES[k % len(RATES)]
            if k % 5 == 0:  # part retired, part fallow, the rest planted
                third = round(area / 3, 2)
                services.set_measure(store, parcel, YEAR, MeasureKind.RETIRED, third, rate)
                services.set_measure(store, parcel, YEAR, MeasureKind.FALLOW, third, FALLOW_RATE)
                services.set_measure(store, parcel, YEAR, MeasureKind.PLANTED, round(area - 2 * third, 2))
            elif k % 5 == 1:
                services.set_measure(store, parcel, YEAR, MeasureKind.FALLOW, area, FALLOW_RATE)
            else:
                services.set_measure(store, parcel, YEAR, MeasureKind.RETIRED, area, rate)
        agreement = services.start_agreement(store, op, YEAR, date(YEAR, 7, 1))
        services.advance_agreement(store, agreement, AgreementStatus.SIGNED, date(YEAR, 7, 10))
