"""Profiles: one table of per-task settings for the ``fast`` and ``full`` profiles.

``fast`` is what the tests and a laptop run: every notebook top to bottom in about a minute on two CPU cores.
``full`` is what a GPU runs to reach the quality a lecture claims. Notebooks never branch on the profile; they
read this table with :func:`settings`.

The active profile comes from the ``COURSE_PROFILE`` environment variable (``fast`` or ``full``); when it is
unset the profile is ``full`` if a CUDA GPU is present, else ``fast``.

Lecture: 00_welcome
"""

from __future__ import annotations

import copy
import os

import torch

PROFILES = ("fast", "full")

# One row per task. Each topic package reads only its own row. Sizes are images per split, pixels per side,
# passes over the training set and channel widths.
TABLE: dict[str, dict[str, dict]] = {
    "welcome": {
        "fast": {"n_train": 1024, "epochs": 4, "batch_size": 64, "width": 16},
        "full": {"n_train": 4096, "epochs": 10, "batch_size": 128, "width": 32},
    },
    "pose": {
        "fast": {"n_train": 512, "n_test": 100, "size": 64, "epochs": 2, "batch_size": 8, "width": 16,
                 "lr": 1e-3, "simple": False,
                 # lecture 02: spatial model (kernel 2·32 − 1 covers a 32 x 32 heat map) and joint training
                 "kernel_size": 63, "graph": "tree", "spatial_epochs": 1, "spatial_n": 256, "spatial_lr": 1e-2,
                 "joint_epochs": 1, "joint_n": 128, "joint_lr": 2e-4, "joint_batch_size": 16},
        "full": {"n_train": 8000, "n_test": 500, "size": 128, "epochs": 30, "batch_size": 32, "width": 64,
                 "lr": 1e-3, "simple": False,
                 "kernel_size": 127, "graph": "tree", "spatial_epochs": 5, "spatial_n": 0, "spatial_lr": 1e-2,
                 "joint_epochs": 5, "joint_n": 0, "joint_lr": 2e-4, "joint_batch_size": 32},
    },
    "localization": {
        "fast": {"n_train": 256, "n_val": 32, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 16,
                 "width": 16, "lr": 2e-3, "p": 0.2, "fine_width": 16, "crop": 24, "samples": 12,
                 "cascade_epochs": 1, "lam": 1.0,
                 # the dropout study (task localization-dropout): few images, many epochs, so that it over-fits
                 "drop_pooling": 4, "drop_n_train": 64, "drop_epochs": 4, "drop_p": 0.5, "drop_seeds": 2},
        "full": {"n_train": 8000, "n_val": 200, "n_test": 500, "size": 128, "epochs": 30, "batch_size": 32,
                 "width": 64, "lr": 1e-3, "p": 0.2, "fine_width": 32, "crop": 48, "samples": 24,
                 "cascade_epochs": 10, "lam": 1.0,
                 "drop_pooling": 4, "drop_n_train": 1000, "drop_epochs": 100, "drop_p": 0.5, "drop_seeds": 3},
    },
    "fcn": {
        "fast": {"n_train": 256, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 32, "width": 16, "lr": 2e-3,
                 "backbone": "vgg", "patch": 26, "n_patches": 8192, "patch_epochs": 2},
        "full": {"n_train": 6000, "n_test": 500, "size": 128, "epochs": 40, "batch_size": 32, "width": 64,
                 "lr": 1e-3, "backbone": "vgg16_bn", "patch": 26, "n_patches": 100000, "patch_epochs": 10},
    },
    "depth": {
        # lecture 05: rooms are size x 3·size/4 pixels; one MultiScaleNet per scale setting ("variants"), all
        # trained with the same budget; coarse = channels of scale 1's output, fc_width its hidden layer
        "fast": {"n_train": 256, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 32, "width": 16,
                 "fc_width": 256, "coarse": 16, "lr": 2e-3, "lam": 0.5, "w_normals": 1.0, "w_labels": 0.5,
                 "variants": "s1,s2,s12,s123"},
        "full": {"n_train": 8000, "n_test": 500, "size": 128, "epochs": 40, "batch_size": 32, "width": 32,
                 "fc_width": 1024, "coarse": 32, "lr": 1e-3, "lam": 0.5, "w_normals": 1.0, "w_labels": 0.5,
                 "variants": "s1,s2,s12,s123"},
    },
    "restoration": {
        # lecture 06: σ in 0-255 units; depth/width of DnCNN and of the deblur/inpaint/window nets; PatchMLP
        # sizes after "mlp_"; eval_crop: side of the held-out crops a checkpoint is evaluated on; init: start from
        # that model's shipped checkpoint ("" = from scratch); snapshots: the budget run's step counts
        # ("250,500,..."; ignored by the other models)
        "fast": {"models": "dncnn25", "n_patches": 256, "patch": 40, "epochs": 1, "batch_size": 32, "lr": 1e-3,
                 "depth": 6, "width": 24, "sigma": 25.0, "sigma_max": 55.0, "mlp_patch": 13, "mlp_hidden": 512,
                 "mlp_layers": 2, "eval_crop": 192, "init": "", "snapshots": ""},
        "full": {"models": "dncnn25,blind,mlp,deblur,inpaint,window", "n_patches": 100000, "patch": 50,
                 "epochs": 50, "batch_size": 128, "lr": 1e-3, "depth": 17, "width": 64, "sigma": 25.0,
                 "sigma_max": 55.0, "mlp_patch": 17, "mlp_hidden": 2047, "mlp_layers": 4, "eval_crop": 256, "init": "",
                 "snapshots": ""},
    },
    "colorization": {
        "fast": {"n_train": 256, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 32, "width": 16,
                 "lr": 3e-3, "k": 5, "sigma": 5.0, "lam": 0.5, "T": 0.38, "models": "l2,class,rebal"},
        "full": {"n_train": 8000, "n_test": 500, "size": 64, "epochs": 30, "batch_size": 64, "width": 32,
                 "lr": 1e-3, "k": 5, "sigma": 5.0, "lam": 0.5, "T": 0.38, "models": "l2,class,rebal"},
    },
}


