"""The map keeps up with saves without freezing the window (#15): a few changed, added or deleted
parcels are patched in from a read of those parcels alone; a large change reads the layer again in
a worker, and the map shows the new outlines with its view and selection kept."""

from __future__ import annotations

import threading

import pytest
import shapely
from shapely import affinity

import ui.map.canvas as canvas_module
from ui.operations import run_op
from wq_desktop.gisfiles import parcel_layer
from wq_desktop.operations import parcels


@pytest.fixture
def reads(monkeypatch: pytest.MonkeyPatch) -> list[tuple[list[str] | None, bool]]:
    """The map's layer reads: (the parcels asked for, None for all; whether in the GUI thread)."""
    seen: list[tuple[list[str] | None, bool]] = []
    real = canvas_module.parcel_layer

    def layer(*args, **kw):
        seen.append((kw.get("parcel_uuids"), threading.current_thread() is threading.main_thread()))
        return real(*args, **kw)

    monkeypatch.setattr(canvas_module, "parcel_layer", layer)
    return seen


def _map(qtbot, window):
    tab = window.map
    qtbot.waitUntil(lambda: not tab.loading and tab.canvas.parcels is not None, timeout=60000)
    return tab.canvas


def test_a_new_and_a_deleted_parcel_are_patched_in_without_reading_the_township(qtbot, window, reads) -> None:
    canvas = _map(qtbot, window)
    store, layer = window.store, canvas.parcels.layer
    reads.clear()
    first = layer.uuid[0]
    outline = affinity.translate(shapely.from_wkb(layer.wkb[0]), 0, -5000)  # clear of the others
    values = {"village": layer.village[0], "code": "ZZ-新", "land_attribute": layer.land_attribute[0]}
    new = run_op(None, store, lambda s: parcels.draw_parcel(s, values, outline)).result
    run_op(None, store, lambda s: parcels.delete_parcel(s, first))
    qtbot.waitUntil(lambda: canvas.parcels.row_of(new) is not None and canvas.parcels.row_of(first) is None)
    assert [sorted(asked or []) for asked, _ in reads] == [sorted([new, first])]  # those two only
    shown = canvas.parcels.layer
    fresh = parcel_layer(store, window.year)
    assert shown.uuid == fresh.uuid and shown.code == fresh.code  # in the layer's order
    row = canvas.parcels.row_of(new)
    assert canvas.parcels.bbox[row].tolist() == pytest.approx(list(outline.bounds))


def test_a_large_change_is_read_again_in_a_worker_and_the_map_shows_the_new_outlines(
        qtbot, window, reads, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(canvas_module, "RELOAD_BATCH", 2)  # the demo's scale: 3 parcels are many
    canvas = _map(qtbot, window)
    store, layer = window.store, canvas.parcels.layer
    moved = layer.uuid[:3]
    canvas.select_parcel(layer.uuid[5])
    view = (canvas.scale, canvas.center)
    reads.clear()
    shapes = {}
    for uuid in moved:
        record = store.get("parcel", uuid)
        shapes[uuid] = affinity.translate(record["geometry"], 7.0, 3.0)
        run_op(None, store, lambda s, u=uuid, r=record: parcels.edit_outline(
            s, u, shapes[u], base_rev=r["rev"]))
    canvas.apply_pending()
    assert canvas.loading and canvas.parcels.layer is layer  # the window goes on meanwhile
    qtbot.waitUntil(lambda: not canvas.loading, timeout=60000)
    assert reads and all(asked is None and not in_gui for asked, in_gui in reads)  # in a worker
    for uuid in moved:
        assert canvas.parcels.bbox[canvas.parcels.row_of(uuid)].tolist() == pytest.approx(
            list(shapes[uuid].bounds))
    assert (canvas.scale, canvas.center) == view and canvas.selected_uuid() == layer.uuid[5]


def test_adding_or_deleting_a_parcel_redraws_the_map_and_its_table_once(qtbot, window) -> None:
    """Rows move when parcels come or go: the layer is swapped, and the attribute table (which
    listens to layerChanged) is refilled once for it, not twice."""
    canvas = _map(qtbot, window)
    store, layer = window.store, canvas.parcels.layer
    changed: list[int] = []
    canvas.layerChanged.connect(lambda: changed.append(1))
    outline = affinity.translate(shapely.from_wkb(layer.wkb[0]), 0, -5000)
    values = {"village": layer.village[0], "code": "ZZ-新", "land_attribute": layer.land_attribute[0]}
    new = run_op(None, store, lambda s: parcels.draw_parcel(s, values, outline)).result
    qtbot.waitUntil(lambda: canvas.parcels.row_of(new) is not None)
    assert len(changed) == 1
    run_op(None, store, lambda s: parcels.delete_parcel(s, new))
    qtbot.waitUntil(lambda: canvas.parcels.row_of(new) is None)
    assert len(changed) == 2
