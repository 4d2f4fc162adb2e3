"""The window at real size: GUI-thread stalls per action, first paint, peak memory.

A heartbeat timer ticks every 5 ms in the real MainWindow while a script performs what a user
does; the worst gap between two ticks during an action is how long the window was frozen. The
target is under 100 ms on the township store and under 250 ms on the city store.

  first paint   a fresh process showing MainWindow on the store  vs  one showing a bare QMainWindow,
                both with bytecode cached by one earlier start (installed), then both compiling
                the sources they load at start (a first start of a checkout)
  peak memory   the window process's peak resident size over all actions  vs  the bare window's
                (on Linux each action's own peak is printed too: VmHWM, reset before it)

Stores: WQ_BENCH_STORES=township.sqlite[,city.sqlite] (made by `python main.py demo --size …`);
without it a township store is generated first (a few minutes).
WQ_BENCH_PROFILE=DIR also profiles the GUI thread during each action (cProfile sees only the
thread it runs in): DIR/NN-action.prof, and the heaviest calls printed under each action. What
runs in the GUI thread does not depend on the machine's load, the stall's wall time does.
WQ_BENCH_SAMPLE=1 instead samples every thread's stack and CPU clock each millisecond from a thread
of its own and prints, for each action's worst stall, where the GUI thread was while it ran and
while it waited (for the interpreter lock or a core), and which threads ran meanwhile.
"""

from __future__ import annotations

import cProfile
import itertools
import os
import pstats
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

ROOT = Path(__file__).resolve().parents[1]
TICK_MS = 5

_FIRST_PAINT = r"""
import os, sys, time
start = float(sys.argv[2])
sys.path.insert(0, sys.argv[3])
from PySide6.QtCore import QEvent, QObject, QTimer
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow
app = QApplication(sys.argv[:1])
if sys.argv[1] == "bare":
    window = QMainWindow()
    window.setCentralWidget(QLabel("退地减水核查"))
else:
    from ui.fonts import apply_chinese_font
    from ui.main_window import MainWindow
    from wq_desktop.settings import Settings
    from wq_desktop.store import Store
    apply_chinese_font(app)
    window = MainWindow(Store.open(sys.argv[1], "基准测试"), Settings(user="基准测试"),
                        __import__("pathlib").Path(sys.argv[4]))
class First(QObject):
    def eventFilter(self, obj, event):
        if event.type() == QEvent.Type.Paint:
            print(f"{time.time() - start:.4f}", flush=True)
            import resource
            print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, flush=True)
            os._exit(0)
        return False
first = First()
window.installEventFilter(first)
window.resize(1400, 900)
window.show()
app.exec()
"""


def first_paint(target: str, settings: Path, bytecode: Path | None = None) -> tuple[float, int]:
    """Seconds from process start to the window's first paint event, and the process's KiB.
    With `bytecode`, modules are compiled once into that folder and read from it after, as an
    installed program reads its bundled bytecode; without, the project's sources are compiled at
    each start (this machine sets PYTHONDONTWRITEBYTECODE), as on the first start of a checkout."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    if bytecode is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(bytecode)
    out = subprocess.run([sys.executable, "-c", _FIRST_PAINT, target, repr(time.time()), str(ROOT),
                          str(settings)], capture_output=True, text=True, timeout=600, check=True,
                         env=env)
    seconds, rss = out.stdout.split()[-2:]
    return float(seconds), int(rss)


class Memory:
    """This process's resident size: now, the peak since the last action ended (Linux: VmHWM,
    reset through /proc/self/clear_refs) and the peak over all actions, in KiB. Elsewhere the
    action's peak is the peak so far (ru_maxrss)."""

    def __init__(self) -> None:
        self.peak_kib = 0
        self._reset()

    @staticmethod
    def _reset() -> None:
        try:
            with open("/proc/self/clear_refs", "w") as refs:
                refs.write("5")  # resets VmHWM to the resident size now
        except OSError:
            pass

    def end_action(self) -> tuple[int, int]:
        """(resident now, peak since the last action ended) in KiB."""
        try:
            with open("/proc/self/status") as status:
                fields = {line.split(":")[0]: int(line.split()[1]) for line in status
                          if line.startswith(("VmRSS:", "VmHWM:"))}
            now, peak = fields["VmRSS"], fields["VmHWM"]
        except (OSError, KeyError):
            now = peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        self.peak_kib = max(self.peak_kib, peak)
        self._reset()
        return now, peak


