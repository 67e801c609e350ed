"""Device choice and seeding: the two calls at the top of every notebook.

Lecture: 00_welcome
"""

from __future__ import annotations

import os
import random

import numpy as np
import torch

_DEVICES = ("cpu", "cuda", "mps")


def get_device() -> torch.device:
    """Return the device to compute on: CUDA, then Apple MPS, then CPU.

    ``COURSE_DEVICE`` (e.g. ``cpu``, ``cuda``, ``cuda:1``, ``mps``) overrides the choice; asking for a device
    that is not available raises a ``ValueError`` saying so.

    Lecture: 00_welcome
    """
    forced = os.environ.get("COURSE_DEVICE", "").strip().lower()
    if forced:
        kind = forced.split(":")[0]
        if kind not in _DEVICES:
            raise ValueError(f"COURSE_DEVICE must name one of {_DEVICES} (e.g. 'cuda:0'), but found {forced!r}")
        if kind == "cuda" and not torch.cuda.is_available():
            raise ValueError(f"COURSE_DEVICE={forced!r} but no CUDA GPU is available; unset it to use the CPU")
        if kind == "mps" and not _mps_available():
            raise ValueError(f"COURSE_DEVICE={forced!r} but Apple MPS is not available; unset it to use the CPU")
        return torch.device(forced)
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
    if not isinstance(seed, int) or isinstance(seed, bool):
        raise TypeError(f"seed must be an int, but found {type(seed).__name__}")
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)
