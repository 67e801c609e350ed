"""The recipe of lecture 05: the scale settings compared, the settings they read, and how one is built and trained.

One ``MultiScaleNet`` per scale setting of the slide "Contributions of Scales" (``VARIANTS``: scale 1 only,
scale 2 only, scales 1+2, scales 1+2+3) predicts depth, normals and 4-class labels at once, trained with
:func:`~course_lib.depth.losses.multitask_loss` on synthetic rooms, with random horizontal flips. Every variant
gets the **same budget**: the same rooms, epochs, batch size, learning rate and seed, so the table compares
architectures, not training time.

Lecture: 05_depth
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch.utils.data import DataLoader

from course_lib.core import check_choice, check_number, check_positive_int, fit, num_params, seed_everything
from course_lib.core.profiles import as_settings

from .config import DepthSettings
from .losses import multitask_loss
from .multiscale import MultiScaleNet
from .rooms import SyntheticRooms

VARIANTS = {"s1": (1,), "s2": (2,), "s12": (1, 2), "s123": (1, 2, 3)}
VARIANT_NAMES = {"s1": "scale 1 only", "s2": "scale 2 only", "s12": "scales 1 + 2", "s123": "scales 1 + 2 + 3"}

# Controls for the lecture's explanation of why "scale 2 only" beats "scale 1 only" on 64×48 rooms, each trained at
# the ablation's budget: "s2small" shrinks scale 2's window from 39×39 to 15×15 pixels (1×1 body convolutions), so
# it no longer sees most of the image; "s2wide" widens scale 2 alone until it has as many parameters as scale 1
# alone (:func:`matched_scale2_width`), so that a parameter gap cannot explain the ranking.
CONTROLS = {"s2small": (2,), "s2wide": (2,)}
CONTROL_NAMES = {"s2small": "scale 2, 15×15 window", "s2wide": "scale 2, as many weights as scale 1"}


RECORDED = ("scales", "scale2_kernel", "scale2_width")  # what a checkpoint's config records beside the settings


def scales_of(name: str) -> tuple[int, ...]:
    """The scales of variant or control ``name`` (e.g. ``"s12"`` → ``(1, 2)``). Lecture: 05_depth"""
    return VARIANTS[name] if name in VARIANTS else CONTROLS[name]


def matched_scale2_width(config: DepthSettings | dict) -> int:
    """The scale-2 base width at which a "scale 2 only" net has the parameter count closest to "scale 1 only"'s
    for the settings ``config`` (689k against 101k at the fast profile's width 16: width 42 gives 679k).

    Lecture: 05_depth"""
    config = check_config(config, training=False)
    size = config.size
    kwargs = {"image_size": (3 * size // 4, size), "width": config.width, "fc_width": config.fc_width,
              "coarse": config.coarse}
    target = num_params(MultiScaleNet(scales=(1,), **kwargs))
    best, width = None, config.width
    while True:
        n = num_params(MultiScaleNet(scales=(2,), scale2_width=width, **kwargs))
        if best is None or abs(n - target) < abs(best[1] - target):
            best = (width, n)
        if n >= target:
            return best[0]
        width += 1


def variant_options(name: str, config: DepthSettings | dict) -> dict:
    """The ``MultiScaleNet`` keyword arguments beyond the scales for the variant or control ``name``."""
    if name == "s2small":
        return {"scale2_kernel": 1}
    if name == "s2wide":
        return {"scale2_width": matched_scale2_width(config)}
    return {}


def check_config(cfg: DepthSettings | dict, *, training: bool = True) -> DepthSettings:
    """Check "depth" settings (the profile's, with any ``--set`` overrides; or a checkpoint's ``config``, whose
    ``scales`` and scale-2 options are records, not settings) before anything is rendered or trained; return them
    as :class:`DepthSettings`. A misspelt key fails here, naming the fields. ``training=False`` checks only what
    :func:`build_model` reads.

    ``size`` must be a multiple of 32 (rooms are size × 3·size/4 and the net needs multiples of 8), the counts
    and widths ints ≥ 1, ``lr`` > 0, ``lam`` in [0, 1] (the slide's λ), the loss weights ≥ 0, and ``variants``
    a non-empty comma-separated subset of ``VARIANTS``. Lecture: 05_depth
    """
    if isinstance(cfg, Mapping):
        cfg = {k: v for k, v in cfg.items() if k not in RECORDED}
    cfg = as_settings(DepthSettings, cfg)
    for key in ("size", "width", "fc_width", "coarse") + (("n_train", "n_test", "epochs", "batch_size")
                                                         if training else ()):
        check_positive_int(getattr(cfg, key), key)
    if cfg.size % 32:
        raise ValueError(f"size must be a multiple of 32 (images are size × 3·size/4 and the net needs multiples "
                         f"of 8), but found {cfg.size}")
    if training:
        check_number(cfg.lr, "lr", low=0.0, low_open=True)
        check_number(cfg.lam, "lam", low=0.0, high=1.0, unit="the scale-invariant loss's λ, 0.5 in the paper")
        check_number(cfg.w_normals, "w_normals", low=0.0)
        check_number(cfg.w_labels, "w_labels", low=0.0)
        names = [v.strip() for v in str(cfg.variants).split(",") if v.strip()]
        if not names:
            raise ValueError(f"variants must name at least one of {tuple(VARIANTS)}, comma-separated, but found "
                             f"{cfg.variants!r}")
        for v in names:
            check_choice(v, "variants", tuple(VARIANTS) + tuple(CONTROLS))
        if len(set(names)) != len(names):
            raise ValueError(f"variants must not repeat a name, but found {cfg.variants!r}")
    return cfg


def build_model(config: DepthSettings | dict, scales: tuple[int, ...], **options) -> MultiScaleNet:
    """A fresh ``MultiScaleNet`` for the settings ``config`` (a "depth" profile row) and ``scales``; ``options``
    are further ``MultiScaleNet`` keywords (``scale2_width``, ``scale2_kernel``: see :func:`variant_options`).

    Lecture: 05_depth
    """
    config = check_config(config, training=False)
    size = config.size
    return MultiScaleNet(scales=tuple(scales), image_size=(3 * size // 4, size), width=config.width,
                         fc_width=config.fc_width, coarse=config.coarse, **options)


def train_model(scales: tuple[int, ...], train_set: SyntheticRooms, *, cfg: DepthSettings | dict, seed: int = 0,
                device: torch.device | str = "cpu", options: dict | None = None,
                **fit_kwargs) -> tuple[MultiScaleNet, dict]:
    """Train one scale setting on ``train_set`` with ``cfg`` (epochs, batch_size, lr, lam, w_normals, w_labels);
    return ``(model, history)``. Same seed, same data order, same schedule for every setting (Adam; the learning
    rate drops 10× for the last quarter of the epochs). Lecture: 05_depth"""
    cfg = check_config(cfg)
    seed_everything(seed)
    model = build_model(cfg, scales, **(options or {})).to(device)
    loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))

    def loss_fn(m, batch):
        return multitask_loss(m, batch, lam=cfg.lam, w_normals=cfg.w_normals, w_labels=cfg.w_labels)

    # Adam at lr, then lr / 10 for the last quarter of the epochs (when there are at least 4): a step decay
    # settles the weights, as the paper's schedule does.
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    drop_after = cfg.epochs - cfg.epochs // 4 if cfg.epochs >= 4 else None

    def decay(net, history):  # fit's callback, after each epoch
        if drop_after is not None and len(history["epoch_loss"]) == drop_after:
            for group in optimizer.param_groups:
                group["lr"] = cfg.lr / 10

    history = fit(model, loader, loss_fn, epochs=cfg.epochs, lr=cfg.lr, optimizer=optimizer, device=device,
                  callback=decay, **fit_kwargs)
    return model, history
