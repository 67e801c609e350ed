"""What lecture 07 registers with core: the ``colorization`` settings and train task, and its course-map panel.

Lecture: 07_colorization
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.core.registry import register_card, register_settings, register_task


@dataclass
class ColorizationSettings:
    """Sizes of lecture 07: scenes per split, pixels per side, passes, channel width, learning rate; the soft
    encoding (``k`` nearest bins, Gaussian ``sigma`` in ab units), the rebalancing mix ``lam`` with the uniform
    prior, the annealed-mean temperature ``T``; ``models``: comma-separated kinds to train."""

    n_train: int = 256
    n_test: int = 64
    size: int = 64
    epochs: int = 2
    batch_size: int = 32
    width: int = 16
    lr: float = 3e-3
    k: int = 5
    sigma: float = 5.0
    lam: float = 0.5
    T: float = 0.38
    models: str = "l2,class,rebal"


register_settings("colorization", fast=ColorizationSettings(),
                  full=ColorizationSettings(n_train=8000, n_test=500, epochs=30, batch_size=64, width=32, lr=1e-3),
                  limits={"lam": (0.0, 1.0), "T": (0.01, 1.0)})
register_task("colorization", "course_lib.colorization.tasks:train_colorization")


def draw_card(ax) -> None:
    """Lecture 07 on the course map: the ab plane at L = 60 with the grid of 10 that the ab bins sit on."""
    from skimage.color import lab2rgb

    a, b = np.meshgrid(np.linspace(-110, 110, 64), np.linspace(110, -110, 64))
    lab = np.stack([np.full_like(a, 60.0), a, b], axis=-1)
    ax.imshow(np.clip(lab2rgb(lab), 0, 1), extent=(-110, 110, -110, 110))
    for t in np.arange(-110, 111, 10):
        ax.axvline(t, color="k", lw=0.2, alpha=0.5)
        ax.axhline(t, color="k", lw=0.2, alpha=0.5)


register_card("07", title="07 colorization", idea="colour as classification over ab bins",
              paper="Zhang, Isola, Efros ECCV 2016", draw=draw_card)
