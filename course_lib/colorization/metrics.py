"""How colourful and how right: per-pixel accuracy AuC over ab thresholds, and saturation statistics.

Zhang, Isola, Efros, ECCV 2016, section 3.1 ("Raw accuracy (AuC)"): "we compute the percentage of predicted
pixel colors within a thresholded L2 distance of the ground truth in ab color space. We then sweep across
thresholds from 0 to 150 to produce a cumulative mass function, integrate the area under the curve (AuC), and
normalize." Because most pixels are desaturated, predicting grey already scores high on this metric; the
paper therefore also reports a class-rebalanced version that re-weights pixels inversely by the probability
of their true colour class (``inverse_prior_weights``). Rebalanced training trades a little plain AuC for
more rebalanced AuC: that is the trend the lecture reproduces.

Saturation: the mean chroma C = √(a² + b²) of a set of pixels (``mean_chroma``), and the HSV saturation of the
sRGB output (``hsv_saturation``); comparing them with the ground truth shows L2's greyness in one number.

``accuracy_curve`` bins the errors once and accumulates (fast); ``accuracy_curve_loop`` counts pixels below
each threshold one threshold at a time (the reference).

Lecture: 07_colorization
"""

from __future__ import annotations

import torch

from course_lib.core import check_same_shape, check_tensor

from .encoding import encode_nearest

MAX_THRESHOLD = 150


def _errors(pred_ab: torch.Tensor, true_ab: torch.Tensor, weights: torch.Tensor | None):
    check_tensor(pred_ab, "pred_ab", dims="B 2 H W", shape=(None, 2, None, None), dtype="float")
    check_same_shape(pred_ab, true_ab, "pred_ab", "true_ab")
    err = torch.linalg.vector_norm(pred_ab - true_ab, dim=1).flatten()  # (B·H·W,) ab distance per pixel
    if weights is None:
        w = torch.ones_like(err)
    else:
        B, _, H, W = pred_ab.shape
        check_tensor(weights, "weights", dims="B H W", shape=(B, H, W), dtype="float", min_value=0.0)
        w = weights.flatten().to(err.dtype)
    if float(w.sum()) <= 0:
        raise ValueError("weights must have a positive sum (no pixel would count)")
    return err, w


def accuracy_curve(pred_ab: torch.Tensor, true_ab: torch.Tensor, *, weights: torch.Tensor | None = None,
                   max_threshold: int = MAX_THRESHOLD) -> tuple[torch.Tensor, torch.Tensor]:
    """Fraction of pixels whose ab error is ≤ t, for t = 0, 1, ..., ``max_threshold``.

    Parameters
    ----------
    pred_ab, true_ab : Tensor[B, 2, H, W]
        Predicted and true chroma in ab units.
    weights : Tensor[B, H, W], optional
        Per-pixel weights (e.g. ``inverse_prior_weights``; a zero excludes a pixel); default 1.
    max_threshold : int
        Largest threshold in ab units (150 in the paper).

    Returns
    -------
    thresholds : Tensor[T], float, 0 .. max_threshold in steps of 1
    fraction : Tensor[T], float in [0, 1], non-decreasing

    Lecture: 07_colorization
    """
    err, w = _errors(pred_ab, true_ab, weights)
    thresholds = torch.arange(0, max_threshold + 1, dtype=err.dtype, device=err.device)  # (T,)
    # The first threshold ≥ err: a pixel with error in (t−1, t] is counted from threshold t on.
    first = torch.bucketize(err, thresholds, right=False)  # (N,), T when err > max_threshold
    hist = torch.zeros(len(thresholds) + 1, dtype=torch.float64, device=err.device)
    hist.index_add_(0, first, w.double())  # (T + 1,)
    fraction = torch.cumsum(hist, 0)[:-1] / w.double().sum()  # (T,)
    return thresholds, fraction.to(err.dtype)


def accuracy_curve_loop(pred_ab: torch.Tensor, true_ab: torch.Tensor, *, weights: torch.Tensor | None = None,
                        max_threshold: int = MAX_THRESHOLD) -> tuple[torch.Tensor, torch.Tensor]:
    """Reference for :func:`accuracy_curve`: one threshold at a time. Lecture: 07_colorization"""
    err, w = _errors(pred_ab, true_ab, weights)
    thresholds = torch.arange(0, max_threshold + 1, dtype=err.dtype, device=err.device)
    fraction = torch.stack([(w * (err <= t)).sum() / w.sum() for t in thresholds])
    return thresholds, fraction


def accuracy_auc(pred_ab: torch.Tensor, true_ab: torch.Tensor, *, weights: torch.Tensor | None = None,
                 max_threshold: int = MAX_THRESHOLD) -> float:
    """Area under the accuracy-vs-threshold curve, normalised to [0, 1] (1 = every pixel exact).

    The curve of :func:`accuracy_curve` is integrated with the trapezoid rule over [0, ``max_threshold``] and
    divided by ``max_threshold``. Inputs as in :func:`accuracy_curve`.

    Examples
    --------
    >>> ab = torch.zeros(1, 2, 4, 4)
    >>> accuracy_auc(ab, ab)  # every error is 0: within every threshold
    1.0

    Lecture: 07_colorization
    """
    thresholds, fraction = accuracy_curve(pred_ab, true_ab, weights=weights, max_threshold=max_threshold)
    return float(torch.trapezoid(fraction.double(), thresholds.double()) / max_threshold)


