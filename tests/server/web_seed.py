"""Seeded townships for the web view's tests, written on laptops through the store's write API
and synced to a real server, so the server holds them exactly as a township would send them."""

from __future__ import annotations

import os
import random
import tempfile
from datetime import date
from pathlib import Path

import pytest
from serverproc import PASSWORD, ServerProcess, Township, admin, new_server_db
from shapely.geometry import box

from wq_desktop import services
from wq_desktop.demo import demo_id_number
from wq_desktop.model import AgreementStatus, MeasureKind
from wq_desktop.store import Store

YEAR = 2025
OFFICE = "市办王主任"
# Screenshots go to docs/screenshots only when asked (WQ_SCREENSHOTS_DIR=docs/screenshots), so a
# test run leaves the checkout as it found it.
SHOTS = Path(os.environ.get("WQ_SCREENSHOTS_DIR") or tempfile.mkdtemp(prefix="wq-web-shots-"))


def fill_township(store: Store, township: str, code: str, villages: int, seed: int,
                  origin: tuple[float, float]) -> None:
    """Villages with households and parcels at every stage of the work: some parcels not yet
    verified or mapped, some households without 包联 or agreement, a notice in some villages,
    patrols at some stages."""
    rng = random.Random(seed)
    leader = store.create("contact", {"township": township, "role": "包联负责人", "name": "马领导",
                                      "level": "乡"})
    staff = store.create("contact", {"township": township, "role": "工作人员", "name": "李干部"})
    id_codes: set[str] = set()
    for v in range(villages):
        village = store.create("village", {"township": township, "code": f"{code}{901 + v}",
                                           "name": f"{'东西南北'[v]}{code[-2:]}村"})
        if v % 2 == 0:
            store.create("notice", {"village": village, "year": YEAR, "start_on": date(YEAR, 7, 21),
                                    "end_on": date(YEAR, 7, 27)})
        for h in range(3 + v):
            op = store.create("operator", {
                "village": village, "name": f"农户{v}{h}", "kind": "农户",
                "id_code": demo_id_number(rng, id_codes),
                **({"leader": leader, "staff": staff} if rng.random() < 0.7 else {})})
            retiring = False
            for i in range(3):
                x = origin[0] + v * 3000 + h * 320 + i * 104
                y = origin[1]
                mapped = rng.random() < 0.85
                parcel = store.create("parcel", {
                    "village": village, "operator": op, "code": f"{v}{h}{i}",
                    "land_attribute": "集体机动地", "area_mu": 15.0,
                    **({"geometry": box(x, y, x + 100, y + 100)} if mapped else {})})
                draw = rng.random()
                if draw < 0.15:
                    continue  # not verified yet
                kind = (MeasureKind.RETIRED if draw < 0.45 else MeasureKind.FALLOW if draw < 0.6
                        else MeasureKind.PLANTED)
                services.set_measure(store, parcel, YEAR, kind, 15, 400 if kind != MeasureKind.PLANTED
                                     else None)
                if kind != MeasureKind.PLANTED:
                    retiring = True
                    for stage in ("秋翻", "冬压"):
                        if rng.random() < 0.5:
                            store.create("patrol", {"parcel": parcel, "year": YEAR, "stage": stage,
                                                    "visited_on": date(YEAR, 10, 10),
                                                    "patrollers": ["甲", "乙"], "result": "合规"})
            if retiring and rng.random() < 0.6:
                agreement = services.start_agreement(store, op, YEAR, date(YEAR, 7, 1))
                services.advance_agreement(store, agreement, AgreementStatus.SIGNED, date(YEAR, 7, 20))


class City:
    """A server process with two townships (three villages and one), their laptops synced, and an
    office account, on either store (on PostgreSQL with `pg_workers` processes)."""

    def __init__(self, tmp: Path, backend: str = "sqlite", pg_workers: int = 2) -> None:
        self.backend = backend
        self.server = ServerProcess(new_server_db(tmp, backend),
                                    workers=pg_workers if backend == "postgresql" else 1)
        self.server.start()
        admin(self.server.db, "adduser", "--name", OFFICE, "--role", "office")
        self.towns = [Township(self.server, tmp, "652301101", "三工镇", laptops=1),
                      Township(self.server, tmp, "652301102", "榆树沟镇", laptops=1)]
        for i, (town, villages) in enumerate(zip(self.towns, (3, 1), strict=True)):
            fill_township(town.stores[0], town.uuid, town.code, villages, seed=i + 1,
                          origin=(500000 + i * 20000, 4870000))
            town.sync(0)

    @property
    def url(self) -> str:
        return self.server.url

    def close(self) -> None:
        for town in self.towns:
            town.close()
        self.server.stop()


@pytest.fixture(scope="module", name="city")
def city_fixture(tmp_path_factory, backend: str, request: pytest.FixtureRequest) -> City:
    """The seeded city of one test module (imported by each web test module), on each store; a
    module's `PG_WORKERS` says how many server processes it runs on PostgreSQL (default 2)."""
    city = City(tmp_path_factory.mktemp("web"), backend, getattr(request.module, "PG_WORKERS", 2))
    yield city
    city.close()


def web_layer_only(city: City) -> None:
    """A test of the web layer alone (sign-in form, CSRF), the same code whatever the store:
    run on SQLite only, so the browser tests do not take twice as long for nothing."""
    if city.backend != "sqlite":
        pytest.skip("只涉及网页层，与服务器数据库无关：已在 SQLite 上测试")


__all__ = ["OFFICE", "PASSWORD", "SHOTS", "YEAR", "City", "city_fixture", "fill_township",
           "issue_supervision", "web_layer_only", "web_session"]


def web_session(url: str, user: str, password: str = PASSWORD):
    """A signed-in `requests` session of the web view and its CSRF token (what a browser holds)."""
    import re

    import requests

    s = requests.Session()
    form = s.get(url + "/web/login", timeout=30)
    csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)[1]
    answer = s.post(url + "/web/login", data={"csrf": csrf, "user": user, "password": password},
                    timeout=120)
    assert answer.url.endswith("/web/progress"), answer.text
    page = s.get(url + "/web/supervision", timeout=30)
    return s, re.search(r'name="csrf" value="([^"]+)"', page.text)[1]


def issue_supervision(url: str, kind: str, target: str, note: str, due: str) -> None:
    """The office issues a 督办 through the web form."""
    s, csrf = web_session(url, OFFICE)
    answer = s.post(url + "/web/supervision", data={"csrf": csrf, "kind": kind, "target": target,
                                                     "note": note, "due_on": due}, timeout=30)
    assert "督办已下发" in answer.text, answer.text
