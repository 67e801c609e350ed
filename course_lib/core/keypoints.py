"""Heat maps of joints: Gaussian targets, decoding a map to coordinates, distances, and the weighted MSE.

Tompson et al. (NIPS 2014, CVPR 2015) regress one heat map per joint: a small Gaussian centred on the joint, at
the network's output resolution, learned with a mean-squared error. Lectures 01-03 all use these pieces, so they
live in core.

Coordinates are ``(x, y)`` in input pixels with integer values at pixel centres: pixel ``image[:, i, j]`` is at
``(x, y) = (j, i)``. A heat map of stride ``s`` has cell ``(u, v)`` centred at ``(s·u + (s − 1)/2, s·v + (s − 1)/2)``:
the centre of the ``s × s`` block of input pixels it summarises.

Lecture: 01, 02, 03 (every lecture that finds joints with heat maps)
"""

from __future__ import annotations

import torch

from .checks import check_positive_int, check_same_shape, check_tensor


def cell_centres(n: int, stride: int) -> torch.Tensor:
    """Input-pixel coordinate of the centre of each of ``n`` output cells at ``stride``: Tensor[n], float32."""
    return stride * torch.arange(n, dtype=torch.float32) + (stride - 1) / 2


def gaussian_heatmaps(coords: torch.Tensor, size, *, stride: int, sigma: float) -> torch.Tensor:
    """Heat-map targets: one unnormalised Gaussian per joint at the output resolution.

    ``target[b, j, v, u] = exp(-((cx_u - x)² + (cy_v - y)²) / (2 σ²))`` where ``(cx_u, cy_v)`` is the centre of
    output cell ``(u, v)`` in input pixels (see the module docstring). The peak is 1 when the joint sits on a cell
    centre.

    Parameters
    ----------
    coords : Tensor[B, J, 2], float
        Joint positions ``(x, y)`` in input pixels.
    size : int or (int, int)
        Input image size ``H`` (square) or ``(H, W)``; both must be divisible by ``stride``.
    stride : int
        Input pixels per output cell; the heat maps are ``(H / stride, W / stride)``.
    sigma : float
        Standard deviation of the Gaussian, in input pixels.

    Returns
    -------
    Tensor[B, J, H / stride, W / stride], float32 in [0, 1], on the device of ``coords``.

    Examples
    --------
    >>> hm = gaussian_heatmaps(torch.tensor([[[4.5, 2.5]]]), 8, stride=2, sigma=1.0)   # (x, y) = (4.5, 2.5)
    >>> hm.shape, hm[0, 0, 1, 2].item()    # row v = 1, column u = 2 is centred on (2·2 + 0.5, 2·1 + 0.5)
    (torch.Size([1, 1, 4, 4]), 1.0)

    Lecture: 01, 02, 03
    """
    check_tensor(coords, "coords", dims="B J 2", shape=(None, None, 2), dtype="float")
    check_positive_int(stride, "stride")
    H, W = (size, size) if isinstance(size, int) else tuple(size)
    if H % stride or W % stride:
        raise ValueError(f"size must be divisible by stride={stride}; got (H, W) = ({H}, {W})")
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0 (input pixels), but found {sigma}")
    h, w = H // stride, W // stride
    xs = cell_centres(w, stride).to(coords.device)  # (w,)
    ys = cell_centres(h, stride).to(coords.device)  # (h,)
    dx2 = (xs[None, None, :] - coords[..., 0:1]) ** 2  # (B, J, w)
    dy2 = (ys[None, None, :] - coords[..., 1:2]) ** 2  # (B, J, h)
    d2 = dy2[..., :, None] + dx2[..., None, :]  # (B, J, h, w)
    return torch.exp(-d2 / (2 * sigma**2)).float()


