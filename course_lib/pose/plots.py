"""Pose figures: the FLIC detection-rate curves (the skeleton over an image is core's ``draw_skeleton``).

Lecture: 01_pose_detector (and 02_pose_spatial)
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import torch

from course_lib.core.people import JOINTS
from course_lib.core.plotting import JOINT_COLORS
from course_lib.core.plotting import draw_skeleton as draw_pose  # noqa: F401  (lectures 01-02 call it draw_pose)


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