# Ranges of settings whose meaning bounds them (inclusive), beyond the rules every row follows (see
# check_settings). Noise σ is in 0-255 units; eval_crop is a centre crop of every test photo, the smallest of which
# (chelsea) is 300 pixels high.
LIMITS: dict[str, dict[str, tuple[float, float]]] = {
    "restoration": {"sigma": (0.0, 255.0), "sigma_max": (0.0, 255.0), "eval_crop": (1, 300)},
    "localization": {"p": (0.0, 0.99), "drop_p": (0.0, 0.99)},
    "colorization": {"lam": (0.0, 1.0), "T": (0.01, 1.0)},
}


def check_settings(task: str, cfg: dict) -> dict:
    """Check a settings row (e.g. after ``--set`` overrides) before anything trains; return it.

    Rules for every row: an int setting is ≥ 1, or ≥ 0 where a profile uses 0 (e.g. ``spatial_n`` = 0, "all");
    a float is finite and ≥ 0, and a learning rate (``lr``, ``*_lr``) > 0; a str that names a comma-separated
    list in the table (``models``, ``variants``) is a non-empty list without repeats, and a str that is never
    empty in the table stays non-empty. ``LIMITS`` adds ranges for the settings whose meaning bounds them. A
    topic's own rules (e.g. ``course_lib.depth.tasks.check_config``) come on top.

    >>> check_settings("depth", settings("depth", "fast"))["epochs"]
    2

    Lecture: 00_welcome
    """
    import math

    if not isinstance(task, str) or task not in TABLE:
        raise ValueError(f"unknown task {task!r}; permitted tasks are {sorted(TABLE)}")
    rows = TABLE[task].values()
    for key, value in cfg.items():
        defaults = [row[key] for row in rows if key in row]
        if not defaults or isinstance(value, bool):
            continue
        if isinstance(value, int):
            low = 0 if 0 in defaults else 1
            if value < low:
                raise ValueError(f"{key} must be an int ≥ {low}, but found {value}")
        elif isinstance(value, float):
            positive = key == "lr" or key.endswith("_lr")
            if not math.isfinite(value) or value < 0 or (positive and value == 0):
                raise ValueError(f"{key} must be a finite number {'> 0' if positive else '≥ 0'}, but found {value}")
        elif isinstance(value, str):
            if any("," in d for d in defaults):
                names = [v.strip() for v in value.split(",")]
                if not all(names):
                    raise ValueError(f"{key} must be a comma-separated list of names (e.g. {defaults[0]!r}) "
                                     f"without empty entries, but found {value!r}")
                if len(set(names)) != len(names):
                    raise ValueError(f"{key} must not name an entry twice, but found {value!r}")
            elif all(defaults) and not value.strip():
                raise ValueError(f"{key} must not be empty (e.g. {defaults[0]!r})")
        if key in LIMITS.get(task, {}) and isinstance(value, (int, float)):
            lo, hi = LIMITS[task][key]
            if not lo <= value <= hi:
                raise ValueError(f"{key} must be in [{lo:g}, {hi:g}], but found {value}")
    return cfg


def profile() -> str:
    """Return the active profile, ``"fast"`` or ``"full"``.

    Reads ``COURSE_PROFILE``; when unset, ``"full"`` if CUDA is available, else ``"fast"``.

    Lecture: 00_welcome
    """
    value = os.environ.get("COURSE_PROFILE", "").strip().lower()
    if not value:
        return "full" if torch.cuda.is_available() else "fast"
    if value not in PROFILES:
        raise ValueError(f"COURSE_PROFILE must be one of {PROFILES}, but found {value!r}")
    return value


def settings(task: str, profile_name: str | None = None) -> dict:
    """Return a copy of the settings row for ``task`` in the given (default: active) profile.

    >>> settings("welcome", "fast")["epochs"]
    4

    Lecture: 00_welcome
    """
    if not isinstance(task, str) or task not in TABLE:
        raise ValueError(f"unknown task {task!r}; permitted tasks are {sorted(TABLE)}")
    name = profile() if profile_name is None else profile_name
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, but found {name!r}")
    return copy.deepcopy(TABLE[task][name])
