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

    @property
    def ratio(self) -> float:
        return self.product_s / self.baseline_s if self.baseline_s > 0 else float("inf")

    def line(self) -> str:
        return (f"{self.name}: {self.ratio:.2f}× baseline "
                f"(product {self.product_s:.3f} s, baseline {self.baseline_s:.3f} s)")


def best_of(fn: Callable[[], object], repeat: int = 3) -> float:
    """Median of `repeat` runs: robust to one run disturbed by the other core's load."""
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def compare(name: str, product: Callable[[], object], baseline: Callable[[], object],
            repeat: int = 3) -> Ratio:
    # Alternate so drifting load hits both sides alike.
    product_s = best_of(product, repeat)
    baseline_s = best_of(baseline, repeat)
    result = Ratio(name, product_s, baseline_s)
    print(result.line(), flush=True)
    return result
