"""What lectures 01-02 register with core: the ``pose`` settings, the ``pose`` and ``pose-control`` train tasks,
and their course-map panels.

Lecture: 01_pose_detector, 02_pose_spatial
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.patches as mpatches
import numpy as np

from course_lib.core.registry import register_card, register_settings, register_task


@dataclass
class PoseSettings:
    """Sizes of lectures 01-02: images per split, pixels per side, passes, channel width (the part detector);
    lecture 02's spatial model (its kernel 2·32 − 1 covers a 32 × 32 heat map; ``graph`` "tree" or "full") and
    joint training. ``spatial_n``/``joint_n`` = 0 means every training image."""

    n_train: int = 512
    n_test: int = 100
    size: int = 64
    epochs: int = 2
    batch_size: int = 8
    width: int = 16
    lr: float = 1e-3
    simple: bool = False
    kernel_size: int = 63
    graph: str = "tree"
    spatial_epochs: int = 1
    spatial_n: int = 256
    spatial_lr: float = 1e-2
    joint_epochs: int = 1
    joint_n: int = 128
    joint_lr: float = 2e-4
    joint_batch_size: int = 16


FAST = PoseSettings()
FULL = PoseSettings(n_train=8000, n_test=500, size=128, epochs=30, batch_size=32, width=64, kernel_size=127,
                    spatial_epochs=5, spatial_n=0, joint_epochs=5, joint_n=0, joint_batch_size=32)

register_settings("pose", fast=FAST, full=FULL)
# ``pose`` writes pose-detector, pose-spatial and pose-joint; ``pose-control`` (same settings, so that its --set
# overrides mean the same) writes the equal-budget control pose-detector-extra.
register_task("pose", "course_lib.pose.joint:train_pose")
register_task("pose-control", "course_lib.pose.joint:train_pose_control", settings="pose",
              makes=("pose-detector-extra",))

_SKELETON = {  # a standing upper body, (x, y) in a 64x64 frame
    "face": (32, 12), "lsho": (40, 22), "rsho": (24, 22), "lelb": (46, 34), "relb": (18, 34),
    "lwri": (50, 44), "rwri": (14, 44), "lhip": (38, 46), "rhip": (26, 46),
}
_BONES = (("face", "lsho"), ("face", "rsho"), ("lsho", "lelb"), ("lelb", "lwri"), ("rsho", "relb"),
          ("relb", "rwri"), ("lsho", "lhip"), ("rsho", "rhip"), ("lhip", "rhip"))


def draw_detector_card(ax) -> None:
    """Lecture 01 on the course map: one heat-map peak per joint of a standing person, the skeleton on top."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    heat = sum(np.exp(-((x - px) ** 2 + (y - py) ** 2) / (2 * 2.5**2)) for px, py in _SKELETON.values())
    ax.imshow(heat, cmap="magma")
    for a, b in _BONES:
        (xa, ya), (xb, yb) = _SKELETON[a], _SKELETON[b]
        ax.plot([xa, xb], [ya, yb], color="cyan", lw=1.5)


def draw_spatial_card(ax) -> None:
    """Lecture 02 on the course map: a chain of joints passing messages, and the message's formula."""
    for i, name in enumerate(("face", "shoulder", "elbow", "wrist")):
        ax.add_patch(mpatches.Circle((0.5, 0.85 - 0.23 * i), 0.08, color="tab:orange"))
        ax.text(0.62, 0.85 - 0.23 * i, name, va="center", fontsize=8)
        if i:
            ax.plot([0.5, 0.5], [0.85 - 0.23 * i + 0.08, 0.85 - 0.23 * (i - 1) - 0.08], color="k")
    ax.text(0.05, 0.05, r"$m_{ji}(x_i)=\sum_{x_j}\Phi\Psi\prod m$", fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")


register_card("01", title="01 pose: part detector", idea="ConvNet heat map per joint",
              paper="Tompson et al. NIPS 2014", draw=draw_detector_card)
register_card("02", title="02 pose: spatial model", idea="MRF / belief propagation as convolution",
              paper="Tompson et al. NIPS 2014", draw=draw_spatial_card)
