"""Comparing restoration methods on the same images: PSNR, SSIM, seconds per image, and a spread.

Burger et al.'s question ("can plain neural nets compete with BM3D?") is answered by a table: every method on
the same held-out images with the same noise. ``run_methods`` fills it; ``paired_difference`` states how sure
a difference between two methods is, from the per-image differences (the same image and noise for both, so
the spread of the differences, not of the PSNRs, is what matters):

    d_i = PSNR_A(i) − PSNR_B(i),   mean ± t·s/√n  (a 95 % interval, Student's t with n − 1 degrees of freedom).

Used by lecture 06 (on small crops) and by bench/restoration.py (on the full held-out photos).

Lecture: 06_restoration
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch

from course_lib.core import check_tensor
from course_lib.core.stats import paired_t_interval

from .metrics import psnr, ssim


def run_methods(clean: torch.Tensor, corrupted, methods: dict[str, Callable], *, shown: torch.Tensor | None = None,
                per_image: bool = True) -> dict[str, dict]:
    """Run every method on the same corrupted images and measure it against ``clean``.

    Parameters
    ----------
    clean : Tensor[N, C, H, W]
        The ground truth in [0, 1].
    corrupted : Tensor[N, C, H, W] or tuple
        What each method is called with (``method(corrupted)``; a tuple is passed as one argument).
    methods : dict name → callable
        Each returns Tensor[N, C, H, W] (clipped to [0, 1]).
    shown : Tensor[N, C, H, W], optional
        The corrupted image as a viewer sees it; adds an ``"input"`` row (0 seconds).

    Returns
    -------
    dict name → {"psnr": float, "ssim": float, "seconds_per_image": float, "psnr_each": list, "out": Tensor}
        Means over the N images; ``psnr_each`` per image (for intervals); ``out`` the restored images.

    Lecture: 06_restoration
    """
    check_tensor(clean, "clean", dims="N C H W", dtype="float")
    N = clean.shape[0]
    rows = {}
    if shown is not None:
        p = psnr(shown.clamp(0, 1), clean)
        rows["input"] = {"psnr": float(p.mean()), "ssim": float(ssim(shown.clamp(0, 1), clean).mean()),
                         "seconds_per_image": 0.0, "psnr_each": p.tolist(), "out": shown.clamp(0, 1)}
    for name, method in methods.items():
        start = time.perf_counter()
        out = method(corrupted)
        if out.device.type == "cuda":
            torch.cuda.synchronize(out.device)
        seconds = (time.perf_counter() - start) / N
        out = out.to(clean.device)
        p = psnr(out, clean)
        rows[name] = {"psnr": float(p.mean()), "ssim": float(ssim(out, clean).mean()), "seconds_per_image": seconds,
                      "psnr_each": p.tolist(), "out": out}
    return rows


def paired_difference(a: list[float], b: list[float]) -> dict:
    """Mean of ``a − b`` over paired values with a 95 % t interval: ``{"mean", "low", "high", "n"}``.

    With one pair the interval is infinite (no spread can be measured). The interval is
    :func:`course_lib.core.stats.paired_t_interval` (a handful of photos: too few for a bootstrap).

    >>> d = paired_difference([30.0, 31.0, 29.0], [29.0, 30.5, 28.0])
    >>> round(d["mean"], 3), round(d["low"], 3), round(d["high"], 3)
    (0.833, 0.116, 1.55)

    Lecture: 06_restoration
    """
    if len(a) != len(b) or not len(a):
        raise ValueError(f"a and b must be non-empty and of equal length; got {len(a)} and {len(b)}")
    mean, low, high = paired_t_interval(list(a), list(b))
    return {"mean": mean, "low": low, "high": high, "n": len(a)}


def format_table(rows: dict[str, dict], *, title: str = "") -> str:
    """A plain-text table of ``run_methods``' rows: method, PSNR (dB), SSIM, seconds per image.

    Lecture: 06_restoration
    """
    lines = [title] if title else []
    lines.append(f"{'method':22s} {'PSNR dB':>8s} {'SSIM':>7s} {'s/image':>8s}")
    for name, r in rows.items():
        lines.append(f"{name:22s} {r['psnr']:8.2f} {r['ssim']:7.4f} {r['seconds_per_image']:8.3f}")
    return "\n".join(lines)