def heatmap_argmax(heatmaps: torch.Tensor, *, stride: int = 1, subpixel: bool = False) -> torch.Tensor:
    """Decode each heat map to the input-pixel position of its maximum.

    Parameters
    ----------
    heatmaps : Tensor[B, J, h, w], float
        One map per joint at output resolution.
    stride : int
        Input pixels per heat-map cell; cell ``(u, v)`` is centred at input pixel
        ``(stride·u + (stride − 1)/2, stride·v + (stride − 1)/2)``.
    subpixel : bool
        Refine the integer maximum by fitting a parabola through it and its two neighbours along each axis
        (offset clamped to ±½ cell); a cheap way to beat the stride's quantisation.

    Returns
    -------
    Tensor[B, J, 2], float32: ``(x, y)`` in input pixels.

    Examples
    --------
    >>> hm = torch.zeros(1, 1, 4, 4); hm[0, 0, 1, 3] = 1.0    # row v = 1, column u = 3
    >>> heatmap_argmax(hm, stride=2)
    tensor([[[6.5000, 2.5000]]])

    Lecture: 01, 02, 03
    """
    check_tensor(heatmaps, "heatmaps", dims="B J H W", dtype="float", finite=True)
    check_positive_int(stride, "stride")
    B, J, h, w = heatmaps.shape
    flat = heatmaps.detach().reshape(B, J, h * w)  # (B, J, h*w)
    idx = flat.argmax(dim=-1)  # (B, J)
    v, u = (idx // w).float(), (idx % w).float()  # (B, J) row and column of the maximum
    if subpixel:
        hm = heatmaps.detach().float()

        def at(dv, du):  # value at (v + dv, u + du), clamped to the border: (B, J)
            vv = (v.long() + dv).clamp(0, h - 1)
            uu = (u.long() + du).clamp(0, w - 1)
            return hm.reshape(B, J, h * w).gather(-1, (vv * w + uu)[..., None])[..., 0]

        centre = at(0, 0)
        inner_u = (u > 0) & (u < w - 1)  # (B, J): both horizontal neighbours exist
        inner_v = (v > 0) & (v < h - 1)
        for axis, (lo, hi, inner) in enumerate(((at(0, -1), at(0, 1), inner_u), (at(-1, 0), at(1, 0), inner_v))):
            # Vertex of the parabola through (-1, lo), (0, centre), (1, hi); none on the border or without a peak.
            curvature = lo - 2 * centre + hi
            ok = (curvature < 0) & inner
            safe = torch.where(ok, curvature, torch.full_like(curvature, -1.0))
            offset = torch.where(ok, 0.5 * (lo - hi) / safe, torch.zeros_like(curvature)).clamp(-0.5, 0.5)
            if axis == 0:
                u = u + offset
            else:
                v = v + offset
    xy = torch.stack([u, v], dim=-1)  # (B, J, 2) in cells
    return (stride * xy + (stride - 1) / 2).float()


def joint_distances(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Euclidean distance per joint: Tensor[B, J, 2] × 2 → Tensor[B, J], in input pixels."""
    check_tensor(pred, "pred", dims="B J 2", shape=(None, None, 2), dtype="float")
    check_tensor(target, "target", dims="B J 2", shape=(None, None, 2), dtype="float")
    check_same_shape(pred, target, "pred", "target")
    return (pred - target).norm(dim=-1)


def heatmap_loss(pred: torch.Tensor, target: torch.Tensor, *, pos_weight: float = 20.0) -> torch.Tensor:
    """Mean squared error between predicted and target heat maps, weighted towards the joints.

    ``loss = mean((pred − target)² · (1 + pos_weight · target))``. With ``pos_weight=0`` this is the paper's
    plain MSE. Deviation: a Gaussian of one cell covers well under 1 % of a heat map, so plain MSE spends almost
    all of its gradient teaching "zero here" and learns the peaks slowly (the paper trained for days on a GPU);
    weighting the cells near the joint (by the target itself) makes the detector learn in minutes on a CPU. The
    optimum is unchanged: the target still minimises the loss.

    Parameters
    ----------
    pred, target : Tensor[B, J, H, W], float, same shape; target in [0, 1].
    pos_weight : float
        Extra weight at the peak of a target (≥ 0).

    Returns
    -------
    Tensor[] (scalar): the weighted mean over all elements.

    Lecture: 01, 02, 03
    """
    check_tensor(pred, "pred", dims="B J H W", dtype="float")
    check_tensor(target, "target", dims="B J H W", shape=tuple(pred.shape), dtype="float")
    if not pos_weight >= 0:
        raise ValueError(f"pos_weight must be ≥ 0, but found {pos_weight}")
    return ((pred - target) ** 2 * (1 + pos_weight * target)).mean()
