"""What lecture 06 registers with core: the ``restoration`` settings and train task, and its course-map panel.

Lecture: 06_restoration
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from course_lib.core.registry import register_card, register_settings, register_task


@dataclass
class RestorationSettings:
    """Sizes of lecture 06: ``models`` to train (comma-separated); training patches, their side, passes, batch
    size, learning rate; depth and width of DnCNN and of the deblur/inpaint/window nets; noise σ and the blind
    net's σ_max in 0-255 units; the PatchMLP's sizes (``mlp_*``); ``eval_crop``: side of the held-out crops a
    checkpoint is evaluated on; ``init``: start from that model's shipped checkpoint ("" = from scratch);
    ``snapshots``: the budget run's step counts ("250,500,..."; ignored by the other models)."""

    models: str = "dncnn25"
    n_patches: int = 256
    patch: int = 40
    epochs: int = 1
    batch_size: int = 32
    lr: float = 1e-3
    depth: int = 6
    width: int = 24
    sigma: float = 25.0
    sigma_max: float = 55.0
    mlp_patch: int = 13
    mlp_hidden: int = 512
    mlp_layers: int = 2
    eval_crop: int = 192
    init: str = ""
    snapshots: str = ""


# Noise σ is in 0-255 units; eval_crop is a centre crop of every test photo, the smallest of which (chelsea) is
# 300 pixels high.
register_settings("restoration", fast=RestorationSettings(),
                  full=RestorationSettings(models="dncnn25,blind,mlp,deblur,inpaint,window", n_patches=100000,
                                           patch=50, epochs=50, batch_size=128, depth=17, width=64, mlp_patch=17,
                                           mlp_hidden=2047, mlp_layers=4, eval_crop=256),
                  limits={"sigma": (0.0, 255.0), "sigma_max": (0.0, 255.0), "eval_crop": (1, 300)})
register_task("restoration", "course_lib.restoration.tasks:train_restoration")


def draw_card(ax) -> None:
    """Lecture 06 on the course map: a noisy half beside the clean half of the same picture."""
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:64, 0:64].astype(np.float32)
    clean = 0.5 + 0.4 * np.sin(x / 6.0) * np.cos(y / 9.0)
    noisy = clean + rng.normal(0, 0.2, clean.shape)
    ax.imshow(np.concatenate([noisy[:, :32], clean[:, 32:]], axis=1), cmap="gray", vmin=0, vmax=1)
    ax.axvline(31.5, color="r", lw=1)


register_card("06", title="06 image restoration", idea="denoise, deblur, inpaint, derain",
              paper="Burger 2012; Eigen 2013; ...", draw=draw_card)
