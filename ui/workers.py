"""Long work off the GUI thread, with a progress bar and a cancel button.

A Store is not shared between threads: a job receives the store's *path* and opens its own Store
on the same file inside the worker thread, and closes it when done. Results come back to the GUI
thread through signals; a job that wrote (a sync, a USB package) hands back its operation's
Changes, which the window broadcasts on its ChangeBus (ui/operations.py).
"""

from __future__ import annotations

import sys
import threading
import weakref
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal
from PySide6.QtWidgets import QDialog, QLabel, QProgressBar, QPushButton, QVBoxLayout, QWidget

from wq_desktop import free_memory
from wq_desktop.errors import Stopped, WqError


class Cancelled(Exception):
    """Raised inside a job when the user pressed 取消."""


class JobContext:
    """What a job sees: report progress, and learn whether the user cancelled."""

    def __init__(self, emit: Callable[[int, str], None]) -> None:
        self._emit = emit
        self._cancel = threading.Event()

    def progress(self, percent: int, text: str = "") -> None:
        self.check()
        self._emit(max(0, min(100, int(percent))), text)

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check(self) -> None:
        if self._cancel.is_set():
            raise Cancelled()

    def cancel(self) -> None:
        self._cancel.set()


Job = Callable[[JobContext], Any]


def weak_slot(method: Callable[..., Any]) -> Callable[..., None]:
    """A slot for a worker's signals that does not keep the widget alive. A lambda holding the
    widget, connected to its own child worker, makes a cycle that is freed when the worker is
    deleted — which then deletes the widget, and with it the worker a second time (a crash:
    "pure virtual method called")."""
    ref = weakref.WeakMethod(method)  # type: ignore[arg-type]

    def call(*args: Any) -> None:
        bound = ref()
        if bound is not None:
            bound(*args)

    return call


class Worker(QThread):
    """Runs one job; exactly one of done / failed / cancelled is emitted at the end, in the GUI
    thread and only once the thread has ended: whoever reacts (closes the window, ends the test)
    can never destroy a thread that is still running."""

    progressed = Signal(int, str)
    done = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, job: Job, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job = job
        self.context = JobContext(self.progressed.emit)
        self._outcome: tuple[str, Any] = ("failed", "后台任务未能完成。")
        self.finished.connect(self._deliver)  # first of finished's slots: outcome, then the rest
        if parent is not None:
            # Connected through this worker, so Qt drops the connection when the worker goes.
            parent.destroyed.connect(self.stop_before_parent_goes)

    def stop_before_parent_goes(self) -> None:
        """The parent (a closed panel, a deleted widget) is being destroyed and takes this thread
        with it: Qt aborts the whole program if the thread is still running then. Ask the job to
        stop and wait until it has ended; its outcome is no longer delivered to anyone."""
        if self.isRunning():
            self.cancel()
            self.wait()

    def cancel(self) -> None:
        self.context.cancel()

    def run(self) -> None:
        try:
            result = self.job(self.context)
        except (Cancelled, Stopped):
            self._outcome = ("cancelled", None)
        except WqError as err:
            self._outcome = ("failed", str(err))
        except Exception:  # an unexpected error in a worker must not vanish silently
            from .crash import write_report

            try:
                report = write_report(*sys.exc_info())  # type: ignore[arg-type]
                self._outcome = ("failed", f"后台任务出错，错误报告已保存到：{report}")
            except OSError:
                self._outcome = ("failed", "后台任务出错，错误报告也未能保存。")
        else:
            self._outcome = ("cancelled", None) if self.context.cancelled else ("done", result)
        finally:
            free_memory.give_back()  # what the job freed, out of this thread's malloc arena

    def _deliver(self) -> None:
        self.wait()  # finished is emitted just before the thread ends: let it end first
        kind, value = self._outcome
        if kind == "done":
            self.done.emit(value)
        elif kind == "failed":
            self.failed.emit(value)
        else:
            self.cancelled.emit()


class ProgressDialog(QDialog):
    """Modal progress bar with 取消 for one Worker; closes itself when the job ends. A job that
    must not be stopped halfway (`cancellable=False`) shows a busy bar and no 取消."""

    def __init__(self, title: str, worker: Worker, parent: QWidget | None = None,
                 cancellable: bool = True) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setModal(True)
        self.setMinimumWidth(380)
        self.worker = worker
        self.cancellable = cancellable
        self.label = QLabel("正在处理…")
        self.label.setWordWrap(True)
        self.bar = QProgressBar()
        self.bar.setRange(0, 100 if cancellable else 0)
        self.cancel_button = QPushButton("取消")
        self.cancel_button.setVisible(cancellable)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self._cancel)
        worker.progressed.connect(self._progress)
        worker.finished.connect(self.accept)

    def _progress(self, percent: int, text: str) -> None:
        self.bar.setValue(percent)
        if text:
            self.label.setText(text)

    def _cancel(self) -> None:
        self.cancel_button.setEnabled(False)
        self.label.setText("正在取消…")
        self.worker.cancel()

    def reject(self) -> None:  # Esc or the window's close button mean 取消, never "leave it running"
        if self.cancellable:
            self._cancel()


def start_worker(parent: QObject | None, job: Job, on_done: Callable[[Any], None],
                 on_failed: Callable[[str], None] | None = None,
                 on_cancelled: Callable[[], None] | None = None,
                 on_finished: Callable[[], None] | None = None,
                 on_progress: Callable[[int, str], None] | None = None,
                 before_start: Callable[[Worker], None] | None = None) -> Worker:
    """Start `job` in a worker thread with every callback connected *before* start(): a job that
    ends at once (an unreachable server, a damaged file) still reaches all of them. `on_finished`
    runs after the outcome's callback, once, whatever the outcome."""
    worker = Worker(job, parent)
    worker.done.connect(on_done)
    if on_failed:
        worker.failed.connect(on_failed)
    if on_cancelled:
        worker.cancelled.connect(on_cancelled)
    if on_progress:
        worker.progressed.connect(on_progress)
    if on_finished:
        worker.finished.connect(on_finished)
    if before_start:
        before_start(worker)
    worker.finished.connect(worker.deleteLater)
    worker.start()
    return worker


def run_with_progress(parent: QWidget | None, title: str, job: Job,
                      on_done: Callable[[Any], None], on_failed: Callable[[str], None] | None = None,
                      on_cancelled: Callable[[], None] | None = None,
                      on_finished: Callable[[], None] | None = None) -> Worker:
    """Start `job` in a worker thread and show the progress dialog (non-blocking)."""
    dialogs: list[ProgressDialog] = []

    def with_dialog(worker: Worker) -> None:
        dialog = ProgressDialog(title, worker, parent)
        worker.finished.connect(dialog.deleteLater)  # one dialog per job, gone with it
        dialogs.append(dialog)

    worker = start_worker(parent, job, on_done, on_failed, on_cancelled, on_finished,
                          before_start=with_dialog)
    dialogs[0].open()
    return worker
