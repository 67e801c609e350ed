"""Figures for lecture 06: images with a zoomed inset, galleries of methods, error maps.

Restoration differences hide in the details (a texture kept or smoothed away, a ringing edge), so every image
is shown with an enlarged crop in its corner and its PSNR in the title.

Lecture: 06_restoration
"""

from __future__ import annotations

import numpy as np
import torch

from course_lib.core.plotting import to_numpy_image


def show_image(ax, img: torch.Tensor, *, title: str = "", zoom: tuple[int, int, int] | None = None,
               factor: int = 2) -> None:
    """Draw ``img`` (Tensor[C, H, W] in [0, 1]) on ``ax`` with pixel axes; ``zoom = (top, left, size)`` marks
    that square and shows it enlarged ``factor`` times in the image corner farthest from it.

    Lecture: 06_restoration
    """
    a = np.clip(to_numpy_image(img), 0, 1)
    grey = a.ndim == 2
    ax.imshow(a, cmap="gray" if grey else None, vmin=0, vmax=1, interpolation="nearest")
    if zoom is not None:
        top, left, size = zoom
        H, W = a.shape[:2]
        crop = a[top:top + size, left:left + size]
        big = np.kron(crop, np.ones((factor, factor))) if grey else np.kron(crop, np.ones((factor, factor, 1)))
        s = big.shape[0]
        # the corner farthest from the zoomed square, so that the inset does not hide it
        x0 = 0 if left + size / 2 > W / 2 else W - s
        y0 = 0 if top + size / 2 > H / 2 else H - s
        extent = (x0 - 0.5, x0 + s - 0.5, y0 + s - 0.5, y0 - 0.5)  # in pixel coordinates
        ax.imshow(big, cmap="gray" if grey else None, vmin=0, vmax=1, extent=extent, interpolation="nearest")
        ax.plot([left - 0.5, left + size - 0.5, left + size - 0.5, left - 0.5, left - 0.5],
                [top - 0.5, top - 0.5, top + size - 0.5, top + size - 0.5, top - 0.5], color="yellow", lw=1)
        ax.plot([x0 - 0.5, x0 + s - 0.5, x0 + s - 0.5, x0 - 0.5, x0 - 0.5],
                [y0 - 0.5, y0 - 0.5, y0 + s - 0.5, y0 + s - 0.5, y0 - 0.5], color="yellow", lw=1.5)
        ax.set_xlim(-0.5, W - 0.5)
        ax.set_ylim(H - 0.5, -0.5)
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x (px)", fontsize=8)
    ax.set_ylabel("y (px)", fontsize=8)
    ax.tick_params(labelsize=7)


def gallery(images: dict[str, torch.Tensor], *, clean: torch.Tensor | None = None, zoom=None, cols: int = 4,
            size: float = 2.8, suptitle: str = ""):
    """One panel per entry of ``images`` (name → Tensor[C, H, W]), titled with its PSNR against ``clean``.
    Returns ``(fig, axes)``.

    Lecture: 06_restoration
    """
    import matplotlib.pyplot as plt

    from .metrics import psnr

    n = len(images)
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, (size + 0.45) * rows + 0.4), squeeze=False)
    for ax, (name, img) in zip(axes.flat, images.items()):
        title = name
        if clean is not None and name != "clean":
            title += f"\n{float(psnr(img[None].clamp(0, 1), clean[None])):.2f} dB"
        show_image(ax, img, title=title, zoom=zoom)
    for ax in list(axes.flat)[n:]:
        ax.axis("off")
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig, axes


def error_map(ax, out: torch.Tensor, clean: torch.Tensor, *, vmax: float = 0.25, title: str = "|error|"):
    """Draw |out − clean| averaged over channels (Tensor[C, H, W] each) with a colour bar. Lecture: 06_restoration"""
    err = (out - clean).abs().mean(0).cpu().numpy()
    im = ax.imshow(err, cmap="magma", vmin=0, vmax=vmax)
    ax.figure.colorbar(im, ax=ax, fraction=0.046, label="|x̂ − x| ([0, 1] units)")
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x (px)", fontsize=8)
    ax.set_ylabel("y (px)", fontsize=8)
    ax.tick_params(labelsize=7)
