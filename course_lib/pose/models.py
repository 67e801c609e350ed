"""``load_or_train``: the one entry point to lectures 01-02's models, as in every topic.

``load_or_train(name)`` loads the shipped checkpoint ``checkpoints/<name>.pt`` (built with the sizes it records),
or, when it is missing, trains the model now with the given settings (the ``pose`` row by default) and says so.

Lecture: 01_pose_detector, 02_pose_spatial
"""

from __future__ import annotations

import dataclasses
import os

import torch

from course_lib.core import check_choice, checkpoint_or_train, preset
from course_lib.core.people import SyntheticPose
from course_lib.core.profiles import as_settings

from .config import PoseSettings
from .detector import PartDetector
from .joint import (
    CONTROL_TASK,
    JOINT_TASK,
    SPATIAL_TASK,
    JointModel,
    make_spatial,
    pretrain_spatial,
    train_detector_extra,
    train_joint,
)
from .tasks import DETECTOR_TASK, build_detector, evaluate_detector, make_datasets, train_detector

NAMES = (DETECTOR_TASK, CONTROL_TASK, SPATIAL_TASK, JOINT_TASK)
"""The models: the part detector (lecture 01); its equal-budget control, detector + spatial model, and the
jointly trained model (lecture 02)."""


def load_or_train(name: str, *, cfg: dict | None = None, seed: int = 0, device: torch.device | str | None = None,
                  directory: str | os.PathLike | None = None, progress: bool = False) -> tuple[torch.nn.Module, dict]:
    """Load the checkpoint ``name`` if present, else train that model now with ``cfg``.

    Parameters
    ----------
    name : {"pose-detector", "pose-detector-extra", "pose-spatial", "pose-joint"}
        ``pose-spatial`` comes back as ``JointModel(detector, spatial)``: the shipped detector followed by the
        spatial model trained on its heat maps, so that it decodes like the others.
    cfg : dict, optional
        The ``pose`` settings to train with when the checkpoint is missing (default: the active profile's).
    seed : int
        Seed of a training run made here (data, weights, batch order).
    device : device, optional
        Where the model goes (default :func:`course_lib.get_device`).
    directory : path, optional
        Folder of the checkpoints (default ``checkpoints/``).
    progress : bool
        Show progress bars while training here.

    Returns
    -------
    (model, info)
        The model in eval mode; ``info``: ``source``, ``config`` (the settings it was trained with: build the
        matching test split from ``n_test``, ``size`` and ``seed``), ``metrics``, ``command``, ``seed``,
        ``profile`` (see :func:`course_lib.core.checkpoint_or_train`).

    Lecture: 01_pose_detector, 02_pose_spatial
    """
    check_choice(name, "name", NAMES)
    cfg = as_settings(PoseSettings, preset("pose") if cfg is None else cfg)

    def detector_now() -> PartDetector:  # the detector the later models start from: shipped, or trained here
        return load_or_train(DETECTOR_TASK, cfg=cfg, seed=seed, device=device, directory=directory,
                             progress=progress)[0]

    def train():
        if name == DETECTOR_TASK:
            model, metrics = train_detector(cfg, seed, progress=progress)
            return model, dataclasses.asdict(cfg), metrics
        detector = detector_now()
        train_split, test = make_datasets(cfg, seed)
        if name == CONTROL_TASK:
            model, _ = train_detector_extra(detector, train_split, cfg, seed=seed, progress=progress)
        elif name == SPATIAL_TASK:
            model = JointModel(detector, pretrain_spatial(detector, train_split, cfg, seed=seed, progress=progress)[0])
        else:
            spatial, _ = pretrain_spatial(detector, train_split, cfg, seed=seed, progress=progress)
            model, _ = train_joint(detector, spatial, train_split, cfg, seed=seed, progress=progress)
        return model, dataclasses.asdict(cfg), evaluate_detector(model, test)

    def build(config: dict) -> torch.nn.Module:
        if name in (DETECTOR_TASK, CONTROL_TASK):
            return build_detector(config)
        if name == JOINT_TASK:
            return JointModel(build_detector(config), make_spatial(config))
        return make_spatial(config)

    model, info = checkpoint_or_train(name, build, train, seed=seed, directory=directory, device=device)
    if name == SPATIAL_TASK and info["source"] == "checkpoint":  # the spatial model alone: put the detector first
        model = JointModel(detector_now(), model).to(next(model.parameters()).device).eval()
    return model, info


__all__ = ["NAMES", "SyntheticPose", "load_or_train"]
