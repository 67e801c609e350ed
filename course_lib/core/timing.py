"""Timing for the tradeoff tables: warm-up, repeats, CUDA synchronisation, median.

Lecture: every lecture that reports a speed ratio
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable

import torch

from .checks import check_positive_int


def _sync(device: torch.device | None) -> None:
    if device is not None and device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device is not None and device.type == "mps":
        torch.mps.synchronize()


def time_fn(
    fn: Callable[[], object],
    *,
    warmup: int = 2,
    repeats: int = 10,
    device: torch.device | str | None = None,
) -> dict:
    """Time ``fn()`` and return ``{"median_ms", "min_ms", "mean_ms", "repeats"}``.

    ``warmup`` calls are made first and not timed (they pay for allocation, autotuning and caches). On CUDA
    the device is synchronised before and after every call, since kernels run asynchronously: without it
    one would time the launch, not the work. The median is reported because a busy laptop adds outliers.

    Examples
    --------
    >>> t = time_fn(lambda: torch.ones(8) * 2, repeats=3)
    >>> sorted(t)
    ['mean_ms', 'median_ms', 'min_ms', 'repeats']
    """
    if warmup < 0:
        raise ValueError(f"warmup must be ≥ 0, but found {warmup}")
    check_positive_int(repeats, "repeats")
    device = torch.device(device) if device is not None else None
    with torch.no_grad():
        for _ in range(warmup):
            fn()
        times = []
        for _ in range(repeats):
            _sync(device)
            start = time.perf_counter()
            fn()
            _sync(device)
            times.append((time.perf_counter() - start) * 1000.0)
    return {
        "median_ms": statistics.median(times),
        "min_ms": min(times),
        "mean_ms": statistics.fmean(times),
        "repeats": repeats,
    }
