"""What lecture 05 registers with core: the ``depth`` settings and train task, and its course-map panel.

Lecture: 05_depth
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.core.registry import register_card, register_settings, register_task


@dataclass
class DepthSettings:
    """Sizes of lecture 05: rooms per split, rooms are ``size`` × 3·``size``/4 pixels, passes, batch size, channel
    width; ``coarse``: channels of scale 1's output, ``fc_width``: its hidden layer; learning rate; ``lam``: the
    scale-invariant term's weight; ``w_normals``, ``w_labels``: the weights of the other maps' losses;
    ``variants``: the scale settings trained, one MultiScaleNet each, all with the same budget."""

    n_train: int = 256
    n_test: int = 64
    size: int = 64
    epochs: int = 2
    batch_size: int = 32
    width: int = 16
    fc_width: int = 256
    coarse: int = 16
    lr: float = 2e-3
    lam: float = 0.5
    w_normals: float = 1.0
    w_labels: float = 0.5
    variants: str = "s1,s2,s12,s123"


register_settings("depth", fast=DepthSettings(),
                  full=DepthSettings(n_train=8000, n_test=500, size=128, epochs=40, width=32, fc_width=1024,
                                     coarse=32, lr=1e-3))
register_task("depth", "course_lib.depth.tasks:train_depth")


def draw_card(ax) -> None:
    """Lecture 05 on the course map: a depth map of a back wall, a floor coming towards the camera and a box."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    depth = np.where(y > 40, 8.0 - (y - 40) * 0.25, 8.0)
    depth = np.where((abs(x - 32) < 10) & (y > 30) & (y < 50), 4.0, depth)
    ax.imshow(depth, cmap="magma_r")


register_card("05", title="05 depth, normals, labels", idea="one multi-scale net, three maps",
              paper="Eigen & Fergus ICCV 2015", draw=draw_card)
