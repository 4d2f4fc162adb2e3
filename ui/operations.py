"""The one way the window changes data: run a core operation, then broadcast what it changed.

`run_op(parent, store, op)` runs `op(store)` (a wq_desktop.operations function, which returns a
`Changes`); then `on_done(changes)` (the caller's own follow-up: close the dialog, select the new
row), then the `Changes` goes out ONCE on the store's ChangeBus. Every view listens there and
redraws only what the description names; no view refreshes itself after its own write. Modelled
on Anki's aqt/operations (CollectionOp … success, then on_operation_did_execute).

The long writers, sync and USB packages, run in a worker on a Store of their own (ui/sync/
controller.py with ui/workers.py) and publish their operation's Changes here when the job ends,
also what it stored before a failure or 取消 (a sync that stops halfway keeps its pages).
"""

from __future__ import annotations

import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from wq_desktop.errors import WqError
from wq_desktop.operations import Changes
from wq_desktop.store import Store

Op = Callable[[Store], Changes]


class ChangeBus(QObject):
    """Where the Changes of every operation on one store are announced, once each."""

    changed = Signal(object)  # Changes

    def publish(self, changes: Changes) -> None:
        if not changes.empty:
            self.changed.emit(changes)


# One bus per open store (the main window, its views, dialogs and the map all hear the same one),
# gone with the store.
_buses: weakref.WeakKeyDictionary[Store, ChangeBus] = weakref.WeakKeyDictionary()


def change_bus(store: Store) -> ChangeBus:
    bus = _buses.get(store)
    if bus is None:
        bus = _buses[store] = ChangeBus()
    return bus


def _warn(parent: QWidget | None, title: str) -> Callable[[WqError], None]:
    return lambda err: QMessageBox.warning(parent, title, str(err))


def run_op(parent: QWidget | None, store: Store, op: Op, *,
           on_done: Callable[[Changes], Any] | None = None,
           on_error: Callable[[WqError], Any] | None = None,
           error_title: str = "未能保存") -> Changes | None:
    """Run a short operation now. A refusal (WqError) changes nothing and goes to `on_error`
    (a message box by default); returns the Changes, or None when refused."""
    try:
        changes = op(store)
    except WqError as err:
        (on_error or _warn(parent, error_title))(err)
        return None
    if on_done is not None:
        on_done(changes)
    change_bus(store).publish(changes)
    return changes
