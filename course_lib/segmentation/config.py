"""What lecture 04 registers with core: the ``fcn`` settings and train task, and its course-map panel.

Lecture: 04_segmentation
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.core.registry import register_card, register_settings, register_task


@dataclass
class FCNSettings:
    """Sizes of lecture 04: scenes per split, pixels per side, passes, channel width, learning rate, the VGG
    backbone (``"vgg"``: ours, small; ``"vgg16_bn"``: torchvision's), and the patch classifier of the
    sliding-window baseline (patch side, patches drawn, passes)."""

    n_train: int = 256
    n_test: int = 64
    size: int = 64
    epochs: int = 2
    batch_size: int = 32
    width: int = 16
    lr: float = 2e-3
    backbone: str = "vgg"
    patch: int = 26
    n_patches: int = 8192
    patch_epochs: int = 2


register_settings("fcn", fast=FCNSettings(),
                  full=FCNSettings(n_train=6000, n_test=500, size=128, epochs=40, width=64, lr=1e-3,
                                   backbone="vgg16_bn", n_patches=100000, patch_epochs=10))
register_task("fcn", "course_lib.segmentation.tasks:train_fcn")


def draw_card(ax) -> None:
    """Lecture 04 on the course map: a label map (a disc, a box, a pole) on background."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    lab = np.zeros((64, 64), dtype=int)
    lab[(x - 20) ** 2 + (y - 22) ** 2 < 120] = 1
    lab[(abs(x - 44) < 12) & (abs(y - 40) < 10)] = 2
    lab[(abs(x - y) < 2) & (x > 30) & (x < 60)] = 3
    ax.imshow(lab, cmap="tab10", vmin=0, vmax=9)


register_card("04", title="04 segmentation (FCN)", idea="pixels in, pixels out",
              paper="Long, Shelhamer et al. CVPR 2015", draw=draw_card)
