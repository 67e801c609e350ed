"""Plot helpers shared by several lectures: image grids, heat-map overlays, label maps, skeletons, loss curves.

Every helper takes tensors or arrays in the course's layouts ((C, H, W) or (H, W) images, values in [0, 1])
and draws on a matplotlib ``Axes`` it is given or creates. Each figure gets a title; axes that carry units get
labels.

Lecture: 00_welcome (and every lecture with a figure)
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch

from .people import EDGES, JOINTS


def to_numpy_image(image) -> np.ndarray:
    """Return an (H, W) or (H, W, 3) float array from a (C, H, W)/(H, W) tensor or an (H, W[, C]) array."""
    if isinstance(image, torch.Tensor):
        image = image.detach().float().cpu()
        if image.dim() == 3 and image.shape[0] in (1, 3):
            image = image.permute(1, 2, 0)  # (C, H, W) -> (H, W, C)
        image = image.numpy()
    image = np.asarray(image, dtype=np.float32)
    if image.ndim == 3 and image.shape[-1] == 1:
        image = image[..., 0]
    if image.ndim not in (2, 3):
        raise ValueError(f"image must be (C, H, W), (H, W, C) or (H, W); got shape {image.shape}")
    return image


def image_grid(
    images: Sequence,
    titles: Sequence[str] | None = None,
    *,
    ncols: int = 4,
    size: float = 2.5,
    cmap: str = "gray",
    suptitle: str | None = None,
):
    """Show images in a grid; return ``(fig, axes)`` with ``axes`` a flat array.

    ``images`` is a sequence of (C, H, W) tensors or (H, W[, C]) arrays, or a (B, C, H, W) tensor.
    """
    if isinstance(images, torch.Tensor) and images.dim() == 4:
        images = list(images)
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image")
    if titles is not None and len(titles) != n:
        raise ValueError(f"got {n} images but {len(titles)} titles")
    ncols = min(ncols, n)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    axes = axes.ravel()
    for i, ax in enumerate(axes):
        ax.axis("off")
        if i < n:
            img = to_numpy_image(images[i])
            ax.imshow(np.clip(img, 0, 1) if img.ndim == 3 else img, cmap=None if img.ndim == 3 else cmap)
            if titles is not None:
                ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes


def overlay_heatmap(ax, image, heatmap, *, alpha: float = 0.5, cmap: str = "jet", title: str | None = None):
    """Draw ``heatmap`` (h, w), resized to the image, over ``image`` (C, H, W) on ``ax``."""
    img = to_numpy_image(image)
    hm = heatmap.detach().float().cpu() if isinstance(heatmap, torch.Tensor) else torch.as_tensor(heatmap)
    if hm.dim() != 2:
        raise ValueError(f"heatmap must be (h, w); got {tuple(hm.shape)}")
    H, W = img.shape[:2]
    hm = torch.nn.functional.interpolate(hm[None, None], size=(H, W), mode="bilinear", align_corners=False)[0, 0]
    ax.imshow(np.clip(img, 0, 1), cmap="gray" if img.ndim == 2 else None)
    ax.imshow(hm.numpy(), cmap=cmap, alpha=alpha)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def label_colors(num_classes: int) -> np.ndarray:
    """A fixed (K, 3) palette in [0, 1]; class 0 (background) is black."""
    cmap = plt.get_cmap("tab20")
    colors = np.array([cmap(i % 20)[:3] for i in range(num_classes)], dtype=np.float32)
    colors[0] = 0.0
    return colors


def overlay_labels(
    ax,
    image,
    labels,
    class_names: Sequence[str],
    *,
    alpha: float = 0.6,
    ignore_index: int = 255,
    legend: bool = True,
    title: str | None = None,
):
    """Draw a label map (H, W) of class indices over ``image`` with a legend of the classes present.

    Pixels equal to ``ignore_index`` are drawn white.
    """
    lab = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if lab.ndim != 2:
        raise ValueError(f"labels must be (H, W); got shape {lab.shape}")
    K = len(class_names)
    valid = lab != ignore_index
    if valid.any() and (lab[valid].min() < 0 or lab[valid].max() >= K):
        raise ValueError(f"labels must be in [0, {K - 1}] or {ignore_index}; got values in "
                         f"[{lab[valid].min()}, {lab[valid].max()}]")
    colors = label_colors(K)
    rgb = np.ones(lab.shape + (3,), dtype=np.float32)
    rgb[valid] = colors[lab[valid]]
    if image is not None:
        img = to_numpy_image(image)
        if img.ndim == 2:
            img = np.repeat(img[..., None], 3, axis=-1)
        rgb = (1 - alpha) * np.clip(img, 0, 1) + alpha * rgb
    ax.imshow(rgb)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    if legend:
        from matplotlib.patches import Patch

        present = sorted(set(np.unique(lab[valid]).tolist()))
        ax.legend(handles=[Patch(color=colors[k], label=class_names[k]) for k in present],
                  loc="lower left", fontsize=7, framealpha=0.8)
    return ax


def plot_history(history: dict, *, ax=None, title: str = "training loss"):
    """Plot ``fit``'s step losses (and their running mean) on ``ax``; return the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 3))
    loss = np.asarray(history["loss"], dtype=np.float64)
    if loss.size == 0:
        raise ValueError("history has no losses to plot")
    ax.plot(np.arange(1, loss.size + 1), loss, lw=0.7, alpha=0.5, label="step")
    k = max(1, loss.size // 20)
    smooth = np.convolve(loss, np.ones(k) / k, mode="valid")
    ax.plot(np.arange(k, loss.size + 1), smooth, lw=1.5, label=f"mean of {k}")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(title)
    ax.legend()
    return ax


# One colour per joint, shared by every figure of joints (left side warm, right side cool).
JOINT_COLORS = {"face": "#ffffff", "lsho": "#ff7f0e", "lelb": "#d62728", "lwri": "#e377c2", "rsho": "#17becf",
                "relb": "#1f77b4", "rwri": "#2ca02c", "lhip": "#bcbd22", "rhip": "#9467bd"}


def draw_skeleton(ax, image, joints, *, visible=None, truth=None, title: str | None = None, edges=EDGES,
              color: str = "white"):
    """Draw ``image`` (3, H, W) with a skeleton of ``joints`` (J, 2) ``(x, y)`` pixels on ``ax``.

    Joints are dots in their ``JOINT_COLORS`` colour (hollow where ``visible`` is False); ``truth`` (J, 2), if
    given, is drawn as small crosses with a thin line from each truth to its prediction.

    Lecture: 01, 02, 03 (every lecture that finds joints)
    """
    ax.imshow(np.clip(to_numpy_image(image), 0, 1))
    j = joints.detach().cpu().numpy() if isinstance(joints, torch.Tensor) else np.asarray(joints)
    for a, b in edges:
        ax.plot(j[[a, b], 0], j[[a, b], 1], "-", color=color, lw=1.2, alpha=0.8)
    vis = np.ones(len(j), bool) if visible is None else np.asarray(visible, dtype=bool)
    for k, name in enumerate(JOINTS[: len(j)]):
        c = JOINT_COLORS.get(name, "yellow")
        ax.scatter(j[k, 0], j[k, 1], s=18, facecolors=c if vis[k] else "none", edgecolors="black", linewidths=0.6,
                   zorder=3)
    if truth is not None:
        t = truth.detach().cpu().numpy() if isinstance(truth, torch.Tensor) else np.asarray(truth)
        ax.scatter(t[:, 0], t[:, 1], marker="x", s=14, c="black", linewidths=0.8, zorder=4)
        for k in range(len(t)):
            ax.plot([t[k, 0], j[k, 0]], [t[k, 1], j[k, 1]], "-", color="black", lw=0.6)
    ax.set_xlim(-0.5, image.shape[-1] - 0.5)
    ax.set_ylim(image.shape[-2] - 0.5, -0.5)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=9)
    return ax
