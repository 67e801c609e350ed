"""The course map of lecture 00: one small picture per lecture, each drawn from scratch with numpy so that the
map needs no data, no checkpoint and no topic package.

Lecture: 00_welcome
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np

LECTURES = (
    ("01 pose: part detector", "ConvNet heat map per joint", "Tompson et al. NIPS 2014"),
    ("02 pose: spatial model", "MRF / belief propagation as convolution", "Tompson et al. NIPS 2014"),
    ("03 efficient localization", "pooling vs accuracy, coarse-to-fine", "Tompson et al. CVPR 2015"),
    ("04 segmentation (FCN)", "pixels in, pixels out", "Long, Shelhamer et al. CVPR 2015"),
    ("05 depth, normals, labels", "one multi-scale net, three maps", "Eigen & Fergus ICCV 2015"),
    ("06 image restoration", "denoise, deblur, inpaint, derain", "Burger 2012; Eigen 2013; ..."),
    ("07 colorization", "colour as classification over ab bins", "Zhang, Isola, Efros ECCV 2016"),
)

_SKELETON = {  # a standing upper body, (x, y) in a 64x64 frame
    "face": (32, 12), "lsho": (40, 22), "rsho": (24, 22), "lelb": (46, 34), "relb": (18, 34),
    "lwri": (50, 44), "rwri": (14, 44), "lhip": (38, 46), "rhip": (26, 46),
}
_BONES = (("face", "lsho"), ("face", "rsho"), ("lsho", "lelb"), ("lelb", "lwri"), ("rsho", "relb"),
          ("relb", "rwri"), ("lsho", "lhip"), ("rsho", "rhip"), ("lhip", "rhip"))


def _grid(n: int = 64):
    y, x = np.mgrid[0:n, 0:n].astype(np.float32)
    return x, y


def _pose(ax):
    x, y = _grid()
    heat = sum(np.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * 2.5**2)) for px, py in _SKELETON.values())
    ax.imshow(heat, cmap="magma")
    for a, b in _BONES:
        (xa, ya), (xb, yb) = _SKELETON[a], _SKELETON[b]
        ax.plot([xa, xb], [ya, yb], color="cyan", lw=1.5)


def _spatial(ax):
    names = ("face", "shoulder", "elbow", "wrist")
    for i, name in enumerate(names):
        ax.add_patch(plt.Circle((0.5, 0.85 - 0.23 * i), 0.08, color="tab:orange"))
        ax.text(0.62, 0.85 - 0.23 * i, name, va="center", fontsize=8)
        if i:
            ax.plot([0.5, 0.5], [0.85 - 0.23 * i + 0.08, 0.85 - 0.23 * (i - 1) - 0.08], color="k")
    ax.text(0.05, 0.05, r"$m_{ji}(x_i)=\sum_{x_j}\Phi\Psi\prod m$", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")


def _localization(ax):
    x, y = _grid()
    fine = np.exp(-((x - 37.3) ** 2 + (y - 25.6) ** 2) / (2 * 1.5**2))
    coarse = np.kron(fine.reshape(8, 8, 8, 8).mean(axis=(1, 3)), np.ones((8, 8)))
    ax.imshow(coarse, cmap="viridis")
    ax.add_patch(plt.Rectangle((29, 17), 16, 16, fill=False, ec="white", lw=1.5))
    ax.plot(37.3, 25.6, "r+", ms=10, mew=2)


def _segmentation(ax):
    x, y = _grid()
    lab = np.zeros((64, 64), dtype=int)
    lab[(x - 20) ** 2 + (y - 22) ** 2 < 120] = 1
    lab[(abs(x - 44) < 12) & (abs(y - 40) < 10)] = 2
    lab[(abs(x - y) < 2) & (x > 30) & (x < 60)] = 3
    ax.imshow(lab, cmap="tab10", vmin=0, vmax=9)


def _depth(ax):
    x, y = _grid()
    depth = np.where(y > 40, 8.0 - (y - 40) * 0.25, 8.0)  # a floor coming towards the camera, a back wall
    depth = np.where((abs(x - 32) < 10) & (y > 30) & (y < 50), 4.0, depth)  # a box
    ax.imshow(depth, cmap="magma_r")


def _restoration(ax):
    rng = np.random.default_rng(0)
    x, y = _grid()
    clean = 0.5 + 0.4 * np.sin(x / 6.0) * np.cos(y / 9.0)
    noisy = clean + rng.normal(0, 0.2, clean.shape)
    ax.imshow(np.concatenate([noisy[:, :32], clean[:, 32:]], axis=1), cmap="gray", vmin=0, vmax=1)
    ax.axvline(31.5, color="r", lw=1)


def _colorization(ax):
    from skimage.color import lab2rgb

    a, b = np.meshgrid(np.linspace(-110, 110, 64), np.linspace(110, -110, 64))
    lab = np.stack([np.full_like(a, 60.0), a, b], axis=-1)
    ax.imshow(np.clip(lab2rgb(lab), 0, 1), extent=(-110, 110, -110, 110))
    ticks = np.arange(-110, 111, 10)
    for t in ticks:  # the grid of 10 that the ab bins sit on
        ax.axvline(t, color="k", lw=0.2, alpha=0.5)
        ax.axhline(t, color="k", lw=0.2, alpha=0.5)


_DRAW = (_pose, _spatial, _localization, _segmentation, _depth, _restoration, _colorization)


def draw_course_map():
    """Draw the course map: one schematic per lecture with its title, idea and paper; return the figure.

    Lecture: 00_welcome
    """
    fig, axes = plt.subplots(2, 4, figsize=(13, 7.5))
    axes = axes.ravel()
    for ax, draw, (title, idea, paper) in zip(axes, _DRAW, LECTURES):
        draw(ax)
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(f"{title}\n{idea}", fontsize=9)
        ax.set_xlabel(paper, fontsize=8)
    axes[-1].axis("off")
    axes[-1].text(0.0, 0.5, "00 welcome (you are here)\n\nEach lecture: the slides' argument,\n"
                  "the method implemented in course_lib,\nnumbers measured live,\ngraded exercises, a widget.",
                  fontsize=9, va="center")
    fig.suptitle("Further applications of ConvNets: the course map")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.88, bottom=0.05, wspace=0.15, hspace=0.45)
    return fig
