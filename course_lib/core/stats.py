"""How sure is a difference? Paired intervals for comparing two methods on the same test items.

Every comparison in the course ("three scales beat one", "the net beats the classical baseline", "joint
training beats its control")
is measured on the same test images for both methods, so the right unit is the *paired* difference per image.
Two intervals for its mean:

* :func:`paired_bootstrap`: resample the images with replacement and take percentiles of the resampled means
  (Efron & Tibshirani, *An Introduction to the Bootstrap*, 1993). Assumption-light; needs a few dozen images.
* :func:`paired_t_interval`: Student's t interval, ``mean ± t(n−1) · sd / √n`` (``scipy.stats.t``). For a handful
  of items (a few held-out photos), where a bootstrap has too few distinct resamples.

Both resample or average **images**, not pixels: pixels of one image are not independent, and an interval over
pixels would claim a precision the test set does not have.

Lecture: every lecture that compares two methods
"""

from __future__ import annotations

import math

import scipy.stats
import torch

from .checks import check_positive_int, check_same_shape, check_seed, check_tensor


def _paired(a, b) -> torch.Tensor:
    a = torch.as_tensor(a, dtype=torch.float64)
    b = torch.as_tensor(b, dtype=torch.float64)
    check_tensor(a, "a", dims="N", finite=True)
    check_same_shape(a, b, "a", "b")
    check_tensor(b, "b", dims="N", finite=True)
    if a.numel() == 0:
        raise ValueError("a and b must hold at least one paired value; got none")
    return a - b  # (N,)


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level must be in (0, 1), e.g. 0.95, but found {level!r}")


def paired_bootstrap(a, b, *, n_boot: int = 2000, seed: int = 0, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of the paired difference ``a − b`` and its percentile bootstrap interval over items.

    Parameters
    ----------
    a, b : Tensor[N] or sequence of float
        One measure per test item (image) for two methods, in the same order.
    n_boot : int
        Resamples.
    seed : int
        Seed of the resampling (the same seed gives the same interval).
    level : float
        Coverage, in (0, 1).

    Returns
    -------
    (mean, low, high) : floats

    Examples
    --------
    >>> mean, low, high = paired_bootstrap([3.0, 4.0, 5.0, 6.0], [1.0, 2.0, 2.0, 3.0])
    >>> mean, low <= mean <= high
    (2.5, True)
    """
    diff = _paired(a, b)
    check_positive_int(n_boot, "n_boot")
    check_seed(seed)
    _check_level(level)
    idx = torch.randint(len(diff), (n_boot, len(diff)), generator=torch.Generator().manual_seed(seed))  # (n_boot, N)
    means = diff[idx].mean(1)  # (n_boot,)
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)
    low, high = torch.quantile(means, q).tolist()
    return float(diff.mean()), low, high


def paired_t_interval(a, b, *, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of the paired difference ``a − b`` and Student's t interval, ``mean ± t(n−1) · sd / √n``.

    With a single pair the interval is infinite: no spread can be measured from one item.

    Examples
    --------
    >>> m, lo, hi = paired_t_interval([30.0, 31.0, 29.0], [29.0, 30.5, 28.0])
    >>> round(m, 3), round(lo, 3), round(hi, 3)
    (0.833, 0.116, 1.55)
    """
    diff = _paired(a, b)
    _check_level(level)
    n, mean = len(diff), float(diff.mean())
    if n == 1:
        return mean, -math.inf, math.inf
    half = float(scipy.stats.t.ppf((1 + level) / 2, n - 1)) * float(diff.std(unbiased=True)) / math.sqrt(n)
    return mean, mean - half, mean + half
