"""Time a piece of the product against a bare baseline doing the same work, in the same run.

A ratio (product time / baseline time) is what we track: it does not depend on how fast the
machine is, only on how much overhead the product adds over the bare library doing the same job.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Ratio:
    name: str
    product_s: float
    baseline_s: float
    # This process's CPU seconds (time.process_time) of each side, when measured: on a machine
    # shared with other jobs wall time also counts waiting for a core, CPU time does not.
    product_cpu_s: float | None = None
    baseline_cpu_s: float | None = None

    @property
    def ratio(self) -> float:
        return self.product_s / self.baseline_s if self.baseline_s > 0 else float("inf")

    def line(self) -> str:
        text = (f"{self.name}: {self.ratio:.2f}× baseline "
                f"(product {self.product_s:.3f} s, baseline {self.baseline_s:.3f} s")
        if self.product_cpu_s is not None and self.baseline_cpu_s:
            text += (f"; CPU {self.product_cpu_s / self.baseline_cpu_s:.2f}×: "
                     f"{self.product_cpu_s:.3f} s against {self.baseline_cpu_s:.3f} s")
        return text + ")"


def _median_run(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median wall and CPU seconds of `repeat` runs: robust to one run disturbed by load."""
    walls, cpus = [], []
    for _ in range(repeat):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), statistics.median(cpus)


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median wall seconds of `repeat` runs."""
    return _median_run(fn, repeat)[0]


def compare(name: str, product: Callable[[], object], baseline: Callable[[], object],
            repeat: int = 3) -> Ratio:
    product_s, product_cpu = _median_run(product, repeat)
    baseline_s, baseline_cpu = _median_run(baseline, repeat)
    result = Ratio(name, product_s, baseline_s, product_cpu, baseline_cpu)
    print(result.line(), flush=True)
    return result
