"""The village page and 巡查整改 hear the change bus themselves: the village table reloads only
for a change in the village it shows (now if on screen, else when next shown)."""

from __future__ import annotations

import pytest

from ui.operations import run_op
from wq_desktop.operations import households
from wq_desktop.store import Store


def _operator_in(store: Store, village: str) -> dict:
    return store.find_one("operator", "village=?", (village,))


def test_an_edit_in_another_village_does_not_reload_the_shown_village(
        qtbot, window, demo_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    view = window.village
    window.tabs.setCurrentWidget(view)
    shown = view.village
    other = next(v["uuid"] for v in demo_store.find("village") if v["uuid"] != shown
                 and _operator_in(demo_store, v["uuid"]))
    loads: list[str] = []
    real = view._load_rows
    monkeypatch.setattr(view, "_load_rows", lambda: (loads.append(view.village), real()))

    elsewhere = _operator_in(demo_store, other)
    run_op(None, demo_store, lambda s: households.save_operator(
        s, elsewhere["uuid"], {"name": elsewhere["name"] + "甲"}))
    assert loads == []

    here = _operator_in(demo_store, shown)
    run_op(None, demo_store, lambda s: households.save_operator(
        s, here["uuid"], {"name": "改名测试户"}))
    assert loads == [shown]
    qtbot.waitUntil(lambda: not view.loading)
    assert "改名测试户" in [r.name for r in view.model.rows]

    # Off screen: nothing read until the page is shown again, then once.
    window.tabs.setCurrentWidget(window.rectifications)
    run_op(None, demo_store, lambda s: households.save_operator(
        s, here["uuid"], {"name": "再改名测试户"}))
    assert loads == [shown]
    window.tabs.setCurrentWidget(view)
    assert loads == [shown, shown]
    qtbot.waitUntil(lambda: not view.loading)
    assert "再改名测试户" in [r.name for r in view.model.rows]


def test_a_household_moved_away_leaves_the_shown_villages_table(
        qtbot, window, demo_store: Store) -> None:
    view = window.village
    window.tabs.setCurrentWidget(view)
    shown = view.village
    other = next(v["uuid"] for v in demo_store.find("village") if v["uuid"] != shown)
    here = _operator_in(demo_store, shown)
    run_op(None, demo_store, lambda s: households.save_operator(
        s, here["uuid"], {"village": other, "group": None}))
    qtbot.waitUntil(lambda: not view.loading)
    assert here["uuid"] not in [r.operator for r in view.model.rows]
