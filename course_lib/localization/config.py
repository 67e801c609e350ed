"""What lecture 03 registers with core: the ``localization`` settings, the ``localization`` and
``localization-dropout`` train tasks, and its course-map panel.

Lecture: 03_localization
"""

from __future__ import annotations

from dataclasses import dataclass

import matplotlib.patches as mpatches
import numpy as np

from course_lib.core.registry import register_card, register_settings, register_task


@dataclass
class LocalizationSettings:
    """Sizes of lecture 03: images per split, pixels per side, passes and widths of the coarse model (E1), drop
    probability ``p``; the cascade's fine model (``fine_width``, crop side ``crop`` in input pixels, ``samples``
    per side), its extra epochs and the weight ``lam`` of E_fine; the dropout study (task
    ``localization-dropout``): few images, many epochs, so that it over-fits."""

    n_train: int = 256
    n_val: int = 32
    n_test: int = 64
    size: int = 64
    epochs: int = 2
    batch_size: int = 16
    width: int = 16
    lr: float = 2e-3
    p: float = 0.2
    fine_width: int = 16
    crop: int = 24
    samples: int = 12
    cascade_epochs: int = 1
    lam: float = 1.0
    drop_pooling: int = 4
    drop_n_train: int = 64
    drop_epochs: int = 4
    drop_p: float = 0.5
    drop_seeds: int = 2


register_settings(
    "localization",
    fast=LocalizationSettings(),
    full=LocalizationSettings(n_train=8000, n_val=200, n_test=500, size=128, epochs=30, batch_size=32, width=64,
                              lr=1e-3, fine_width=32, crop=48, samples=24, cascade_epochs=10, drop_n_train=1000,
                              drop_epochs=100, drop_seeds=3),
    limits={"p": (0.0, 0.99), "drop_p": (0.0, 0.99)},
)
register_task("localization", "course_lib.localization.tasks:train_localization")
register_task("localization-dropout", "course_lib.localization.tasks:train_dropout_study", settings="localization")


def draw_localization_card(ax) -> None:
    """Lecture 03 on the course map: a coarse (8× pooled) heat map, the crop the fine model sees, the true joint."""
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    fine = np.exp(-((x - 37.3) ** 2 + (y - 25.6) ** 2) / (2 * 1.5**2))
    coarse = np.kron(fine.reshape(8, 8, 8, 8).mean(axis=(1, 3)), np.ones((8, 8)))
    ax.imshow(coarse, cmap="viridis")
    ax.add_patch(mpatches.Rectangle((29, 17), 16, 16, fill=False, ec="white", lw=1.5))
    ax.plot(37.3, 25.6, "r+", ms=10, mew=2)


register_card("03", title="03 efficient localization", idea="pooling vs accuracy, coarse-to-fine",
              paper="Tompson et al. CVPR 2015", draw=draw_localization_card)