def _median(values: list[float]) -> float:
    return sorted(values)[len(values) // 2]


class Heartbeat:
    """Ticks in the GUI thread; the largest gap since `start()` is the worst stall. Beside its wall
    time, the GUI thread's own CPU time in that gap (`time.thread_time`): on a loaded machine the
    wall time also counts waiting for a core, the CPU time only the work the action did there."""

    def __init__(self) -> None:
        from PySide6.QtCore import QTimer

        self.timer = QTimer()
        self.timer.setInterval(TICK_MS)
        self.timer.timeout.connect(self._tick)
        self.start()
        self.timer.start()

    def _tick(self) -> None:
        now, cpu = time.perf_counter(), time.thread_time()
        if now - self.last > self.worst:
            self.worst, self.worst_cpu = now - self.last, cpu - self.last_cpu
            self.worst_span = (self.last, now)
        self.last, self.last_cpu = now, cpu

    def start(self) -> None:
        self.last, self.last_cpu = time.perf_counter(), time.thread_time()
        self.worst = self.worst_cpu = 0.0
        self.worst_span = (self.last, self.last)


class Sampler(threading.Thread):
    """Every millisecond: each thread's CPU clock, the GUI thread's stack and (Linux) how long the
    GUI thread has waited in the run queue for a core (/proc/.../schedstat). Between two samples
    the GUI thread either ran (its CPU clock moved), waited for a core, or was blocked: waiting
    for the interpreter lock another thread holds, or in a blocking call."""

    def __init__(self) -> None:
        super().__init__(daemon=True, name="sampler")
        main = threading.main_thread()
        self.main = main.ident
        self.schedstat = f"/proc/self/task/{main.native_id}/schedstat"
        self.samples: list[tuple[float, float, dict[int, float], tuple[str, ...]]] = []
        self.names: dict[int, str] = {}

    def _queued(self) -> float:
        try:
            with open(self.schedstat) as stat:
                return int(stat.read().split()[1]) / 1e9
        except (OSError, IndexError, ValueError):
            return 0.0

    def run(self) -> None:
        clocks: dict[int, int] = {}
        while True:
            time.sleep(0.001)
            frames = sys._current_frames()
            now, queued = time.perf_counter(), self._queued()
            cpu: dict[int, float] = {}
            for ident in frames:
                if ident == self.ident:
                    continue
                try:
                    clock = clocks.get(ident) or clocks.setdefault(ident, time.pthread_getcpuclockid(ident))
                    cpu[ident] = time.clock_gettime(clock)
                except (OSError, OverflowError):
                    continue
                if ident not in self.names:
                    self.names[ident] = self._label(ident, frames[ident])
            self.samples.append((now, queued, cpu, _stack(frames.get(self.main))))

    @staticmethod
    def _label(ident: int, frame: object) -> str:
        for thread in threading.enumerate():
            if thread.ident == ident:
                return thread.name
        while frame is not None and frame.f_back is not None:  # type: ignore[attr-defined]
            frame = frame.f_back  # type: ignore[attr-defined]
        return _where(frame) if frame is not None else str(ident)

    def report(self, span: tuple[float, float]) -> None:
        """Where the GUI thread was during `span`, and the other threads' CPU meanwhile."""
        inside = [s for s in self.samples if span[0] <= s[0] <= span[1]]
        kinds = ("running", "waiting for a core", "blocked (interpreter lock or a call)")
        buckets: list[dict[tuple[str, ...], float]] = [{}, {}, {}]
        others: dict[int, float] = {}
        for (t0, q0, cpu0, _), (t1, q1, cpu1, stack) in itertools.pairwise(inside):
            ran = max(cpu1.get(self.main, 0.0) - cpu0.get(self.main, 0.0), 0.0)
            queued = max(min(q1 - q0, t1 - t0 - ran), 0.0)
            for bucket, seconds in zip(buckets, (ran, queued, max(t1 - t0 - ran - queued, 0.0)), strict=True):
                bucket[stack] = bucket.get(stack, 0.0) + seconds
            for ident, clock in cpu1.items():
                if ident != self.main and ident in cpu0:
                    others[ident] = others.get(ident, 0.0) + clock - cpu0[ident]
        for kind, bucket in zip(kinds, buckets, strict=True):
            print(f"      GUI thread {kind} {sum(bucket.values()) * 1000:.0f} ms:", flush=True)
            for stack, seconds in sorted(bucket.items(), key=lambda kv: -kv[1])[:5]:
                if seconds >= 0.001:
                    print(f"        {seconds * 1000:5.1f} ms  {' < '.join(stack)}", flush=True)
        busy = ", ".join(f"{self.names.get(i, i)} {c * 1000:.0f} ms" for i, c in
                         sorted(others.items(), key=lambda kv: -kv[1]) if c >= 0.001)
        print(f"      other threads' CPU meanwhile: {busy or 'none'}", flush=True)
        self.samples.clear()


def _where(frame: object) -> str:
    code = frame.f_code  # type: ignore[attr-defined]
    file = Path(code.co_filename)
    name = str(file.relative_to(ROOT)) if ROOT in file.parents else file.name
    return f"{name}:{frame.f_lineno} {code.co_name}"  # type: ignore[attr-defined]


def _stack(frame: object, depth: int = 4) -> tuple[str, ...]:
    """The innermost frame and the innermost frames of the project's own code, up to `depth`."""
    if frame is None:
        return ("(idle)",)
    found = [_where(frame)]
    frame = frame.f_back  # type: ignore[attr-defined]
    while frame is not None and len(found) < depth:
        if str(ROOT) in frame.f_code.co_filename and "benchmarks" not in frame.f_code.co_filename:  # type: ignore[attr-defined]
            found.append(_where(frame))
        frame = frame.f_back  # type: ignore[attr-defined]
    return tuple(found)


def run_actions(db: Path, settings: Path) -> tuple[list[tuple[str, float]], int]:
    from PySide6.QtCore import QPointF, QTimer
    from PySide6.QtWidgets import QApplication

    from ui.fonts import apply_chinese_font
    from ui.gc_guard import collect_in_gui_thread
    from ui.main_window import MainWindow
    from ui.operations import run_op
    from wq_desktop.operations import parcels
    from wq_desktop.settings import Settings
    from wq_desktop.store import Store

    app = QApplication.instance() or QApplication([])
    collect_in_gui_thread()
    apply_chinese_font(app)
    heart = Heartbeat()
    memory = Memory()
    results: list[tuple[str, float]] = []
    profile_dir = os.environ.get("WQ_BENCH_PROFILE")
    sampler = Sampler() if os.environ.get("WQ_BENCH_SAMPLE") else None
    if sampler:
        sampler.start()

    def act(name: str, action: Callable[[], object], done: Callable[[], bool] = lambda: True,
            settle_s: float = 0.6, timeout_s: float = 900.0) -> None:
        for _ in range(20):
            app.processEvents()
        profile = cProfile.Profile(time.thread_time) if profile_dir else None
        heart.start()
        began = time.perf_counter()
        if sampler:
            sampler.samples.clear()
        if profile:
            profile.enable()
        action()
        while time.perf_counter() - began < timeout_s:
            app.processEvents()
            if done() and time.perf_counter() - began >= settle_s:
                break
        if profile:
            profile.disable()
        results.append((name, heart.worst))
        now, peak = memory.end_action()
        print(f"   {name}: worst stall {heart.worst * 1000:.0f} ms (GUI thread CPU"
              f" {heart.worst_cpu * 1000:.0f} ms; memory {now / 1024:.0f} MiB, peak since the last action"
              f" {peak / 1024:.0f})", flush=True)
        if profile:
            _report_profile(profile, Path(profile_dir) / f"{len(results):02d}-{name}.prof")
        if sampler:
            sampler.report(heart.worst_span)

    store = Store.open(db, "基准测试")
    window: MainWindow | None = None

    def open_window() -> None:
        nonlocal window
        window = MainWindow(store, Settings(user="基准测试"), settings)
        window.resize(1400, 900)
        window.show()

    # Until every page is made: the frame paints first, the other pages come right after.
    act("open the window", open_window, lambda: window is not None and window.tabs.all_built)
    assert window is not None
    w = window
    dash = w.dashboard
    year = w.year
    villages = store.find("village", order_by="code")
    act("switch to 工作进度", lambda: w.tabs.setCurrentWidget(dash), lambda: not dash.loading)
    act("change the year", lambda: w.set_year(year - 1), lambda: not dash.loading)
    act("change the year back", lambda: w.set_year(year), lambda: not dash.loading)
    act("run the checks", w.run_checks, lambda: "项发现" in dash.check_summary.text())
    act("search 王", lambda: w.nav.search.setText("王"),
        lambda: w.nav.hits.isVisible() or w.nav.no_hits.isVisible(), settle_s=0.8)
    act("open a village", lambda: w.show_village(villages[len(villages) // 2]["uuid"]))
    parcel = store.find_one("parcel", "village=? AND operator IS NOT NULL",
                            (villages[len(villages) // 2]["uuid"],))
    # As the window saves: an operation, its Changes broadcast (the map patches that parcel).
    act("save a parcel", lambda: run_op(w, store, lambda s: parcels.save_parcel(
        s, parcel["uuid"], {"crop": "打瓜"}, base_rev=store.get("parcel", parcel["uuid"])["rev"])))
    w.show_household(parcel["operator"])

    def save_household() -> None:
        w.household.form.edits["phone"].setText("13800001111")
        w.household.save()

    act("save a household (its phone)", save_household)
    act("open the map", lambda: w.tabs.setCurrentWidget(w.map_tab))
    canvas = w.map.canvas

    def pan() -> None:
        canvas.center = (canvas.center[0] + 150 / canvas.scale, canvas.center[1])

    middle = QPointF(canvas.width() / 2, canvas.height() / 2)
    steps: list[Callable[[], None]] = []

    def step() -> None:
        steps.pop(0)()
        canvas.repaint()
        if steps:  # the next wheel turn or drag 20 ms later, as a hand makes them
            QTimer.singleShot(20, step)

    def pan_zoom() -> None:
        """Four wheel steps in, four drags aside, each its own event as a user's are (and
        painted at once): the stall is the worst frame, not the eight frames together."""
        steps.extend([lambda: canvas.zoom_at(middle, 1.6)] * 4 + [pan] * 4)
        step()

    act("pan and zoom the map", pan_zoom, lambda: not steps)
    act("show the whole township on the map", lambda: (w.map.show_village(None), canvas.repaint()))
    center: list[object] = []
    act("print preview", lambda: center.append(w.print_current()), settle_s=3.0)
    peak_kib = memory.peak_kib
    for c in center:
        c.close()  # type: ignore[attr-defined]
    w._closing_confirmed = True
    w.close()
    store.close()
    return results, peak_kib


def _report_profile(profile: cProfile.Profile, path: Path) -> None:
    """The project's calls that took the most GUI-thread CPU time (cumulative) in one action."""
    path.parent.mkdir(parents=True, exist_ok=True)
    profile.dump_stats(path)
    stats = pstats.Stats(str(path))
    own = [(key, row) for key, row in stats.stats.items()  # type: ignore[attr-defined]
           if str(ROOT) in key[0] and "benchmarks" not in key[0]]
    for (file, line, func), (_cc, calls, _tt, cum, _callers) in sorted(
            own, key=lambda kv: -kv[1][3])[:10]:
        where = Path(file).relative_to(ROOT)
        print(f"      {cum * 1000:7.1f} ms  {calls:6d}×  {where}:{line} {func}", flush=True)


def _stores() -> list[Path]:
    listed = os.environ.get("WQ_BENCH_STORES")
    if listed:
        return [Path(p) for p in listed.split(",") if p]
    from wq_desktop.demo_scale import create_scale_store

    folder = Path(tempfile.mkdtemp())
    path = folder / "township.sqlite"
    print("   generating the township store…", flush=True)
    create_scale_store(path, "township").close()
    return [path]


def main() -> None:
    for original in _stores():
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / original.name  # actions write: work on a copy
            import sqlite3

            with sqlite3.connect(original) as src, sqlite3.connect(db) as dst:
                src.backup(dst)
            photos = original.parent / f"{original.stem}_photos"
            if photos.exists():
                shutil.copytree(photos, Path(tmp) / f"{db.stem}_photos")
            from wq_desktop.store import Store

            with Store.open(db, "基准测试") as s:
                counts = s.count("parcel"), s.count("operator")
            print(f"   {db.name}: {counts[0]:,} parcels, {counts[1]:,} households", flush=True)
            settings = Path(tmp) / "settings.json"
            profiling = os.environ.get("WQ_BENCH_PROFILE") or os.environ.get("WQ_BENCH_SAMPLE")
            if not profiling:  # profiling: the stalls only
                bytecode = Path(tmp) / "bytecode"
                for target in (str(db), "bare"):
                    first_paint(target, settings, bytecode)  # compiles what each start loads
                for label, cache in (("installed", bytecode), ("sources compiled at start", None)):
                    product, bare = [], []
                    for _ in range(5):  # interleaved: the machine's load weighs on both alike
                        product.append(first_paint(str(db), settings, cache))
                        bare.append(first_paint("bare", settings, cache))
                    p, b = _median([x[0] for x in product]), _median([x[0] for x in bare])
                    print(f"first paint, {db.stem}, {label}: {p / b:.2f}× baseline (product"
                          f" {p:.3f} s, bare window {b:.3f} s, medians of 5)", flush=True)
            results, peak = run_actions(db, settings)
            worst = max(results, key=lambda r: r[1])
            print(f"GUI stalls, {db.stem}: worst {worst[1] * 1000:.0f} ms ({worst[0]})", flush=True)
            if profiling:
                continue
            bare_kib = min(x[1] for x in bare)
            print(f"peak memory, {db.stem}: {peak / 1024:.0f} MiB after the actions"
                  f" (bare window {bare_kib / 1024:.0f} MiB; {peak / bare_kib:.2f}×)", flush=True)


if __name__ == "__main__":
    main()
