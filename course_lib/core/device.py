"""Device choice and seeding: the two calls at the top of every notebook.

Lecture: 00_welcome
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

from .checks import check_seed

_DEVICES = ("cpu", "cuda", "mps")


def resolve_device(value, name: str = "device") -> torch.device:
    """``value`` (a ``torch.device`` or a name such as ``"cpu"``, ``"cuda:1"``, ``"mps"``) as a device this
    machine has; else a ``ValueError`` naming ``name`` and what came.

    The one rule for every device argument and setting (``COURSE_DEVICE``, ``map_location``, ``device=``): torch's
    own message for ``"cpu:abc"`` ("Invalid device string") names neither the setting nor the choices, and a
    missing GPU otherwise surfaces as a driver error at the first ``.to(device)``.

    Lecture: 00_welcome
    """
    if isinstance(value, torch.device):
        device = value
    elif isinstance(value, str):
        text = value.strip().lower()
        kind, sep, index = text.partition(":")
        if kind not in _DEVICES or (sep and not index.isdigit()):
            raise ValueError(f"{name} must name a device (one of {_DEVICES}, with an optional index ≥ 0 such as "
                             f"'cuda:0'), but found {value!r}")
        device = torch.device(text)
    else:
        raise TypeError(f"{name} must be a device name such as 'cpu' or 'cuda:0', but found "
                        f"{type(value).__name__} ({value!r})")
    if device.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise ValueError(f"{name}={value!r} but no CUDA GPU is available; unset it to use the CPU")
        if device.index is not None and device.index >= count:
            raise ValueError(f"{name}={value!r} but this machine has {count} CUDA GPU(s) (cuda:0 to "
                             f"cuda:{count - 1})")
    elif device.type == "mps" and not _mps_available():
        raise ValueError(f"{name}={value!r} but Apple MPS is not available; unset it to use the CPU")
    elif device.type not in _DEVICES:
        raise ValueError(f"{name} must name a device (one of {_DEVICES}), but found {value!r}")
    return device


def get_device() -> torch.device:
    """Return the device to compute on: CUDA, then Apple MPS, then CPU.

    ``COURSE_DEVICE`` (e.g. ``cpu``, ``cuda``, ``cuda:1``, ``mps``) overrides the choice; asking for a device
    that is not available, or a malformed name such as ``cpu:abc``, raises a ``ValueError`` saying so.

    Lecture: 00_welcome
    """
    forced = os.environ.get("COURSE_DEVICE", "").strip()
    if forced:
        return resolve_device(forced, "COURSE_DEVICE")
    if torch.cuda.is_available():
        return torch.device("cuda")
    if _mps_available():
        return torch.device("mps")
    return torch.device("cpu")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def seed_everything(seed: int) -> torch.Generator:
    """Seed Python, NumPy and torch (all devices) so that a re-run gives the same numbers on the same machine.

    "The same numbers" holds bit for bit only on one machine at a fixed number of CPU threads
    (``torch.get_num_threads()``): parallel reductions sum in an order that depends on the thread count, so
    the last bits differ between a 2-core laptop and a 16-core server, and GPU kernels differ again. Results
    agree to within training noise everywhere; the tests compare with tolerances for that reason.

    Returns a ``torch.Generator`` seeded with ``seed`` for code that wants its own stream (data loaders).

    Lecture: 00_welcome
    """
    check_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
