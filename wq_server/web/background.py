"""Figures that take a while at city size (进度 ~40 s, 数据检查 minutes on 100,000 parcels), computed
in a thread of their own and kept until the records move (`ReadModel.position`): the first
visitor sees how far it is (the page reloads itself), everyone after gets the kept result at once.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from .read_model import read_model

WAIT_S = 3.0  # a request waits this long for a fresh result before showing "正在统计…"


@dataclass
class Job:
    head: Hashable  # the records' position it was started at (read_model.py)
    started: float = field(default_factory=time.time)
    step: str = "正在准备…"
    done: bool = False
    error: str = ""
    result: Any = None
    _finished: threading.Event = field(default_factory=threading.Event)

    @property
    def started_at(self) -> str:
        return time.strftime("%H:%M:%S", time.localtime(self.started))


_jobs: dict[Hashable, Job] = {}
_lock = threading.Lock()


def job_for(request: Request, key: Hashable, work: Callable[[Job], Any]) -> Job:
    """The kept job for `key` if the records have not changed since it started, else a new one
    (which reads them at this position or later: never an older one)."""
    head = read_model(request).position()
    with _lock:
        job = _jobs.get(key)
        if job is None or (job.done and (job.head != head or job.error)):
            job = _jobs[key] = Job(head)
            threading.Thread(target=_run, args=(job, work), name="web-figures", daemon=True).start()
    job._finished.wait(WAIT_S)
    return job


def _run(job: Job, work: Callable[[Job], Any]) -> None:
    try:
        job.result = work(job)
    except Exception as err:  # said on the page; the next visit starts again
        job.error = f"统计未完成：{err}"
    finally:
        job.done = True
        job._finished.set()
