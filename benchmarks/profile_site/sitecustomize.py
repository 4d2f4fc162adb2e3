"""Profiles every thread of a Python process started with this folder on PYTHONPATH and
WQ_SERVER_PROFILE naming a folder (bench_server sets both for a server it profiles): cProfile
per thread, in CPU time; SIGUSR2 marks where counting starts, SIGUSR1 writes what every thread spent since
into <folder>/<pid>.prof (pstats' format). The server's code is not touched; its `--workers`
processes inherit the environment, so each writes its own."""

from __future__ import annotations

import os

FOLDER = os.environ.get("WQ_SERVER_PROFILE")

if FOLDER:
    import cProfile
    import marshal
    import signal
    import threading
    import time

    _profiles: list[cProfile.Profile] = []
    _mark: dict = {}

    def _start_in_thread(*_: object) -> None:
        # CPU time of the thread, not wall time: waiting for a socket, a lock or a core is not
        # what the server spends.
        prof = cProfile.Profile(time.thread_time)  # enabled, it replaces this hook in its thread
        _profiles.append(prof)
        prof.enable()

    def _add(a: tuple, b: tuple, sign: int) -> tuple:
        return tuple(x + sign * y for x, y in zip(a, b, strict=True))

    def _merged() -> dict:
        out: dict = {}
        for prof in list(_profiles):
            prof.snapshot_stats()  # read while it runs on: never disabled from another thread
            for func, (cc, nc, tt, ct, callers) in prof.stats.items():
                if func not in out:
                    out[func] = (cc, nc, tt, ct, dict(callers))
                    continue
                pcc, pnc, ptt, pct, pcallers = out[func]
                for caller, value in callers.items():
                    pcallers[caller] = _add(pcallers[caller], value, 1) if caller in pcallers else value
                out[func] = (pcc + cc, pnc + nc, ptt + tt, pct + ct, pcallers)
        return out

    def _mark_here(*_: object) -> None:
        _mark.clear()
        _mark.update(_merged())

    def _dump(*_: object) -> None:
        now = _merged()
        for func, before in _mark.items():
            if func in now:
                callers = {c: _add(v, before[4].get(c, (0,) * len(v)), -1)
                           for c, v in now[func][4].items()}
                now[func] = (*_add(now[func][:4], before[:4], -1), callers)
        path = os.path.join(FOLDER, f"{os.getpid()}.prof")
        with open(path + ".part", "wb") as fh:
            marshal.dump(now, fh)
        os.replace(path + ".part", path)

    threading.setprofile(_start_in_thread)  # every thread started from now on
    _start_in_thread()
    signal.signal(signal.SIGUSR1, _dump)
    signal.signal(signal.SIGUSR2, _mark_here)
