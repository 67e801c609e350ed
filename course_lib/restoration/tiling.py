"""Tiled inference: restore an image of any size in overlapping tiles, with the result of one pass.

A convolutional net's output at a pixel depends only on the input inside its receptive field. Cut the image into
tiles, run the net on each tile *extended by a margin* of at least the receptive radius, keep only the tile's
core, and every kept pixel saw exactly what it would have seen in one pass over the whole image: the stitched
result equals the untiled one (to float rounding). Where an extended tile meets the image border, the border is
the image's own, so the net's zero or reflect padding is the same as in one pass too.

Memory then depends on the tile, not the image: a 10-layer, 48-channel DnCNN needs about 7.5 GB for one pass over
a 4000 × 4000 photo (each feature map is 48 × 16 M floats), and a few hundred MB in 512² tiles
(bench/restoration.py measures it). The price is the margins, computed twice: (tile + 2·margin)² / tile² of the
work.

    core tiles  [t, t + tile) × [s, s + tile)  partition the image;
    each is run on [t − margin, t + tile + margin) × [s − margin, s + tile + margin), clipped to the image.

``multiple``: nets that work on a fixed grid (FFDNet's 2 × 2 pixel unshuffle, PatchMLP's patch stride) need
every tile to start on that grid; tiles and margins are rounded up to multiples of it.

Lecture: 06_restoration
"""

from __future__ import annotations

import math

import torch
from torch import nn

from course_lib.core import check_positive_int, check_tensor

TILE = 512  # default core tile side when tiling is on
AUTO_PIXELS = 1024 * 1024  # tile=None tiles images larger than this (per image, H·W)


def tile_grid(size: int, tile: int) -> list[int]:
    """Start of each core tile along one side of ``size`` pixels: 0, tile, 2·tile, ... (the last may be shorter).

    >>> tile_grid(1000, 512)
    [0, 512]

    Lecture: 06_restoration
    """
    return list(range(0, size, tile))


def run_tiled(fn, *inputs: torch.Tensor, tile: int | None = None, margin: int, multiple: int = 1) -> torch.Tensor:
    """``fn(*inputs)`` computed tile by tile and stitched; equal to one call where the margin covers ``fn``'s
    receptive radius.

    Parameters
    ----------
    fn : callable
        Tensor[N, C_k, h, w] for each input → Tensor[N, C_out, h, w] (a size-preserving image map).
    *inputs : Tensor[N, C_k, H, W]
        Cropped alike (an image and its mask, say).
    tile : int, optional
        Core tile side in pixels. ``None``: ``TILE`` if H·W > ``AUTO_PIXELS``, else one call; ``0``: one call.
    margin : int
        Context added on every side of a tile (≥ the receptive radius of ``fn`` for an exact result).
    multiple : int
        Tiles start on this grid (2 for a 2 × 2 pixel unshuffle).

    Returns Tensor[N, C_out, H, W] on the device ``fn`` returns.

    Lecture: 06_restoration
    """
    if not inputs:
        raise ValueError("run_tiled needs at least one input tensor")
    x = check_tensor(inputs[0], "inputs[0]", dims="N C H W")
    N, _, H, W = x.shape
    for k, t in enumerate(inputs[1:], 1):
        check_tensor(t, f"inputs[{k}]", dims="N C H W", shape=(N, None, H, W))
    if isinstance(margin, bool) or not isinstance(margin, int) or margin < 0:
        raise ValueError(f"margin must be an int ≥ 0 (pixels), but found {margin!r}")
    check_positive_int(multiple, "multiple")
    if tile is None:
        tile = TILE if H * W > AUTO_PIXELS else 0
    if isinstance(tile, bool) or not isinstance(tile, int) or tile < 0:
        raise ValueError(f"tile must be an int ≥ 0 (pixels; 0 = no tiling) or None, but found {tile!r}")
    if tile == 0 or (tile >= H and tile >= W):
        return fn(*inputs)
    tile = multiple * math.ceil(tile / multiple)
    margin = multiple * math.ceil(margin / multiple)
    out = None
    for top in tile_grid(H, tile):
        for left in tile_grid(W, tile):
            t0, l0 = max(0, top - margin), max(0, left - margin)  # extended tile, clipped to the image
            t1, l1 = min(H, top + tile + margin), min(W, left + tile + margin)
            res = fn(*(t[..., t0:t1, l0:l1] for t in inputs))  # (N, C_out, t1 − t0, l1 − l0)
            if out is None:
                out = res.new_empty((N, res.shape[1], H, W))
            core = res[..., top - t0:top - t0 + tile, left - l0:left - l0 + tile]  # (N, C_out, ≤ tile, ≤ tile)
            out[..., top:top + core.shape[-2], left:left + core.shape[-1]] = core
    return out


def margin_of(model: nn.Module) -> dict:
    """``{"margin": ..., "multiple": ...}`` that makes :func:`run_tiled` exact for a course_lib restoration net:
    its receptive radius in input pixels, and its grid.

    * DnCNN: ``depth`` 3 × 3 layers, radius ``depth``.
    * FFDNet: ``depth`` layers at half resolution, radius 2·depth + 1; grid 2.
    * RestorationNet: half its dilated receptive field, plus the pre-fill's widest Gaussian when mask-aware.
    * PatchMLP: a patch, on its stride-3 patch grid.
    * NonBlindDeblur: the deconvolution's reach (iterations × kernel radius) plus the net's.

    Lecture: 06_restoration
    """
    from .corruptions import gaussian_kernel
    from .deconv import NonBlindDeblur
    from .dncnn import DnCNN
    from .ffdnet import FFDNet
    from .nets import RestorationNet, receptive_field
    from .patch_mlp import PatchMLP

    if isinstance(model, DnCNN):
        return {"margin": model.depth, "multiple": 1}
    if isinstance(model, FFDNet):
        return {"margin": 2 * model.depth + 2, "multiple": 2}
    if isinstance(model, RestorationNet):
        # prefill's widest round: Gaussian σ = 2·2² px (nets.prefill, 3 rounds)
        fill = gaussian_kernel(2.0 * 4).shape[0] // 2 if model.extra else 0
        return {"margin": (receptive_field(model.depth) - 1) // 2 + fill, "multiple": 1}
    if isinstance(model, PatchMLP):
        return {"margin": model.patch + 3, "multiple": 3}
    if isinstance(model, NonBlindDeblur):
        return {"margin": model.reach(), "multiple": 1}
    raise TypeError(f"margin_of knows DnCNN, FFDNet, RestorationNet, PatchMLP and NonBlindDeblur, but found "
                    f"{type(model).__name__}")
