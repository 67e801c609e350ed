"""``load_or_train`` for lecture 05's nets, and ``python -m course_lib.train depth``.

``train_depth`` writes ``depth-<variant>.pt`` for each variant of ``cfg.variants`` (``depth-s1.pt``,
``depth-s2.pt``, ``depth-s12.pt``, ``depth-s123.pt`` by default) with the metrics of
:func:`~course_lib.depth.evaluation.evaluate` on the synthetic test split, measured after rounding the weights to
float16 as stored, so that ``tests/test_depth_checkpoints.py`` can reproduce them. The recipe is in
:mod:`.recipe`, the loss in :mod:`.losses`, scoring and baselines in :mod:`.evaluation`.

Lecture: 05_depth
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import torch

from course_lib.core import (
    check_choice,
    checkpoint_or_train,
    get_device,
    round_to_half,
    save_checkpoint,
)
from course_lib.core.profiles import preset

from .config import DepthSettings
from .evaluation import evaluate
from .multiscale import MultiScaleNet
from .recipe import CONTROLS, VARIANTS, build_model, check_config, scales_of, train_model, variant_options
from .rooms import SyntheticRooms

__all__ = ["check_config", "load_or_train", "train_depth"]  # check_config: the train CLI's check of the settings


def load_or_train(name: str, *, cfg: DepthSettings | dict | None = None, seed: int = 0,
                  device: torch.device | str | None = None, directory: str | os.PathLike | None = None,
                  progress: bool = False) -> tuple[MultiScaleNet, dict]:
    """Load the checkpoint ``name`` if present, else train that variant now with ``cfg``.

    Parameters
    ----------
    name : {"depth-s1", "depth-s2", "depth-s12", "depth-s123", "depth-s2small", "depth-s2wide"}
    cfg : DepthSettings or dict, optional
        The ``depth`` settings to train with when the checkpoint is missing (default: the active profile's).
    seed, device, directory, progress
        Seed of a run made here, where the model goes (default :func:`course_lib.get_device`, which honours
        ``COURSE_DEVICE``), the folder of the checkpoints (default ``checkpoints/``), progress bars.

    Returns
    -------
    model : MultiScaleNet
        In eval mode, on ``device``.
    info : dict
        ``source`` ("checkpoint" or "trained now"), ``config`` (the settings it was trained with: build the
        matching test split from ``n_test``, ``size`` and ``seed``), ``metrics``, ``command``, ``seed``,
        ``profile`` (see :func:`course_lib.core.checkpoint_or_train`).

    Lecture: 05_depth
    """
    check_choice(name, "name", tuple(f"depth-{v}" for v in (*VARIANTS, *CONTROLS)))
    variant = name.split("-")[1]
    scales = scales_of(variant)
    cfg = check_config(preset("depth") if cfg is None else cfg)

    def train():
        train_set = SyntheticRooms("train", cfg.n_train, cfg.size, seed)
        test_set = SyntheticRooms("test", cfg.n_test, cfg.size, seed)
        model, _ = train_model(scales, train_set, cfg=cfg, seed=seed, progress=progress,
                               device=get_device() if device is None else device,
                               options=variant_options(variant, cfg))
        return model, dataclasses.asdict(cfg), evaluate(model, test_set)

    return checkpoint_or_train(name, lambda config: build_model(config, scales, **variant_options(variant, config)),
                               train, seed=seed, directory=directory, device=device)


def train_depth(*, cfg: DepthSettings | dict, profile: str, seed: int, out_dir: pathlib.Path,
                command: str) -> list[pathlib.Path]:
    """``python -m course_lib.train depth``: train the variants named in ``cfg.variants`` (comma-separated
    subset of ``VARIANTS`` and ``CONTROLS``) at equal budget, evaluate them on the synthetic test split, and save
    ``depth-<variant>.pt`` in ``out_dir``. Lecture: 05_depth"""
    cfg = check_config(cfg)
    device = get_device()
    names = [v.strip() for v in cfg.variants.split(",") if v.strip()]
    train_set = SyntheticRooms("train", cfg.n_train, cfg.size, seed, device=device)
    test_set = SyntheticRooms("test", cfg.n_test, cfg.size, seed, device=device)
    paths = []
    for v in names:
        options = variant_options(v, cfg)
        model, history = train_model(scales_of(v), train_set, cfg=cfg, seed=seed, device=device, desc=v,
                                     options=options)
        model = round_to_half(model.cpu())
        metrics = evaluate(model, test_set)
        metrics["train_seconds"] = history["seconds"]
        metrics["final_loss"] = history["epoch_loss"][-1]
        print(f"depth-{v}: " + ", ".join(f"{k}={x:.4f}" for k, x in metrics.items()), flush=True)
        paths.append(save_checkpoint(pathlib.Path(out_dir) / f"depth-{v}.pt", model, task=f"depth-{v}",
                                     command=command, profile=profile, seed=seed, metrics=metrics, half=True,
                                     config={**dataclasses.asdict(cfg), "scales": list(scales_of(v)), **options}))
    return paths
