"""The demo township: big enough, every status present, fictional by construction, repeatable."""

from __future__ import annotations

import random
from pathlib import Path

from wq_desktop import checks
from wq_desktop.demo import create_demo_store, demo_id_number
from wq_desktop.model import AgreementStatus
from wq_desktop.queries import navigation
from wq_desktop.rules import identity
from wq_desktop.store import Store


def content(store: Store) -> list[tuple]:
    """What a user sees, without UUIDs and timestamps (which differ between builds by design)."""
    q = store.conn.execute
    return [
        q("SELECT name, id_code, phone FROM operator ORDER BY rowid").fetchall(),
        q("SELECT code, round(area_mu, 6), land_attribute FROM parcel ORDER BY rowid").fetchall(),
        q("SELECT p.code, m.year, m.kind, round(m.area_mu, 6) FROM measure m JOIN parcel p"
          " ON p.uuid=m.parcel ORDER BY m.rowid").fetchall(),
        q("SELECT number, status FROM agreement ORDER BY rowid").fetchall(),
        q("SELECT p.code, t.stage, t.visited_on, t.result FROM patrol t JOIN parcel p ON p.uuid=t.parcel"
          " ORDER BY t.rowid").fetchall(),
    ]


def test_demo_is_large_enough_complete_and_fictional(demo_store: Store) -> None:
    assert demo_store.is_demo
    assert demo_store.count("village") >= 3
    assert demo_store.count("operator") >= 150 and demo_store.count("parcel") >= 400
    statuses = {r["status"] for r in demo_store.find("agreement")}
    assert statuses == {s.value for s in AgreementStatus}
    assert all(v["name"].endswith("（演示）") for v in demo_store.find("village"))
    for op in demo_store.find("operator"):
        assert op["id_code"][2:8] == "652399" or op["id_code"].startswith("652399")
        if op["kind"] == "农户":
            assert identity.normalize_id_number(op["id_code"]) == op["id_code"]
    assert demo_store.count("patrol") > 0 and demo_store.count("photo") > 0
    assert demo_store.count("contact", "role='包联负责人'") >= 2


def test_demo_is_repeatable(tmp_path: Path) -> None:
    with create_demo_store(tmp_path / "a.sqlite") as a, create_demo_store(tmp_path / "b.sqlite") as b:
        assert content(a) == content(b)
        assert [f for f in checks.run_all(a, navigation.latest_year(a))
                if f.severity == checks.Severity.ERROR] == []


def test_a_demo_id_number_already_given_in_the_township_is_drawn_again() -> None:
    # A city of 28,000 people met a repeat (the store refused the second 孙珍明 and the build
    # stopped); the same stream that gave `first` is asked again with `first` taken.
    first = demo_id_number(random.Random(7), set())
    taken = {first}
    again = demo_id_number(random.Random(7), taken)
    assert again != first and identity.normalize_id_number(again) == again
    assert taken == {first, again}
