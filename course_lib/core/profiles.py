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
        "fast": {"n_train": 256, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 32, "width": 16,
                 "lr": 2e-3, "simple": False},
        "full": {"n_train": 8000, "n_test": 500, "size": 128, "epochs": 30, "batch_size": 64, "width": 64,
                 "lr": 1e-3, "simple": False},
    },
    "localization": {
        "fast": {"n_train": 256, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 32, "width": 16},
        "full": {"n_train": 8000, "n_test": 500, "size": 128, "epochs": 30, "batch_size": 64, "width": 64},
    },
    "fcn": {
        "fast": {"n_train": 256, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 32, "width": 16, "lr": 2e-3,
                 "backbone": "vgg", "patch": 26, "n_patches": 8192, "patch_epochs": 2},
        "full": {"n_train": 6000, "n_test": 500, "size": 128, "epochs": 40, "batch_size": 32, "width": 64,
                 "lr": 1e-3, "backbone": "vgg16_bn", "patch": 26, "n_patches": 100000, "patch_epochs": 10},
    },
    "depth": {
        "fast": {"n_train": 256, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 32, "width": 16},
        "full": {"n_train": 6000, "n_test": 500, "size": 128, "epochs": 40, "batch_size": 32, "width": 64},
    },
    "restoration": {
        "fast": {"n_patches": 2048, "patch": 32, "epochs": 2, "batch_size": 64, "width": 16},
        "full": {"n_patches": 50000, "patch": 48, "epochs": 30, "batch_size": 128, "width": 64},
    },
    "colorization": {
        "fast": {"n_train": 256, "n_test": 64, "size": 64, "epochs": 2, "batch_size": 32, "width": 16},
        "full": {"n_train": 8000, "n_test": 500, "size": 128, "epochs": 40, "batch_size": 64, "width": 64},
    },
}


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
    3

    Lecture: 00_welcome
    """
    if task not in TABLE:
        raise ValueError(f"unknown task {task!r}; permitted tasks are {sorted(TABLE)}")
    name = profile() if profile_name is None else profile_name
    if name not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, but found {name!r}")
    return copy.deepcopy(TABLE[task][name])
