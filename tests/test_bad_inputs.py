"""The permanent bad-input suite: every public boundary of course_lib answers a wrong input with a clear error.

One row per (public function, bad input): the error type, and a fragment of the message that names the offending
value (a shape, a dtype, a range, a number, a path). A new subpackage adds its rows here; a row whose call does
not raise, raises something else, or raises without naming the value fails.

Each row is ``(id, thunk, error type, regex)``; the thunk builds the bad input and calls the function.
"""

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


ROWS = [
    # ---- core.checks: NaN never passes a range check; the helpers name the value
    ("check_tensor/nan-in-range", lambda tmp: check_tensor(nan_at((2, 3), (1, 2)), "x", min_value=0, max_value=1),
     ValueError, r"x must not contain NaN; it contains 1 NaN values \(first at index \(1, 2\)\)"),
    ("check_tensor/inf-over-max", lambda tmp: check_tensor(torch.tensor([0.0, float("inf")]), "x", max_value=1),
     ValueError, r"x must have values in \[-inf, 1\]; got values in \[0, inf\]"),
    ("check_model_input/float64", lambda tmp: check_model_input(torch.zeros(1, 3, 4, 4, dtype=torch.float64),
                                                                "images", nn.Conv2d(3, 1, 1), dims="B C H W"),
     TypeError, r"images must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("check_seed/float", lambda tmp: check_seed(1.7), TypeError, r"seed must be an int ≥ 0, but found float \(1.7\)"),
    ("check_seed/negative", lambda tmp: check_seed(-1), ValueError, r"seed must be an int ≥ 0, but found -1"),
    ("check_seed/bool", lambda tmp: check_seed(True), TypeError, r"but found bool \(True\)"),
    ("check_seed/too-large", lambda tmp: check_seed(2**70), ValueError, r"seed must be below 2\*\*63"),
    ("check_tensor/empty", lambda tmp: check_tensor(torch.zeros(0, 3), "x", dims="B C", nonempty=True), ValueError,
     r"x must not be empty \(B, C\); got \(0, 3\)"),
    ("check_number/nan", lambda tmp: check_number(NAN, "lam", low=0, high=1), ValueError,
     r"lam must be a finite number in \[0, 1\], but found nan"),
    ("check_number/str", lambda tmp: check_number("0.5", "lam", low=0, high=1), TypeError,
     r"lam must be a number, but found str \('0.5'\)"),
    ("check_memory/estimate-and-hint", lambda tmp: check_memory(3e14, "a kernel", "use a smaller sigma"), ValueError,
     r"a kernel needs about 300 TB; this machine allows .* for one array: use a smaller sigma"),
    ("settings/unknown-task", lambda tmp: settings("nope"), ValueError, r"unknown task 'nope'"),
    # ---- core.device: one rule for COURSE_DEVICE, map_location and device= arguments
    ("get_device/cpu-abc", lambda tmp: _with_env("COURSE_DEVICE", "cpu:abc", get_device), ValueError,
     r"COURSE_DEVICE must name a device \(one of \('cpu', 'cuda', 'mps'\).*but found 'cpu:abc'"),
    ("get_device/cuda-99", lambda tmp: _with_env("COURSE_DEVICE", "cuda:99", get_device), ValueError,
     r"COURSE_DEVICE='cuda:99' but (no CUDA GPU|this machine has)"),
    ("seed_everything/negative", lambda tmp: seed_everything(-1), ValueError, r"seed must be an int ≥ 0, but found -1"),
    ("num_params/not-a-module", lambda tmp: num_params([1, 2]), TypeError, r"but found list"),
    # ---- core.receptive
    ("receptive_field/kernel-0", lambda tmp: receptive.receptive_field([(3, 1), (0, 1)]), ValueError,
     r"layer 1 kernel must be ≥ 1, but found 0"),
    ("receptive_field/stride-0", lambda tmp: receptive.receptive_field([(3, 0)]), ValueError,
     r"layer 0 stride must be ≥ 1, but found 0"),
    ("receptive_field/negative-kernel", lambda tmp: receptive.receptive_field([(-3, 1)]), ValueError,
     r"layer 0 kernel must be ≥ 1, but found -3"),
    ("receptive_field/negative-padding", lambda tmp: receptive.receptive_field([(3, 1, -1)]), ValueError,
     r"layer 0 padding must be an int ≥ 0, but found -1"),
    ("conv_output_size/stride-0", lambda tmp: receptive.conv_output_size(32, 3, stride=0), ValueError,
     r"stride must be ≥ 1, but found 0"),
    # ---- core.training.fit
    ("fit/empty-loader", lambda tmp: _fit_with(lambda m, b: m(b).mean(), []), ValueError,
     r"train_loader gave no batches"),
    ("fit/non-scalar-loss", lambda tmp: _fit_with(lambda m, b: m(b), [torch.zeros(4, 2)]), ValueError,
     r"loss_fn must return a scalar tensor .*; got \(4, 1\)"),
    ("fit/nan-loss-names-optimizer-lr",
     lambda tmp: fit(nn.Linear(2, 1), [torch.zeros(1, 2)], lambda m, b: m(b).mean() * NAN, epochs=1,
                     progress=False, optimizer=torch.optim.SGD(nn.Linear(2, 1).parameters(), lr=0.25)),
     FloatingPointError, r"loss became nan .*\(now 0.25\)"),
    # ---- core.checkpoints
    ("load_checkpoint/missing-task", lambda tmp: load_checkpoint(_saved_without_task(tmp)), ValueError,
     r"damaged convnet-course checkpoint: metadata \['task'\] missing"),
    ("load_checkpoint/missing-file", lambda tmp: load_checkpoint(tmp / "none.pt", task="fcn-8s"), FileNotFoundError,
     r"none.pt does not exist. Make it with `python -m course_lib.train fcn`"),
    ("save_checkpoint/numpy-scalar-in-config", lambda tmp: _save(tmp, config={"lr": np.float64(1e-3)}), TypeError,
     r"config\['lr'\] is a numpy.float64 .*weights_only=True.*float\(\)"),
    ("save_checkpoint/object-in-nested-config", lambda tmp: _save(tmp, config={"a": [1, {"b": object()}]}), TypeError,
     r"config\['a'\]\[1\]\['b'\] is a builtins.object"),
    ("save_checkpoint/nan-weights", lambda tmp: _save(tmp, _with_weight(NAN)), ValueError,
     r"model has 1 NaN or infinite values in 'weight'"),
    ("save_checkpoint/half-overflow", lambda tmp: _save(tmp, _with_weight(1e6), half=True), ValueError,
     r"values up to 1e\+06 in 'weight', beyond float16's range ±65504: save with half=False"),
    ("save_checkpoint/metric-not-a-number", lambda tmp: _save(tmp, metrics={"psnr": "good"}), ValueError,
     r"metrics\['psnr'\] must be a number \(not NaN\), but found str \('good'\)"),
    ("save_checkpoint/float-seed", lambda tmp: _save(tmp, seed=1.7), TypeError,
     r"seed must be an int ≥ 0, but found float"),
    ("save_checkpoint/path-is-a-folder", lambda tmp: save_checkpoint(tmp, nn.Linear(1, 1), task="t", command="c",
                                                                     profile="fast", seed=0, metrics={}),
     IsADirectoryError, r"path .* is a directory; give the checkpoint's file name"),
    ("save_checkpoint/unknown-profile", lambda tmp: _save(tmp, profile="medium"), ValueError,
     r"profile must be one of \('fast', 'full'\), but found 'medium'"),
    ("load_checkpoint/nan-weights", lambda tmp: load_checkpoint(_saved_then_poisoned(tmp)), ValueError,
     r"m.pt has 1 NaN or infinite values in 'weight'"),
    ("load_model/unavailable-device", lambda tmp: load_model(_save(tmp), lambda c: nn.Linear(2, 2), task="t",
                                                             device="cuda:99"),
     ValueError, r"device='cuda:99' but (no CUDA GPU|this machine has)"),
    ("load_checkpoint/bad-map-location", lambda tmp: load_checkpoint(tmp / "x.pt", map_location="gpu7"), ValueError,
     r"map_location must name a device .* but found 'gpu7'"),
    # ---- the train CLI checks its arguments before it trains
    ("train/models-empty", lambda tmp: _cli(tmp, "restoration", "--set", "models="), SystemExit,
     r"models must be a comma-separated list of names .* without empty entries, but found ''"),
    ("train/models-repeated", lambda tmp: _cli(tmp, "restoration", "--set", "models=mlp,mlp"), SystemExit,
     r"models must not name an entry twice, but found 'mlp,mlp'"),
    ("train/sigma-1e300", lambda tmp: _cli(tmp, "restoration", "--set", "sigma=1e300"), SystemExit,
     r"sigma must be in \[0, 255\], but found 1e\+300"),
    ("train/eval-crop-beyond-photos", lambda tmp: _cli(tmp, "restoration", "--set", "eval_crop=1000"), SystemExit,
     r"eval_crop must be in \[1, 300\], but found 1000"),
    ("train/epochs-0", lambda tmp: _cli(tmp, "depth", "--set", "epochs=0"), SystemExit,
     r"epochs must be an int ≥ 1, but found 0"),
    ("train/lr-nan", lambda tmp: _cli(tmp, "depth", "--set", "lr=nan"), SystemExit,
     r"lr must be a finite number > 0, but found nan"),
    ("train/depth-lam-2", lambda tmp: _cli(tmp, "depth", "--set", "lam=2"), SystemExit,
     r"lam must be a finite number in \[0, 1\] .*, but found 2.0"),
    ("train/depth-size-48", lambda tmp: _cli(tmp, "depth", "--set", "size=48"), SystemExit,
     r"size must be a multiple of 32 .*, but found 48"),
    ("train/depth-variants-empty", lambda tmp: _cli(tmp, "depth", "--set", "variants=,"), SystemExit,
     r"variants must be a comma-separated list of names"),
    ("train/negative-seed", lambda tmp: _cli(tmp, "depth", "--seed", "-1"), SystemExit,
     r"--seed must be an int ≥ 0, but found -1"),
    ("train/out-is-a-file", lambda tmp: _cli(tmp, "depth", "--out", str((tmp / "f", (tmp / "f").write_text("x"))[0])),
     SystemExit, r"--out .*/f is a file; give a folder for the checkpoints"),
    ("train/out-not-creatable", lambda tmp: _cli(tmp, "depth", "--out", "/proc/course-out"), SystemExit,
     r"--out /proc/course-out cannot be created"),
    ("train/course-device-cpu-abc", lambda tmp: _cli(tmp, "depth", env=("COURSE_DEVICE", "cpu:abc")), SystemExit,
     r"COURSE_DEVICE must name a device .* but found 'cpu:abc'"),
    # ---- pose
    ("heatmap_argmax/nan", lambda tmp: pose.heatmap_argmax(nan_at((1, 2, 4, 4), (0, 1, 2, 3))), ValueError,
     r"heatmaps must be finite; it contains 1 NaN or inf values \(first at index \(0, 1, 2, 3\)\)"),
    ("heatmap_argmax/rank", lambda tmp: pose.heatmap_argmax(torch.zeros(2, 64, 64)), ValueError,
     r"heatmaps must be \(B, J, H, W\); got \(2, 64, 64\)"),
    ("PartDetector/float64", lambda tmp: pose.PartDetector(9, width=4)(torch.zeros(1, 3, 8, 8, dtype=torch.float64)),
     TypeError, r"images must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("PartDetector/0-255", lambda tmp: pose.PartDetector(9, width=4)(torch.full((1, 3, 8, 8), 200.0)), ValueError,
     r"images must have values in \[0.0, 1.0\]; got values in \[200, 200\]"),
    ("PartDetector/channels", lambda tmp: pose.PartDetector(9, width=4)(torch.zeros(1, 1, 8, 8)), ValueError,
     r"images must have shape \(B, 3, H, W\); got \(1, 1, 8, 8\)"),
    ("SyntheticPose/float-seed", lambda tmp: pose.SyntheticPose("train", 2, 64, seed=1.7), TypeError,
     r"seed must be an int ≥ 0, but found float \(1.7\)"),
    ("detection_rate/shape", lambda tmp: pose.detection_rate(torch.zeros(2, 9, 2), torch.zeros(2, 9, 3), 10),
     ValueError, r"\(2, 9, 3\)"),
    # ---- segmentation
    ("FCN/float64", lambda tmp: seg.FCN(3, "32s", width=2)(torch.zeros(1, 3, 32, 32, dtype=torch.float64)),
     TypeError, r"images must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("FCN/channels", lambda tmp: seg.FCN(3, "32s", width=2)(torch.zeros(1, 4, 32, 32)), ValueError,
     r"images must have shape \(B, 3, H, W\); got \(1, 4, 32, 32\)"),
    ("FCN/0-255", lambda tmp: seg.FCN(3, "32s", width=2)(torch.full((1, 3, 32, 32), 255.0)), ValueError,
     r"images must have values in \[0.0, 1.0\]; got values in \[255, 255\]"),
    ("Upsample/float64", lambda tmp: seg.Upsample(3, 2)(torch.zeros(1, 3, 4, 4, dtype=torch.float64)), TypeError,
     r"x must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("crop_like/negative-offset", lambda tmp: seg.crop_like(torch.zeros(1, 1, 8, 8), (4, 4), -1), ValueError,
     r"offset must be an int ≥ 0, but found -1"),
    ("crop_like/too-small", lambda tmp: seg.crop_like(torch.zeros(1, 1, 4, 4), (4, 4), 1), ValueError,
     r"cannot crop \(4, 4\) to \(4, 4\) at offset 1"),
    ("SyntheticScenes/negative-seed", lambda tmp: seg.SyntheticScenes("train", 2, 32, seed=-1), ValueError,
     r"seed must be an int ≥ 0, but found -1"),
    ("segmentation_scores/nan", lambda tmp: seg.segmentation_scores(torch.tensor([[NAN, 1.0], [0.0, 1.0]])),
     ValueError, r"NaN"),
    ("confusion_matrix/label-out-of-range",
     lambda tmp: seg.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0, 7]), 2), ValueError, r"found \[7\]"),
    # ---- colorization
    ("rgb_to_lab/nan", lambda tmp: col.rgb_to_lab(nan_at((1, 3, 2, 2), (0, 0, 1, 1))), ValueError,
     r"rgb must not contain NaN; it contains 1 NaN values \(first at index \(0, 0, 1, 1\)\)"),
    ("rgb_to_lab/0-255", lambda tmp: col.rgb_to_lab(torch.full((1, 3, 2, 2), 255.0)), ValueError,
     r"got values in \[255, 255\]"),
    ("annealed_mean/nan", lambda tmp: col.annealed_mean(nan_at((1, 313, 1, 1), (0, 5, 0, 0), 1 / 313), col.ab_bins()),
     ValueError, r"NaN"),
    ("encode_nearest/nan", lambda tmp: col.encode_nearest(nan_at((1, 2, 2, 2), (0, 1, 0, 1)), col.ab_bins()),
     ValueError, r"ab must be finite; it contains 1 NaN or inf values \(first at index \(0, 1, 0, 1\)\)"),
    ("ColorizationNet/float64",
     lambda tmp: col.ColorizationNet(width=4)(torch.zeros(1, 1, 8, 8, dtype=torch.float64)), TypeError,
     r"L must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("ColorizationNet/L-in-0-1-range-ok-but-255-not",
     lambda tmp: col.ColorizationNet(width=4)(torch.full((1, 1, 8, 8), 255.0)), ValueError,
     r"L must have values in \[0.0, 100.0\]; got values in \[255, 255\]"),
    ("SyntheticColorScenes/negative-seed", lambda tmp: col.SyntheticColorScenes("train", 2, 16, seed=-1), ValueError,
     r"seed must be an int ≥ 0, but found -1"),
    # ---- depth
    ("SyntheticRooms/negative-seed", lambda tmp: dp.SyntheticRooms("train", n=2, size=32, seed=-1), ValueError,
     r"seed must be an int ≥ 0, but found -1"),
    ("SyntheticRooms/split", lambda tmp: dp.SyntheticRooms("val2", n=2, size=32), ValueError,
     r"split must be one of \('train', 'test'\), but found 'val2'"),
    ("MultiScaleNet/float64", lambda tmp: _depth_net()(torch.zeros(1, 3, 48, 64, dtype=torch.float64)), TypeError,
     r"x must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("MultiScaleNet/0-255", lambda tmp: _depth_net()(torch.full((1, 3, 48, 64), 255.0)), ValueError,
     r"x must have values in \[0.0, 1.0\]; got values in \[255, 255\]"),
    ("MultiScaleNet/scales", lambda tmp: dp.build_model(settings("depth", "fast"), (4,)), ValueError,
     r"scales must be a non-empty subset of \(1, 2, 3\), but found \(4,\)"),
    ("depth_metrics/negative-depth",
     lambda tmp: dp.depth_metrics(-torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 4), ALL_VALID),
     ValueError, r"pred must be > 0 on valid pixels \(log depth is taken\); got minimum -1"),
    ("depth_metrics/empty-mask",
     lambda tmp: dp.depth_metrics(torch.ones(1, 1, 4, 4), torch.ones(1, 1, 4, 4), ~ALL_VALID),
     ValueError, r"mask selects no pixel in image\(s\) \[0\]"),
    ("depth_metrics/nan", lambda tmp: dp.depth_metrics(nan_at((1, 1, 4, 4), (0, 0, 2, 1), 1.0), torch.ones(1, 1, 4, 4)),
     ValueError, r"pred must be finite; it contains 1 NaN or inf values \(first at index \(0, 0, 2, 1\)\)"),
    ("scale_invariant_loss/shapes",
     lambda tmp: dp.scale_invariant_loss(torch.zeros(1, 1, 4, 4), torch.zeros(1, 1, 4, 5)), ValueError,
     r"pred_log and gt_log must have the same shape; got \(1, 1, 4, 4\) and \(1, 1, 4, 5\)"),
    ("normal_metrics/channels", lambda tmp: dp.normal_metrics(torch.zeros(1, 2, 4, 4), torch.zeros(1, 3, 4, 4)),
     ValueError, r"pred must have shape \(B, 3, H, W\); got \(1, 2, 4, 4\)"),
    ("near_discontinuity/labels-shape",
     lambda tmp: dp.near_discontinuity(torch.ones(1, 3, 4, 4), torch.zeros(1, 4, 5, dtype=torch.long)), ValueError,
     r"labels must have shape \(1, 4, 4\) \(B, H, W of the normals\); got \(1, 4, 5\)"),
    ("near_discontinuity/angle",
     lambda tmp: dp.near_discontinuity(torch.ones(1, 3, 4, 4), torch.zeros(1, 4, 4, dtype=torch.long), angle=200),
     ValueError, r"angle must be in \(0, 180\) degrees; got 200"),
    ("depth_metrics/empty-batch", lambda tmp: dp.depth_metrics(torch.ones(0, 1, 4, 4), torch.ones(0, 1, 4, 4)),
     ValueError, r"the prediction must not be empty; got \(0, 1, 4, 4\)"),
    ("scale_invariant_loss/lam-above-1", lambda tmp: dp.scale_invariant_loss(torch.zeros(1, 1, 4, 4),
                                                                            torch.zeros(1, 1, 4, 4), lam=2.0),
     ValueError, r"lam must be a finite number in \[0, 1\] \(1: scale invariant.*\), but found 2.0"),
    ("scale_invariant_loss/empty-batch", lambda tmp: dp.scale_invariant_loss(torch.zeros(0, 1, 4, 4),
                                                                            torch.zeros(0, 1, 4, 4)),
     ValueError, r"pred_log must not be empty \(B, 1, H, W\); got \(0, 1, 4, 4\)"),
    ("normals_loss/gt-not-unit", lambda tmp: dp.normals_loss(UP, 5 * UP), ValueError,
     r"gt must hold unit normals on valid pixels; got lengths in \[5, 5\]"),
    ("labels_loss/all-ignored", lambda tmp: dp.labels_loss(torch.zeros(1, 4, 2, 2), torch.full((1, 2, 2), 255)),
     ValueError, r"labels are all ignore_index=255: no pixel to compute the loss on"),
    ("labels_loss/label-beyond-classes", lambda tmp: dp.labels_loss(torch.zeros(1, 4, 2, 2), torch.full((1, 2, 2), 7)),
     ValueError, r"labels must be in \[0, 3\] or ignore_index=255; found \[7\]"),
    ("labels_loss/nan-logits", lambda tmp: dp.labels_loss(nan_at((1, 4, 2, 2), (0, 1, 0, 0)),
                                                          torch.zeros(1, 2, 2, dtype=torch.long)),
     ValueError, r"logits must be finite; it contains 1 NaN"),
    ("angular_error/zero-length", lambda tmp: dp.angular_error(_without_direction(UP), UP), ValueError,
     r"pred has 1 zero-length normals \(no pixel may have one; mask them out\), first at index \(0, 0, 1, 0\)"),
    ("per_image_normal_mean/zero-length-valid", lambda tmp: dp.per_image_normal_mean(UP, _without_direction(UP)),
     ValueError, r"gt has 1 zero-length normals on valid pixels"),
    ("normal_metrics/empty-batch", lambda tmp: dp.normal_metrics(torch.ones(0, 3, 2, 2), torch.ones(0, 3, 2, 2)),
     ValueError, r"the prediction must not be empty; got \(0, 1, 2, 2\)"),
    ("delta_accuracy/threshold-below-1", lambda tmp: dp.reference("delta_accuracy")(
        torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 2, dtype=torch.bool), t=0.5),
     ValueError, r"t must be a finite number in \(1, inf\) \(a ratio threshold such as 1.25\), but found 0.5"),
    ("SyntheticRooms/memory", lambda tmp: dp.SyntheticRooms("train", n=256, size=40_000), ValueError,
     r"SyntheticRooms\(n=256, size=40000\) needs about .* TB; .*use fewer rooms \(n\) or a smaller size"),
    ("SyntheticRooms/chunk-0", lambda tmp: dp.SyntheticRooms("train", n=2, size=32, chunk=0), ValueError,
     r"chunk must be ≥ 1, but found 0"),
    ("SyntheticRooms/device", lambda tmp: dp.SyntheticRooms("train", n=2, size=32, device="gpu7"), ValueError,
     r"device must name a device .* but found 'gpu7'"),
    ("room_seed_sequence/split", lambda tmp: dp.room_seed_sequence(0, "val", 0), ValueError,
     r"split must be one of \('train', 'test'\), but found 'val'"),
    ("sample_room/not-a-generator", lambda tmp: dp.sample_room(0), TypeError,
     r"rng must be a numpy.random.Generator .*, but found int"),
    ("scale_room/zero", lambda tmp: dp.scale_room(dp.sample_room(np.random.default_rng(0)), 0), ValueError,
     r"s must be a finite number in \(0, inf\) \(a scale factor\), but found 0.0"),
    ("render_rooms/no-rooms", lambda tmp: dp.render_rooms([], 12, 16), ValueError,
     r"rooms must be a non-empty list of sample_room\(\) dicts, but found \[\]"),
    ("MultiScaleNet/one-image-in-training", lambda tmp: dp.MultiScaleNet(image_size=(16, 16), width=2, fc_width=4,
                                                                         coarse=2)(torch.rand(1, 3, 16, 16)),
     ValueError, r"x is one image of 16 × 16 in training mode: .* use a batch of ≥ 2 or model.eval\(\)"),
    ("MultiScaleNet/width-0", lambda tmp: dp.MultiScaleNet(width=0), ValueError, r"width must be ≥ 1, but found 0"),
    ("build_model/missing-keys", lambda tmp: dp.build_model({"size": 64}, (1,)), ValueError,
     r"cfg lacks \['width', 'fc_width', 'coarse'\]: pass the 'depth' settings row"),
    ("predict/batch-size-0", lambda tmp: dp.predict(_depth_net(), torch.rand(1, 3, 48, 64), batch_size=0),
     ValueError, r"batch_size must be ≥ 1, but found 0"),
    ("flip_batch/flip-shape", lambda tmp: dp.flip_batch({"rgb": torch.rand(2, 3, 4, 4)},
                                                        torch.ones(3, dtype=torch.bool)),
     ValueError, r"flip must have shape \(2\); got \(3,\)"),
    ("load_or_train/device", lambda tmp: dp.load_or_train("depth-s1", cfg=settings("depth", "fast"), device="gpu7"),
     ValueError, r"device must name a device .* but found 'gpu7'"),
    ("nyu_depth_v2/missing-folder", lambda tmp: dp.nyu_depth_v2(tmp / "nyu", split="train"), FileNotFoundError,
     r"nyu.*datasets/nyu_depth_v2/README.md"),
    ("nyu_depth_v2/mat-not-hdf5", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, mat_bytes=b"MATLAB 5.0" * 60)),
     ValueError, r"nyu_depth_v2_labeled.mat is not a readable MATLAB v7.3 \(HDF5\) file"),
    ("nyu_depth_v2/missing-depths", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, drop=("depths",))), ValueError,
     r"labeled.mat must hold the arrays 'images', 'depths' and 'labels'; missing \['depths'\]"),
    ("nyu_depth_v2/images-shape", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, images=np.zeros((4, 4, 3), np.uint8))),
     ValueError, r"labeled.mat: images must be \(N, 3, W, H\) = \(4, 3, 4, 3\) .*; got \(4, 4, 3\)"),
    ("nyu_depth_v2/images-float", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, images=np.zeros((4, 3, 4, 3), np.float32))),
     ValueError, r"labeled.mat: images must be uint8 \(0..255\); got float32"),
    ("nyu_depth_v2/labels-shape", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, labels=np.zeros((4, 4, 5), np.uint16))),
     ValueError, r"labeled.mat: labels must be \(N, W, H\) = \(4, 4, 3\) like depths; got \(4, 4, 5\)"),
    ("nyu_depth_v2/labels-float", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, labels=np.zeros((4, 4, 3), np.float32))),
     ValueError, r"labeled.mat: labels must be integer raw label ids .*; got float32"),
    ("nyu_depth_v2/0-based-split", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, splits={"trainNdxs": [[0], [1]],
                                                                                  "testNdxs": [[2], [3]]})),
     ValueError, r"splits.mat: trainNdxs must hold MATLAB's 1-based image numbers; found 0"),
    ("nyu_depth_v2/split-beyond-file", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, splits={"trainNdxs": [[1], [9]],
                                                                                      "testNdxs": [[3], [4]]})),
     ValueError, r"splits.mat: trainNdxs holds image number 9, but the labelled .mat has 4 images"),
    ("nyu_depth_v2/splits-overlap", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, splits={"trainNdxs": [[1], [3]],
                                                                                   "testNdxs": [[3], [4]]})),
     ValueError, r"splits.mat: trainNdxs and testNdxs share 1 image\(s\), e.g. 3"),
    ("nyu_depth_v2/split-key-missing", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, splits={"train": [[1]],
                                                                                      "testNdxs": [[3]]})),
     ValueError, r"splits.mat must hold the variables 'trainNdxs' and 'testNdxs'; 'trainNdxs' is missing"),
    ("nyu_depth_v2/mapping-too-short", lambda tmp: dp.nyu_depth_v2(_nyu(tmp, mapping=np.ones(100))), ValueError,
     r"mapping_13.txt must hold 894 lines, one class id for each NYU raw label; got 100 lines"),
    ("nyu_depth_v2/mapping-not-numbers", lambda tmp: dp.nyu_depth_v2((_nyu(tmp), (tmp / "mapping_13.txt")
                                                                      .write_text("bed\n" * 894))[0]),
     ValueError, r"mapping_13.txt must hold one integer class id per line"),
    ("nyu_depth_v2/size-1", lambda tmp: dp.nyu_depth_v2(_nyu(tmp), size=1), ValueError,
     r"size must be ≥ 4 \(images are size × 3·size/4 pixels\), but found 1"),
    ("nyu_depth_v2/index-out-of-range", lambda tmp: dp.nyu_depth_v2(_nyu(tmp))[2], IndexError,
     r"index 2 out of range for the 2 train images"),
    ("nyu_depth_v2/raw-label-beyond-mapping",
     lambda tmp: dp.nyu_depth_v2(_nyu(tmp, labels=np.full((4, 4, 3), 2000, np.uint16)))[0], ValueError,
     r"labeled.mat: image 1 has raw labels in \[2000, 2000\], but the class mapping covers 0..894"),
    # ---- restoration
    ("psnr/uint8-default-range", lambda tmp: rest.psnr(torch.zeros(1, 1, 4, 4, dtype=torch.uint8),
                                                       torch.ones(1, 1, 4, 4, dtype=torch.uint8)),
     ValueError, r"x is uint8 \(0..255\), so data_range must be 255; got data_range=1.0"),
    ("psnr/0-255-floats-default-range", lambda tmp: rest.psnr(torch.full((1, 1, 4, 4), 200.0), torch.zeros(1, 1, 4, 4)),
     ValueError, r"x has values in \[200, 200\], far outside data_range=1.0 .*0..255 images need data_range=255"),
    ("psnr/empty-batch", lambda tmp: rest.psnr(torch.zeros(0, 1, 4, 4), torch.zeros(0, 1, 4, 4)), ValueError,
     r"x must not be empty \(N, C, H, W\); got \(0, 1, 4, 4\)"),
    ("psnr/infinite-range", lambda tmp: rest.psnr(torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4),
                                                  data_range=float("inf")),
     ValueError, r"data_range must be a positive number .*but found inf"),
    ("PatchMLP.denoise/stride-beyond-patch", lambda tmp: rest.PatchMLP(patch=5, hidden=4, layers=1).denoise(
        torch.rand(1, 1, 16, 16), stride=7), ValueError,
     r"stride must be ≤ the patch size 5 so that every pixel is covered, but found 7"),
    ("PatchMLP.denoise/batch-size-0", lambda tmp: rest.PatchMLP(patch=5, hidden=4, layers=1).denoise(
        torch.rand(1, 1, 16, 16), batch_size=0), ValueError, r"batch_size must be ≥ 1, but found 0"),
    ("extract_patches/patch-beyond-image", lambda tmp: rest.extract_patches(torch.rand(1, 1, 4, 4), 5, 1), ValueError,
     r"patch 5 is larger than the image x \(4 × 4\)"),
    ("extract_patches/off-grid", lambda tmp: rest.extract_patches(torch.rand(1, 1, 8, 8), 3, 2), ValueError,
     r"windows of patch 3 at stride 2 do not tile the image x \(8 × 8\)"),
    ("average_patches/wrong-count", lambda tmp: rest.average_patches(torch.rand(1, 7, 9), (8, 8), 3, 1), ValueError,
     r"patches must be \(N, 36, C·3²\) for 8 × 8 at stride 1; got \(1, 7, 9\)"),
    ("apply_mask/nan-value", lambda tmp: rest.apply_mask(torch.rand(1, 1, 4, 4), torch.zeros(1, 1, 4, 4), value=NAN),
     ValueError, r"value must be a finite number in \[0, 1\] .*, but found nan"),
    ("stroke_mask/infinite-width", lambda tmp: rest.stroke_mask((1, 1, 8, 8), width=float("inf")), ValueError,
     r"width must be a finite number in \(0, inf\) \(pixels\), but found inf"),
    ("text_mask/font-size-0", lambda tmp: rest.text_mask((1, 1, 16, 16), font_size=0), ValueError,
     r"font_size must be ≥ 1, but found 0"),
    ("render_text/no-words", lambda tmp: rest.render_text(16, 16, text="  "), ValueError,
     r"text must be a str with at least one word, but found '  '"),
    ("add_gaussian_noise/sigma-1e300", lambda tmp: rest.add_gaussian_noise(torch.zeros(1, 1, 4, 4), 1e300), ValueError,
     r"sigma must be ≤ 255 \(in 0-255 units, e.g. 25\), but found 1e\+300"),
    ("add_gaussian_noise/empty", lambda tmp: rest.add_gaussian_noise(torch.zeros(0, 1, 4, 4), 25), ValueError,
     r"x must not be empty \(N, C, H, W\); got \(0, 1, 4, 4\)"),
    ("gaussian_kernel/memory", lambda tmp: rest.gaussian_kernel(1e6), ValueError,
     r"gaussian_kernel\(sigma=1e\+06\) \(a 6000001 × 6000001 kernel\) needs about 288 TB; .*use a smaller size"),
    ("motion_kernel/angle-str", lambda tmp: rest.motion_kernel(5, "30"), TypeError,
     r"angle must be a number \(degrees\), but found str \('30'\)"),
    ("bm3d_denoise/two-channels", lambda tmp: rest.baselines.bm3d_denoise(torch.rand(1, 2, 16, 16), 25), ValueError,
     r"y must have 1 \(grey\) or 3 \(RGB\) channels for BM3D; got \(1, 2, 16, 16\)"),
    ("bm3d_denoise/8x8", lambda tmp: rest.baselines.bm3d_denoise(torch.rand(1, 1, 8, 8), 25), ValueError,
     r"y must be at least 9 × 9 pixels for BM3D's 8 × 8 blocks; got \(1, 1, 8, 8\)"),
    ("tv_denoise/sigma-0", lambda tmp: rest.baselines.tv_denoise(torch.rand(1, 1, 8, 8), 0), ValueError,
     r"sigma must be > 0 for TV denoising .*but found 0"),
    ("nlm_denoise/negative-h", lambda tmp: rest.baselines.nlm_denoise(torch.rand(1, 1, 8, 8), h_factor=-1), ValueError,
     r"h_factor must be a finite number in \(0, inf\)"),
    ("wiener_deconv/negative-balance", lambda tmp: rest.baselines.wiener_deconv(
        torch.rand(1, 1, 16, 16), rest.gaussian_kernel(1.0), balance=-1), ValueError,
     r"balance must be a finite number in \(0, inf\) \(e.g. 0.01\), but found -1.0"),
    ("wiener_deconv/kernel-beyond-image", lambda tmp: rest.baselines.wiener_deconv(
        torch.rand(1, 1, 4, 4), torch.ones(9, 9) / 81), ValueError,
     r"kernel \(9, 9\) must not be larger than the images \(4, 4\)"),
    ("biharmonic_inpaint/all-missing", lambda tmp: rest.baselines.biharmonic_inpaint(torch.rand(1, 1, 8, 8),
                                                                                       torch.ones(1, 1, 8, 8)),
     ValueError, r"mask marks every pixel missing in image\(s\) \[0\]: nothing to inpaint from"),
    ("tv_denoise/empty", lambda tmp: rest.baselines.tv_denoise(torch.rand(0, 1, 8, 8), 25), ValueError,
     r"y must not be empty \(N, C, H, W\); got \(0, 1, 8, 8\)"),
    ("composite/nan-layer", lambda tmp: rest.composite(torch.rand(1, 1, 4, 4), torch.zeros(1, 1, 4, 4),
                                                       nan_at((1, 1, 4, 4), (0, 0, 1, 1))),
     ValueError, r"layer must not contain NaN; it contains 1 NaN values"),
    ("composite/two-channel-layer", lambda tmp: rest.composite(torch.rand(1, 3, 4, 4), torch.zeros(1, 1, 4, 4),
                                                               torch.rand(1, 2, 4, 4)),
     ValueError, r"layer must be \(N, C, H, W\) = \(1, 3, 4, 4\) \(or with 1 or 3 channels\); got \(1, 2, 4, 4\)"),
    ("dirt_layer/shape", lambda tmp: rest.dirt_layer((1, 16, 16)), ValueError, r"shape must be \(N, C, H, W\)"),
    ("dirt_layer/infinite-density", lambda tmp: rest.dirt_layer((1, 1, 16, 16), density=float("inf")), ValueError,
     r"density must be a finite number in \(0, inf\)"),
    ("dirt_layer/memory", lambda tmp: rest.dirt_layer((1, 1, 64, 64), density=1e9), ValueError,
     r"a window layer of density 1e\+09 \(4915200000 blobs per image\) needs about 80.5 TB; .*use a density"),
    ("rain_layer/nan-angle", lambda tmp: rest.rain_layer((1, 1, 16, 16), angle=NAN), ValueError,
     r"angle must be a finite number in \(-inf, inf\) \(degrees from the x axis\), but found nan"),
    ("rgb_to_grey/uint8", lambda tmp: rest.rgb_to_grey(torch.zeros(3, 4, 4, dtype=torch.uint8)), TypeError,
     r"x must have a floating dtype; got torch.uint8"),
    ("rgb_to_grey/four-channels", lambda tmp: rest.rgb_to_grey(torch.rand(4, 4, 4)), ValueError,
     r"x must be \(..., 3, H, W\) RGB; got \(4, 4, 4\)"),
    ("PhotoPatches/no-photos", lambda tmp: rest.PhotoPatches(4, 8, photos=[]), ValueError,
     r"photos must be a non-empty sequence of photo names such as \('camera',\), but found \[\]"),
    ("PhotoPatches/float-seed", lambda tmp: rest.PhotoPatches(4, 8, photos=["camera"], seed=1.7), TypeError,
     r"seed must be an int ≥ 0, but found float \(1.7\)"),
    ("read_png_folder/truncated", lambda tmp: _png(tmp, _truncated_png()), ValueError,
     r"set/01.png is not a readable PNG"),
    ("read_png_folder/not-an-image", lambda tmp: _png(tmp, b"hello"), ValueError, r"set/01.png is not a readable PNG"),
    ("read_png_folder/grey-not-bool", lambda tmp: rest.read_png_folder("set", root=tmp, grey="no"), TypeError,
     r"grey must be True or False, but found str \('no'\)"),
    ("psnr/nan", lambda tmp: rest.psnr(nan_at((1, 1, 8, 8), (0, 0, 3, 4)), torch.zeros(1, 1, 8, 8)), ValueError,
     r"x must be finite; it contains 1 NaN or inf values \(first at index \(0, 0, 3, 4\)\)"),
    ("psnr/shapes", lambda tmp: rest.psnr(torch.zeros(1, 1, 8, 8), torch.zeros(1, 1, 8, 9)), ValueError,
     r"x and y must have the same shape; got \(1, 1, 8, 8\) and \(1, 1, 8, 9\)"),
    ("ssim/too-small", lambda tmp: rest.ssim(torch.zeros(1, 1, 3, 3), torch.zeros(1, 1, 3, 3)), ValueError,
     r"x must be at least 11 × 11 pixels for SSIM's 11 × 11 window; got \(1, 1, 3, 3\)"),
    ("add_gaussian_noise/negative-sigma",
     lambda tmp: rest.add_gaussian_noise(torch.zeros(1, 1, 8, 8), -5.0, generator=torch.Generator()), ValueError,
     r"sigma must be ≥ 0 \(in 0-255 units, e.g. 25\), but found -5.0"),
    ("gaussian_kernel/negative-sigma-in-pixels", lambda tmp: rest.gaussian_kernel(-1.0), ValueError,
     r"sigma must be ≥ 0 \(in pixels, e.g. 2\), but found -1.0"),
    ("defocus_kernel/negative-radius", lambda tmp: rest.defocus_kernel(-2), ValueError,
     r"radius must be ≥ 0 \(in pixels, e.g. 3\), but found -2"),
    ("blur/even-kernel", lambda tmp: rest.blur(torch.zeros(1, 1, 8, 8), torch.ones(4, 4) / 16), ValueError,
     r"kernel must have odd sides \(a centre pixel\), but has shape \(4, 4\)"),
    ("DnCNN/float64", lambda tmp: rest.DnCNN()(torch.zeros(1, 1, 16, 16, dtype=torch.float64)), TypeError,
     r"y must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("DnCNN/0-255", lambda tmp: rest.DnCNN()(torch.full((1, 1, 16, 16), 255.0)), ValueError,
     r"y must have values in \[-2.0, 3.0\]; got values in \[255, 255\]"),
    ("read_png_folder/missing", lambda tmp: rest.read_png_folder(tmp / "bsd68"), FileNotFoundError,
     r"no PNG files in .*bsd68"),
    ("load_photo/unknown", lambda tmp: rest.load_photo("nope"), ValueError, r"name must be one of .*but found 'nope'"),
]


