"""Helpers of the bad-input suite (tests/test_bad_inputs.py and its rows in tests/bad_inputs/): inputs that are
wrong in one way each, and the modules and functions the rows call (all exported: see ``__all__``)."""

from __future__ import annotations

import os
import re

import numpy as np
import pytest
import torch
from torch import nn

import course_lib.colorization as col
import course_lib.depth as dp
import course_lib.pose as pose
import course_lib.restoration as rest
import course_lib.segmentation as seg
from course_lib.core import (
    check_memory,
    check_model_input,
    check_number,
    check_seed,
    check_tensor,
    fit,
    get_device,
    load_checkpoint,
    load_model,
    num_params,
    receptive,
    save_checkpoint,
    seed_everything,
    settings,
)
from course_lib.core.environment import environment_report

NAN = float("nan")
ALL_VALID = torch.ones(1, 1, 4, 4, dtype=torch.bool)


def nan_at(shape, index, fill=0.5):
    x = torch.full(shape, fill)
    x[index] = NAN
    return x


def _fit_with(loss_fn, loader, **kwargs):
    model = nn.Linear(2, 1)
    return fit(model, loader, loss_fn, epochs=1, progress=False, **kwargs)


def _with_env(key, value, fn):
    old = os.environ.get(key)
    os.environ[key] = value
    try:
        return fn()
    finally:
        if old is None:
            del os.environ[key]
        else:
            os.environ[key] = old


def _save(tmp, model=None, **kw):
    meta = {"task": "t", "command": "c", "profile": "fast", "seed": 0, "metrics": {}, **kw}
    return save_checkpoint(tmp / "m.pt", model if model is not None else nn.Linear(2, 2), **meta)


def _with_weight(value):
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight[0, 1] = value
    return model


def _saved_then_poisoned(tmp):
    path = _save(tmp)
    ckpt = torch.load(path, weights_only=True)
    ckpt["state_dict"]["weight"][1, 0] = NAN
    torch.save(ckpt, path)
    return path


def _nyu(tmp, *, drop=(), splits=None, mapping=None, mat_bytes=None, **arrays):
    """A tiny NYU Depth v2 folder in the real layout (HDF5 .mat with MATLAB's transposed axes, a v5 splits.mat,
    mapping_13.txt), with one thing changed; returns the folder."""
    import h5py
    import scipy.io

    n, h, w = 4, 3, 4
    rng = np.random.default_rng(0)
    data = {"images": rng.integers(0, 256, (n, 3, w, h), dtype=np.uint8),
            "depths": rng.uniform(0.5, 9.0, (n, w, h)).astype(np.float32),
            "labels": rng.integers(0, 895, (n, w, h)).astype(np.uint16), **arrays}
    if mat_bytes is not None:
        (tmp / "nyu_depth_v2_labeled.mat").write_bytes(mat_bytes)
    else:
        with h5py.File(tmp / "nyu_depth_v2_labeled.mat", "w") as f:
            for k, v in data.items():
                if k not in drop:
                    f[k] = v
    scipy.io.savemat(tmp / "splits.mat", splits or {"trainNdxs": [[1], [2]], "testNdxs": [[3], [4]]})
    np.savetxt(tmp / "mapping_13.txt", np.arange(894) % 14 if mapping is None else mapping, fmt="%d")
    return tmp


def _png(tmp, data: bytes):
    (tmp / "set").mkdir()
    (tmp / "set" / "01.png").write_bytes(data)
    return rest.read_png_folder("set", root=tmp)


def _truncated_png():
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 256, (32, 32), dtype=np.uint8)).save(buf, format="PNG")
    return buf.getvalue()[:120]


def _cli(tmp, *argv, env=None):
    """``python -m course_lib.train`` in process, with the training loop replaced by an alarm: every row must be
    refused before any training starts."""
    import course_lib.depth.recipe as depth_tasks  # where depth trains (fit)
    import course_lib.restoration.tasks as restoration_tasks
    import course_lib.train as train

    def started(*args, **kwargs):
        raise AssertionError("training started before the arguments were checked")

    saved = depth_tasks.fit, restoration_tasks.fit
    depth_tasks.fit = restoration_tasks.fit = started
    argv = [*argv, "--set", "n_train=4", "--set", "n_test=2"] if argv[0] == "depth" else list(argv)
    if "--out" not in argv:
        argv += ["--out", str(tmp / "out")]
    try:
        if env:
            return _with_env(*env, lambda: train.main(argv))
        return train.main(argv)
    finally:
        depth_tasks.fit, restoration_tasks.fit = saved


UP = torch.zeros(1, 3, 2, 2).index_fill_(1, torch.tensor([2]), 1.0)  # unit normals along z


def _without_direction(normals):
    out = normals.clone()
    out[0, :, 1, 0] = 0
    return out


def _saved_without_task(tmp_path):
    path = save_checkpoint(tmp_path / "m.pt", nn.Linear(1, 1), task="t", command="c", profile="fast", seed=0,
                           metrics={})
    ckpt = torch.load(path, weights_only=True)
    del ckpt["task"]
    torch.save(ckpt, path)
    return path


def _depth_net():
    return dp.build_model(settings("depth", "fast"), (1, 2, 3))


__all__ = [
    "ALL_VALID",
    "NAN",
    "UP",
    "_cli",
    "_depth_net",
    "_fit_with",
    "_nyu",
    "_png",
    "_save",
    "_saved_then_poisoned",
    "_saved_without_task",
    "_truncated_png",
    "_with_env",
    "_with_weight",
    "_without_direction",
    "check_memory",
    "check_model_input",
    "check_number",
    "check_seed",
    "check_tensor",
    "col",
    "dp",
    "environment_report",
    "fit",
    "get_device",
    "load_checkpoint",
    "load_model",
    "nan_at",
    "nn",
    "np",
    "num_params",
    "os",
    "pose",
    "pytest",
    "re",
    "receptive",
    "rest",
    "save_checkpoint",
    "seed_everything",
    "seg",
    "settings",
    "torch",
]
