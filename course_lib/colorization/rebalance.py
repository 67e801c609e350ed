"""Class rebalancing: weight each pixel's loss by the rarity of its true colour.

Zhang, Isola, Efros, ECCV 2016, section 2.2: the distribution of ab values in natural images is strongly biased
towards low saturation (backgrounds: sky, walls, dirt), so an unweighted loss is dominated by desaturated pixels.
They estimate the empirical probability p of each of the Q bins over the training set, smooth it with a Gaussian
kernel (σ = 5 in ab), mix it with a uniform distribution and take the reciprocal::

    w ∝ ((1 − λ) p̃ + λ / Q)⁻¹,   normalised so that  E_p̃[w] = Σ_q p̃_q w_q = 1,   λ = 1/2.

A pixel's weight is v(Z_{h,w}) = w_{q*}, with q* = argmax_q Z_{h,w,q}, the nearest bin of its true colour.
λ = 0 would weight purely by inverse frequency (rare bins explode); λ = 1 gives all pixels weight 1.

Worked example: p̃ = [.5, .3, .2], λ = .5, Q = 3: the mixture is [.4167, .3167, .2667], its reciprocal
[2.400, 3.158, 3.750] has p̃-mean 2.897, so w = [0.8283, 1.0899, 1.2943].

Deviation: the paper smooths the prior on the full 2-D ab grid and then reads it at the in-gamut bins; here the
Gaussian is applied over the Q bin centres directly (the same thing, except that mass spilling off the gamut
is renormalised back into it).

Lecture: 07_colorization
"""

from __future__ import annotations

from collections.abc import Iterable

import torch

from course_lib.core import check_tensor

from .encoding import encode_nearest


def smooth_prior(prior: torch.Tensor, bins: torch.Tensor, *, sigma: float = 5.0) -> torch.Tensor:
    """Smooth a distribution over bins with a Gaussian over their ab positions: Tensor[Q] → Tensor[Q], sums to 1.

    ``sigma`` is in ab units; ``sigma=0`` returns the prior renormalised.

    Lecture: 07_colorization
    """
    check_tensor(prior, "prior", dims="Q", dtype="float", min_value=0.0)
    check_tensor(bins, "bins", dims="Q 2", shape=(prior.shape[0], 2), dtype="float")
    if sigma < 0:
        raise ValueError(f"sigma must be ≥ 0, but found {sigma}")
    prior = prior.double()
    if sigma > 0:
        centres = bins.to(prior.device).double()
        kernel = torch.exp(-torch.cdist(centres, centres) ** 2 / (2.0 * sigma**2))  # (Q, Q), symmetric
        prior = kernel @ prior  # (Q,): each bin receives mass from its neighbours
    return (prior / prior.sum()).float()


def empirical_prior(ab_batches, bins: torch.Tensor, *, sigma: float = 5.0) -> torch.Tensor:
    """Empirical distribution of the nearest bins of the true colours, smoothed with a Gaussian in ab.

    Parameters
    ----------
    ab_batches : Tensor[B, 2, H, W] or iterable of them
        True chroma in ab units, e.g. the ab of every training image (at the resolution the loss sees).
    bins : Tensor[Q, 2]
        Bin centres.
    sigma : float
        Smoothing width in ab units (5 in the paper); 0 for the raw frequencies.

    Returns
    -------
    Tensor[Q], float32
        p̃, non-negative, sums to 1. On the device of the data.

    Lecture: 07_colorization
    """
    batches: Iterable = [ab_batches] if isinstance(ab_batches, torch.Tensor) else ab_batches
    Q = bins.shape[0]
    counts = None
    for ab in batches:
        q = encode_nearest(ab, bins)  # (B, H, W)
        c = torch.bincount(q.flatten(), minlength=Q).double()  # (Q,)
        counts = c if counts is None else counts + c.to(counts.device)
    if counts is None or counts.sum() == 0:
        raise ValueError("ab_batches must contain at least one pixel; got none")
    return smooth_prior(counts / counts.sum(), bins, sigma=sigma)


def rebalance_weights(prior: torch.Tensor, *, lam: float = 0.5) -> torch.Tensor:
    """Per-bin weights w ∝ ((1 − lam)·prior + lam/Q)⁻¹, normalised so that Σ_q prior_q·w_q = 1.

    Parameters
    ----------
    prior : Tensor[Q], float
        The (smoothed) empirical distribution over bins; non-negative, sums to 1.
    lam : float
        Mixing weight of the uniform distribution, in [0, 1] (1/2 in the paper). ``lam=0`` needs a prior with
        no zeros.

    Returns
    -------
    Tensor[Q], same dtype as ``prior``

    Examples
    --------
    >>> rebalance_weights(torch.tensor([0.5, 0.3, 0.2])).round(decimals=4)
    tensor([0.8283, 1.0899, 1.2943])

    Lecture: 07_colorization
    """
    check_tensor(prior, "prior", dims="Q", dtype="float", min_value=0.0, finite=True)
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f"lam must be in [0, 1], but found {lam}")
    total = float(prior.sum())
    if abs(total - 1.0) > 1e-3:
        raise ValueError(f"prior must sum to 1; got a sum of {total:.6g}")
    Q = prior.shape[0]
    mix = (1.0 - lam) * prior + lam / Q  # (Q,)
    if lam == 0.0 and bool((mix == 0).any()):
        raise ValueError("lam = 0 needs a prior without zeros (their weight would be infinite); use lam > 0")
    w = 1.0 / mix
    return w / (prior * w).sum()  # now E_prior[w] = 1


def pixel_weights(ab: torch.Tensor, bins: torch.Tensor, weights: torch.Tensor) -> torch.Tensor:
    """The rebalancing weight of every pixel, v(Z_{h,w}) = w[nearest bin of the true ab].

    Parameters
    ----------
    ab : Tensor[B, 2, H, W]
        True chroma.
    bins : Tensor[Q, 2]
        Bin centres.
    weights : Tensor[Q]
        From :func:`rebalance_weights`.

    Returns
    -------
    Tensor[B, H, W], float, on ``ab``'s device

    Lecture: 07_colorization
    """
    check_tensor(weights, "weights", dims="Q", shape=(bins.shape[0],), dtype="float")
    return weights.to(ab.device, ab.dtype)[encode_nearest(ab, bins)]  # (B, H, W)
