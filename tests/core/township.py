"""A small clean township built through the store's write API, shared by the check and plan tests."""

from __future__ import annotations

from datetime import date

from shapely.geometry import box

from wq_desktop import services
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.store import Store

YEAR = 2025
GAP = 4.0  # metres of lane between fields


class Township:
    """A small clean township: 2 villages; in the first, a 4×2 block of 15-亩 fields where the two
    retired ones (P0, P1) lie side by side (no island), all signed, publicized and patrolled."""

    def __init__(self, store: Store) -> None:
        self.store = store
        t = store.create("township", {"code": "652301105", "name": "六工镇"})
        self.v1 = store.create("village", {"township": t, "code": "652301105901", "name": "甲村"})
        self.v2 = store.create("village", {"township": t, "code": "652301105902", "name": "乙村"})
        self.farmer = store.create("operator", {"village": self.v1, "name": "张三", "kind": "农户",
                                                "id_code": "11010519491231002X"})
        self.parcels = []
        for i in range(8):
            col, row = i % 4, i // 4
            x, y = 500000 + col * (100 + GAP), 4870000 + row * (100 + GAP)
            self.parcels.append(store.create("parcel", {
                "village": self.v1, "operator": self.farmer, "code": f"P{i}",
                "land_attribute": "集体机动地", "geometry": box(x, y, x + 100, y + 100)}))
        for i, parcel in enumerate(self.parcels):
            kind = MeasureKind.RETIRED if i in (0, 1) else MeasureKind.PLANTED
            services.set_measure(store, parcel, YEAR, kind, 15, 400)
        for village in (self.v1, self.v2):  # the notice first: 已公示 goes through it
            store.create("notice", {"village": village, "year": YEAR, "start_on": date(YEAR, 7, 21),
                                    "end_on": date(YEAR, 7, 27)})
        self.agreement = services.start_agreement(store, self.farmer, YEAR, date(YEAR, 7, 1))
        for status, day in ((AgreementStatus.SIGNED, 20), (AgreementStatus.PUBLICIZED, 25),
                            (AgreementStatus.FILED, 30)):
            services.advance_agreement(store, self.agreement, status, date(YEAR, 7, day))
        store.create("patrol", {"parcel": self.parcels[0], "year": YEAR, "stage": "秋翻",
                                "visited_on": date(YEAR, 10, 10), "patrollers": ["甲", "乙"],
                                "result": "合规"})