def _depth_net():
    return dp.build_model(settings("depth", "fast"), (1, 2, 3))


@pytest.mark.parametrize("row", ROWS, ids=[r[0] for r in ROWS])
def test_bad_input_gets_a_clear_error(row, tmp_path):
    _, thunk, error, fragment = row
    with pytest.raises(error) as info:
        thunk(tmp_path)
    message = str(info.value)
    assert re.search(fragment, message), f"message does not name the value: {message!r}"
    assert "Traceback" not in message


def test_rows_have_unique_ids():
    ids = [r[0] for r in ROWS]
    assert len(ids) == len(set(ids))


def test_environment_report_survives_an_unavailable_device(monkeypatch):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA: COURSE_DEVICE=cuda is available here")
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    report = environment_report()
    assert report["device"].startswith("unavailable:") and "cuda" in report["device"]
    assert report["gpu"] == "none"


def test_evaluate_segmentation_refuses_a_model_of_another_class_count():
    model = seg.FCN(3, "32s", width=2)
    with pytest.raises(ValueError, match=r"the model gives \(1, 3, 32, 32\) logits, but num_classes=5"):
        seg.evaluate_segmentation(model, torch.rand(1, 3, 32, 32), torch.zeros(1, 32, 32, dtype=torch.long), 5)
