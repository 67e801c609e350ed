"""From an ab colour to a target distribution over the Q bins: nearest-bin (hard) and soft encoding.

Zhang, Isola, Efros, ECCV 2016, section 2.1: the ground-truth colour Y is turned into a target distribution
Z = H_gt⁻¹(Y) over the Q bins "using a soft-encoding scheme: we find the 5-nearest neighbors to Y_{h,w} in the
output space and weight them proportionally to their distance from the ground truth using a Gaussian kernel with
σ = 5". The released training code uses 10 neighbours (``NNEncLayer``, ``NN = 10``); both are a keyword here.

Worked example, the grey pixel ab = (0, 0) with k = 5, σ = 5: its bin (0, 0) is at distance 0 and its four grid
neighbours at distance 10, so the weights are exp(0) = 1 and exp(−10²/(2·5²)) = e⁻² ≈ 0.1353, which normalise to
1/1.5413 = 0.6488 on the centre and 0.0878 on each neighbour.

``encode_nearest`` (the hard one-hot code, used for rebalancing weights and the rebalanced metric) and
``soft_encode`` are vectorised over all pixels with ``torch.cdist`` + ``topk``; ``*_loop`` versions beside them
walk the pixels one by one, as obviously correct references for the tests.

Lecture: 07_colorization
"""

from __future__ import annotations

import math

import torch

from course_lib.core import check_positive_int, check_tensor


def _check_bins(bins: torch.Tensor) -> int:
    check_tensor(bins, "bins", dims="Q 2", shape=(None, 2), dtype="float", finite=True)
    return bins.shape[0]


def _pixel_distances(ab: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Distances from every pixel's ab to every bin: (B, 2, H, W), (Q, 2) → (B·H·W, Q)."""
    B, _, H, W = ab.shape
    pixels = ab.permute(0, 2, 3, 1).reshape(B * H * W, 2)  # (B·H·W, 2)
    return torch.cdist(pixels, bins.to(ab.dtype), compute_mode="donot_use_mm_for_euclid_dist")  # (B·H·W, Q)


def encode_nearest(ab: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Index of the nearest bin for every pixel (the hard, one-hot encoding).

    Parameters
    ----------
    ab : Tensor[B, 2, H, W], float
        Chroma in ab units.
    bins : Tensor[Q, 2], float
        Bin centres (see ``ab_bins``); on any device, moved to ``ab``'s.

    Returns
    -------
    Tensor[B, H, W], int64
        Values in [0, Q). Ties go to the lower index.

    Lecture: 07_colorization
    """
    check_tensor(ab, "ab", dims="B 2 H W", shape=(None, 2, None, None), dtype="float", finite=True)
    _check_bins(bins)
    B, _, H, W = ab.shape
    bins = bins.to(ab.device)
    return _pixel_distances(ab, bins).argmin(dim=1).reshape(B, H, W)  # (B, H, W)


def encode_nearest_loop(ab: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Slow reference for :func:`encode_nearest`: one pixel at a time. Lecture: 07_colorization"""
    B, _, H, W = ab.shape
    out = torch.empty(B, H, W, dtype=torch.long)
    for i in range(B):
        for y in range(H):
            for x in range(W):
                a, b = float(ab[i, 0, y, x]), float(ab[i, 1, y, x])
                d = [math.hypot(a - float(p), b - float(q)) for p, q in bins.tolist()]
                out[i, y, x] = min(range(len(d)), key=lambda j: (d[j], j))
    return out.to(ab.device)


def soft_encode(ab: torch.Tensor, bins: torch.Tensor, *, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """Soft-encode ab colours as distributions over the bins (Gaussian weights on the k nearest bins).

    Parameters
    ----------
    ab : Tensor[B, 2, H, W], float
        Chroma in ab units.
    bins : Tensor[Q, 2], float
        Bin centres, moved to ``ab``'s device.
    k : int
        Neighbours that share the mass (5 in the paper, 10 in the released code); at most Q.
    sigma : float
        Width of the Gaussian kernel in ab units (5 in the paper).

    Returns
    -------
    Tensor[B, Q, H, W], same dtype as ``ab``
        Non-negative, sums to 1 over Q at every pixel, at most ``k`` non-zeros per pixel.

    Examples
    --------
    >>> from course_lib.colorization import ab_bins
    >>> z = soft_encode(torch.zeros(1, 2, 1, 1), ab_bins())
    >>> round(float(z.max()), 4)  # the centre bin's share of a grey pixel
    0.6488

    Lecture: 07_colorization
    """
    check_tensor(ab, "ab", dims="B 2 H W", shape=(None, 2, None, None), dtype="float", finite=True)
    Q = _check_bins(bins)
    check_positive_int(k, "k")
    if k > Q:
        raise ValueError(f"k must be ≤ Q = {Q} (the number of bins), but found {k}")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0, but found {sigma}")
    B, _, H, W = ab.shape
    bins = bins.to(ab.device)
    dist = _pixel_distances(ab, bins)  # (B·H·W, Q)
    near_d, near_i = dist.topk(k, dim=1, largest=False)  # each (B·H·W, k)
    weights = torch.softmax(-near_d**2 / (2.0 * sigma**2), dim=1)  # Gaussian, normalised: (B·H·W, k)
    z = torch.zeros_like(dist).scatter_(1, near_i, weights)  # (B·H·W, Q)
    return z.reshape(B, H, W, Q).permute(0, 3, 1, 2).contiguous()  # (B, Q, H, W)


def soft_encode_loop(ab: torch.Tensor, bins: torch.Tensor, *, k: int = 5, sigma: float = 5.0) -> torch.Tensor:
    """Slow reference for :func:`soft_encode`: per pixel, sort the bins by distance and weight the first k.

    Lecture: 07_colorization
    """
    B, _, H, W = ab.shape
    Q = bins.shape[0]
    out = torch.zeros(B, Q, H, W, dtype=torch.float64)
    centres = bins.tolist()
    for i in range(B):
        for y in range(H):
            for x in range(W):
                a, b = float(ab[i, 0, y, x]), float(ab[i, 1, y, x])
                d = [math.hypot(a - p, b - q) for p, q in centres]
                nearest = sorted(range(Q), key=lambda j: (d[j], j))[:k]
                w = [math.exp(-d[j] ** 2 / (2 * sigma**2)) for j in nearest]
                for j, wj in zip(nearest, w):
                    out[i, j, y, x] = wj / sum(w)
    return out.to(ab.dtype).to(ab.device)


def decode_nearest(index: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """Bin indices back to ab colours: Tensor[B, H, W] int → Tensor[B, 2, H, W] (the bin centres).

    Lecture: 07_colorization
    """
    check_tensor(index, "index", dims="B H W", dtype="int")
    Q = _check_bins(bins)
    if index.numel() and (int(index.min()) < 0 or int(index.max()) >= Q):
        raise ValueError(f"index must have values in [0, {Q}); got values in [{int(index.min())}, {int(index.max())}]")
    return bins.to(index.device)[index].permute(0, 3, 1, 2)  # (B, H, W, 2) -> (B, 2, H, W)
