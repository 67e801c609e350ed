"""Pose figures: a skeleton over an image, and the FLIC detection-rate curves.

Lecture: 01_pose_detector (and 02_pose_spatial)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import torch

from course_lib.core.plotting import to_numpy_image

from .data import EDGES, JOINTS

# One colour per joint, shared by every pose figure (left side warm, right side cool).
JOINT_COLORS = {"face": "#ffffff", "lsho": "#ff7f0e", "lelb": "#d62728", "lwri": "#e377c2", "rsho": "#17becf",
                "relb": "#1f77b4", "rwri": "#2ca02c", "lhip": "#bcbd22", "rhip": "#9467bd"}


def draw_pose(ax, image, joints, *, visible=None, truth=None, title: str | None = None, edges=EDGES,
              color: str = "white"):
    """Draw ``image`` (3, H, W) with a skeleton of ``joints`` (J, 2) ``(x, y)`` pixels on ``ax``.

    Joints are dots in their ``JOINT_COLORS`` colour (hollow where ``visible`` is False); ``truth`` (J, 2), if
    given, is drawn as small crosses with a thin line from each truth to its prediction.
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


def plot_detection_curves(radii, rates, *, names=JOINTS, ax=None, title: str = "FLIC detection rate",
                          joints=None, style: str = "-", label_suffix: str = ""):
    """Plot detection-rate curves: ``radii`` (R,) percent of torso size, ``rates`` (R, J) percent.

    ``joints`` picks which joint names to draw (default all). Returns the axes.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    r = torch.as_tensor(radii).cpu().numpy()
    v = torch.as_tensor(rates).cpu().numpy()
    for k, name in enumerate(names):
        if joints is not None and name not in joints:
            continue
        ax.plot(r, v[:, k], style, color=JOINT_COLORS.get(name, None) if name != "face" else "black",
                label=name + label_suffix)
    ax.set_xlabel("normalised distance r (% of torso size |lhip − rsho|)")
    ax.set_ylabel("detection rate (%)")
    ax.set_ylim(0, 100)
    ax.set_xlim(r.min(), r.max())
    ax.grid(alpha=0.3)
    ax.axvline(10, color="gray", lw=0.8, ls=":")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2, loc="lower right")
    return ax
