"""The environment check every learner runs first: versions, device, profile.

Lecture: 00_welcome
"""

from __future__ import annotations

import importlib.metadata
import os
import platform

import torch

from .device import get_device
from .profiles import profile

PACKAGES = ("torch", "torchvision", "numpy", "scipy", "matplotlib", "scikit-image", "ipywidgets", "nbgrader")


def environment_report() -> dict:
    """Return a flat dict of what this course runs on: Python and package versions, device, profile, threads.

    A package that is not installed shows as ``"missing"`` rather than raising, so the report itself always
    works and says what to install.

    Lecture: 00_welcome
    """
    from course_lib import __version__

    report = {"python": platform.python_version(), "course_lib": __version__}
    for name in PACKAGES:
        try:
            report[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            report[name] = "missing"
    try:
        device = get_device()
    except (ValueError, RuntimeError) as err:  # e.g. COURSE_DEVICE=cuda on a machine without CUDA
        report["device"] = f"unavailable: {err}"
        report["gpu"] = "none"
    else:
        report["device"] = str(device)
        report["gpu"] = torch.cuda.get_device_name(device) if device.type == "cuda" else "none"
    report["profile"] = profile()
    report["COURSE_PROFILE"] = os.environ.get("COURSE_PROFILE", "(unset)")
    report["cpu_threads"] = torch.get_num_threads()
    return report
