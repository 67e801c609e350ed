"""Depth and normal maps as pictures: what lecture 05's figures draw.

Lecture: 05_depth
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch


def show_depth(ax, depth, *, vmin: float | None = None, vmax: float | None = None, title: str | None = None,
               colorbar: bool = True, unit: str = "m"):
    """Draw a depth map (H, W) in metres with a colour bar (near = bright).

    Lecture: 05_depth
    """
    d = depth.detach().float().cpu().numpy() if isinstance(depth, torch.Tensor) else np.asarray(depth)
    d = np.squeeze(d)
    if d.ndim != 2:
        raise ValueError(f"depth must be (H, W) or (1, H, W); got shape {np.shape(depth)}")
    im = ax.imshow(d, cmap="magma_r", vmin=vmin, vmax=vmax)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    if colorbar:
        plt.colorbar(im, ax=ax, fraction=0.046, pad=0.04, label=unit)
    return ax


def show_normals(ax, normals, *, title: str | None = None):
    """Draw unit surface normals (3, H, W) in [-1, 1] as RGB = (n + 1) / 2.

    Lecture: 05_depth
    """
    n = normals.detach().float().cpu() if isinstance(normals, torch.Tensor) else torch.as_tensor(normals)
    if n.dim() != 3 or n.shape[0] != 3:
        raise ValueError(f"normals must be (3, H, W); got {tuple(n.shape)}")
    ax.imshow(((n.permute(1, 2, 0) + 1) / 2).clamp(0, 1).numpy())
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
