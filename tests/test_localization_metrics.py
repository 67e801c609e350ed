"""course_lib.pose.localization: localization error, simulated annotators, and the shipped checkpoints."""

import pytest
import torch
from torch.testing import assert_close

from course_lib.core import checkpoint_path
from course_lib.pose import (
    JOINTS,
    SyntheticPose,
    label_noise,
    load_localization,
    localization_error,
    simulated_annotators,
)
from course_lib.pose.localization import ANNOTATOR_NOISE, evaluate, group_errors, make_datasets, with_stride

POOLINGS = (4, 8, 16)
KINDS = ("coarse", "cascade", "standard")


def test_localization_error_by_hand():
    target = torch.zeros(3, 2, 2)
    pred = torch.tensor([[[3.0, 4.0], [0.0, 0.0]], [[0.0, 1.0], [1.0, 0.0]], [[6.0, 8.0], [0.0, 2.0]]])
    assert_close(localization_error(pred, target), torch.tensor([16 / 3, 1.0]))  # distances (5, 1, 10), (0, 1, 2)
    assert_close(localization_error(pred, target, reduction="median"), torch.tensor([5.0, 1.0]))
    visible = torch.tensor([[True, True], [False, True], [True, False]])
    assert_close(localization_error(pred, target, visible=visible), torch.tensor([7.5, 0.5]))
    with pytest.raises(ValueError, match=r"pred and target must have the same shape; got \(3, 2, 2\) and \(3, 2\)"):
        localization_error(pred, target[..., 0])
    with pytest.raises(ValueError, match=r"reduction must be one of \('mean', 'median'\), but found 'max'"):
        localization_error(pred, target, reduction="max")


def test_group_errors_average_left_and_right():
    err = torch.arange(9, dtype=torch.float32)
    g = group_errors(err)
    assert g["face"] == 0.0 and g["shoulder"] == (1 + 4) / 2 and g["wrist"] == (3 + 6) / 2


def test_simulated_annotators():
    ds = SyntheticPose("test", 32, 64, seed=0)
    labels = simulated_annotators(ds.joints, n_annotators=4, seed=1)
    assert labels.shape == (4, 32, 9, 2)
    assert_close(labels, simulated_annotators(ds.joints, n_annotators=4, seed=1))  # deterministic
    noise = label_noise(ds.joints, n_annotators=8, seed=1)  # (J,) pixels
    # The ordering of the slides' table: face < wrist < elbow < shoulder.
    f, s, e, w = (float(noise[[JOINTS.index(n) for n in names]].mean())
                  for names in (("face",), ("lsho", "rsho"), ("lelb", "relb"), ("lwri", "rwri")))
    assert f < w < e < s
    # Expected size: mean of the Rayleigh distribution σ·sqrt(π/2), with the annotator bias adding (1/2)² variance.
    sigma = ANNOTATOR_NOISE["lsho"] * float(ds.torso.mean()) * (1 + 0.25) ** 0.5
    assert 0.7 < s / (sigma * (torch.pi / 2) ** 0.5) < 1.3
    assert_close(label_noise(ds.joints, scale=0.0), torch.zeros(9))


def test_with_stride_shares_images_and_changes_targets():
    data = make_datasets({"n_train": 4, "n_val": 2, "n_test": 2, "size": 64}, 0, 4)
    moved = with_stride(data, 16)
    assert moved["train"].images is data["train"].images
    assert moved["train"][0]["heatmaps"].shape == (9, 4, 4) and data["train"][0]["heatmaps"].shape == (9, 16, 16)


@pytest.mark.parametrize("pooling", POOLINGS)
def test_bad_checkpoint_requests(pooling):
    with pytest.raises(ValueError, match=r"kind must be one of"):
        load_localization(pooling, "fine")
    with pytest.raises(ValueError, match=r"pooling must be one of \(4, 8, 16\), but found 2"):
        load_localization(2)


@pytest.fixture(scope="module")
def test_splits():
    """The test split each checkpoint was evaluated on, drawn once (targets restrided per pooling)."""
    path = checkpoint_path("localization-coarse4")
    assert path.is_file(), "checkpoints/localization-*.pt not shipped"
    _, ckpt = load_localization(4, "coarse", device=torch.device("cpu"))
    cfg = ckpt["config"]
    return {"test": SyntheticPose("test", cfg["n_test"], cfg["size"], ckpt["seed"], stride=4)}


@pytest.mark.parametrize("pooling", POOLINGS)
@pytest.mark.parametrize("kind", KINDS)
def test_checkpoints_reproduce_their_metrics(kind, pooling, test_splits):
    path = checkpoint_path(f"localization-{kind}{pooling}")
    assert path.stat().st_size < 5e6
    model, ckpt = load_localization(pooling, kind, device=torch.device("cpu"))
    assert ckpt["command"].startswith("python -m course_lib.train localization")
    metrics = evaluate(model, with_stride(test_splits, pooling)["test"])
    for key in ("err_mean", "med_mean", "err_lwri", "group_shoulder"):
        assert abs(metrics[key] - ckpt["metrics"][key]) < 0.05, (key, metrics[key], ckpt["metrics"][key])


def test_checkpoints_show_the_tradeoff(test_splits):
    med = {(k, p): load_localization(p, k, device=torch.device("cpu"))[1]["metrics"]["med_mean"]
           for k in ("coarse", "cascade") for p in POOLINGS}
    assert med[("coarse", 4)] < med[("coarse", 16)]  # more pooling, less accurate
    assert med[("cascade", 16)] < med[("coarse", 16)]  # the cascade recovers accuracy
    total = sum(checkpoint_path(f"localization-{k}{p}").stat().st_size for k in KINDS for p in POOLINGS)
    assert total < 10e6