def per_image_auc(pred_ab: torch.Tensor, true_ab: torch.Tensor, *, weights: torch.Tensor | None = None,
                  max_threshold: int = MAX_THRESHOLD) -> tuple[torch.Tensor, torch.Tensor]:
    """Each image's share of :func:`accuracy_auc`: ``(S, W)`` with ``accuracy_auc = S.sum() / W.sum()``.

    The trapezoid AuC is linear in the per-pixel indicators [err ≤ t], so it splits over pixels: a pixel with
    error e contributes a(e) = (#{t : e ≤ t} − ([e ≤ 0] + [e ≤ max_threshold]) / 2) / max_threshold. ``S[i]`` sums
    w·a over image i and ``W[i]`` sums w. Resampling images and recomputing ``S[idx].sum() / W[idx].sum()``
    gives a bootstrap interval of the AuC at no extra cost (:func:`bootstrap_auc`).

    Returns
    -------
    S, W : Tensor[B], float64

    Lecture: 07_colorization
    """
    err, w = _errors(pred_ab, true_ab, weights)
    B = pred_ab.shape[0]
    thresholds = torch.arange(0, max_threshold + 1, dtype=err.dtype, device=err.device)  # (T,)
    first = torch.bucketize(err, thresholds, right=False)  # (N,): number of thresholds below err
    count = (len(thresholds) - first).double()  # #{t : err ≤ t}
    ends = (err <= 0).double() + (err <= max_threshold).double()
    a = (count - ends / 2) / max_threshold  # (N,) per-pixel AuC
    w = w.double()
    return (w * a).view(B, -1).sum(1), w.view(B, -1).sum(1)


def bootstrap_auc(shares: dict[str, tuple[torch.Tensor, torch.Tensor]], pairs, *, n: int = 2000, seed: int = 0,
                  level: float = 0.95) -> dict:
    """Bootstrap intervals over images of AuC differences between models scored on the same images.

    Parameters
    ----------
    shares : dict name -> (S, W)
        :func:`per_image_auc` of each model on the same B images (same weights).
    pairs : iterable of (name_a, name_b)
        Differences AuC(a) − AuC(b) to report.
    n, seed : int
        Resamples (with replacement, the same resamples for every pair: a paired bootstrap) and their seed.
    level : float
        Coverage of the percentile interval.

    Returns
    -------
    dict (name_a, name_b) -> (difference, low, high)

    Lecture: 07_colorization
    """
    B = next(iter(shares.values()))[0].shape[0]
    idx = torch.randint(0, B, (n, B), generator=torch.Generator().manual_seed(seed))  # (n, B) resampled images
    q = torch.tensor([(1 - level) / 2, (1 + level) / 2], dtype=torch.float64)
    out = {}
    for a, b in pairs:
        (Sa, Wa), (Sb, Wb) = shares[a], shares[b]
        diff = float(Sa.sum() / Wa.sum() - Sb.sum() / Wb.sum())
        boot = Sa[idx].sum(1) / Wa[idx].sum(1) - Sb[idx].sum(1) / Wb[idx].sum(1)  # (n,)
        lo, hi = torch.quantile(boot, q).tolist()
        out[(a, b)] = (diff, lo, hi)
    return out


def inverse_prior_weights(true_ab: torch.Tensor, bins: torch.Tensor, prior: torch.Tensor) -> torch.Tensor:
    """Per-pixel weights 1 / p̃(nearest bin of the true colour), for the class-rebalanced AuC.

    Parameters
    ----------
    true_ab : Tensor[B, 2, H, W]
        True chroma.
    bins : Tensor[Q, 2]
        Bin centres.
    prior : Tensor[Q]
        Class probabilities (e.g. ``empirical_prior`` of the evaluation set); bins with no mass get weight 0.

    Returns
    -------
    Tensor[B, H, W], float

    Lecture: 07_colorization
    """
    check_tensor(prior, "prior", dims="Q", shape=(bins.shape[0],), dtype="float", min_value=0.0)
    p = prior.to(true_ab.device, true_ab.dtype)
    inv = torch.where(p > 0, 1.0 / p.clamp_min(1e-12), torch.zeros_like(p))  # (Q,)
    return inv[encode_nearest(true_ab, bins)]  # (B, H, W)


def _masked_mean(values: torch.Tensor, mask: torch.Tensor | None) -> float:
    if mask is None:
        return float(values.mean())
    check_tensor(mask, "mask", dims="B H W", shape=tuple(values.shape), dtype="bool")
    if not bool(mask.any()):
        raise ValueError("mask selects no pixel")
    return float(values[mask].mean())


def mean_chroma(ab: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean chroma √(a² + b²) of the pixels (selected by ``mask``): how colourful, in ab units.

    ``ab`` is Tensor[B, 2, H, W]; ``mask`` an optional Tensor[B, H, W] of bool. Grey is 0; saturated sRGB
    primaries reach 80-130.

    Lecture: 07_colorization
    """
    check_tensor(ab, "ab", dims="B 2 H W", shape=(None, 2, None, None), dtype="float")
    return _masked_mean(torch.linalg.vector_norm(ab, dim=1), mask)  # over (B, H, W)


def hsv_saturation(rgb: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean HSV saturation (max − min) / max of sRGB pixels (selected by ``mask``), in [0, 1].

    ``rgb`` is Tensor[B, 3, H, W] in [0, 1]; black pixels count as saturation 0.

    Lecture: 07_colorization
    """
    check_tensor(rgb, "rgb", dims="B 3 H W", shape=(None, 3, None, None), dtype="float")
    hi, lo = rgb.amax(dim=1), rgb.amin(dim=1)  # each (B, H, W)
    sat = torch.where(hi > 0, (hi - lo) / hi.clamp_min(1e-8), torch.zeros_like(hi))
    return _masked_mean(sat, mask)
