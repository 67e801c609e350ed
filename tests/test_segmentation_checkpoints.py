"""The shipped FCN checkpoints: they load, and re-evaluating them on the synthetic test split reproduces the
metrics they record (the claims lecture 04 shows)."""

import pytest
import torch

from course_lib.core import checkpoint_path, load_checkpoint
from course_lib.segmentation import SyntheticScenes, load_or_train, patch_metrics, scene_metrics

NAMES = ("fcn-32s", "fcn-16s", "fcn-8s", "fcn-patch")


def _require(name):
    path = checkpoint_path(name)
    assert path.is_file(), f"{path} is not built (make it with `python -m course_lib.train fcn`)"
    return path


@pytest.mark.parametrize("name", NAMES)
def test_checkpoint_reproduces_its_metrics(name):
    path = _require(name)
    assert path.stat().st_size <= 5e6, f"{path} is {path.stat().st_size / 1e6:.1f} MB; keep checkpoints ≤ 5 MB"
    model, info = load_or_train(name, cfg={})
    assert info["source"] == "checkpoint"
    assert info["command"].startswith("python -m course_lib.train fcn")
    cfg = info["config"]
    test = SyntheticScenes("test", cfg["n_test"], cfg["size"], seed=load_checkpoint(path)["seed"])
    torch.manual_seed(0)
    if name == "fcn-patch":
        got = patch_metrics(model, test, seed=load_checkpoint(path)["seed"])
        keys = ["patch_acc"]
    else:
        got = scene_metrics(model, test)
        keys = ["pixel_acc", "mean_acc", "mean_iou", "fw_iou", "boundary_acc"]
    for key in keys:
        assert got[key] == pytest.approx(info["metrics"][key], abs=2e-3), (key, got[key], info["metrics"][key])


def test_skips_improve_mean_iou_and_boundaries():
    metrics = {v: load_checkpoint(_require(f"fcn-{v}"))["metrics"] for v in ("32s", "16s", "8s")}
    assert metrics["8s"]["mean_iou"] > metrics["32s"]["mean_iou"] + 0.02, metrics
    assert metrics["8s"]["boundary_acc"] > metrics["32s"]["boundary_acc"] + 0.02, metrics
    total = sum(checkpoint_path(n).stat().st_size for n in NAMES if checkpoint_path(n).is_file())
    assert total <= 10e6, f"lecture 04 checkpoints take {total / 1e6:.1f} MB; keep them ≤ 10 MB"


def test_load_or_train_trains_a_missing_model_with_the_settings_given(tmp_path):
    from course_lib import settings

    cfg = settings("fcn", "fast") | {"n_train": 8, "n_test": 4, "size": 32, "epochs": 1, "batch_size": 4, "width": 4}
    model, info = load_or_train("fcn-8s", cfg=cfg, directory=tmp_path, device="cpu")
    assert info["source"] == "trained now" and info["command"] is None and info["config"]["variant"] == "8s"
    assert not model.training and 0.0 <= info["metrics"]["mean_iou"] <= 1.0
