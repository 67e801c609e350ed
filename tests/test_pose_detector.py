"""course_lib.pose.detector and tasks: the multi-resolution part detector (lecture 01)."""

import pytest
import torch
from torch.testing import assert_close

from course_lib.core import checkpoint_path
from course_lib.pose import PartDetector, SyntheticPose, heatmap_loss, load_or_train, num_params
from course_lib.pose.tasks import evaluate_detector


@pytest.mark.parametrize("simple", [False, True])
def test_output_contract(simple):
    torch.manual_seed(0)
    net = PartDetector(9, width=8, simple=simple)
    assert net.stride == 2
    out = net(torch.rand(2, 3, 48, 64))
    assert out.shape == (2, 9, 24, 32) and out.dtype == torch.float32
    assert ("half_res" in dict(net.named_children()) and net.half_res is not None) != simple
    assert f"simple={simple}" in repr(net)


def test_simple_model_is_smaller_and_multires_sees_further():
    full, simple = PartDetector(9, width=8), PartDetector(9, width=8, simple=True)
    assert num_params(simple) < num_params(full)
    # Receptive field: perturb one far-away pixel; only the multi-resolution model's centre output changes.
    torch.manual_seed(0)
    for p in list(full.parameters()) + list(simple.parameters()):
        torch.nn.init.uniform_(p, 0.0, 0.1)  # positive weights: every path through the ReLUs is open
    x = 0.5 + 0.4 * torch.rand(1, 3, 64, 64)  # in [0.5, 0.9]: positive after centring
    y = x.clone()
    y[0, :, 32, 52] += 0.1  # 20 pixels right of the centre (cell 16 is centred at x = 32.5)
    with torch.no_grad():
        d_full = (full(y) - full(x))[0, :, 16, 16].abs().max()
        d_simple = (simple(y) - simple(x))[0, :, 16, 16].abs().max()
    assert float(d_simple) == 0.0 and float(d_full) > 0.0


def test_batch_independence():
    torch.manual_seed(0)
    net = PartDetector(9, width=8).eval()
    x = torch.rand(3, 3, 32, 32)
    assert_close(net(x)[1:2], net(x[1:2]), rtol=1e-4, atol=1e-5)


def test_heatmap_loss():
    torch.manual_seed(0)
    pred, target = torch.rand(2, 9, 8, 8), torch.rand(2, 9, 8, 8)
    assert_close(heatmap_loss(pred, target, pos_weight=0.0), torch.nn.functional.mse_loss(pred, target))
    weighted = ((pred - target) ** 2 * (1 + 20 * target)).mean()
    assert_close(heatmap_loss(pred, target), weighted)
    assert float(heatmap_loss(target, target)) == 0.0
    with pytest.raises(ValueError, match=r"target must have shape \(2, 9, 8, 8\); got \(2, 9, 4, 4\)"):
        heatmap_loss(pred, torch.rand(2, 9, 4, 4))


def test_bad_images_say_what_came():
    net = PartDetector(9, width=4)
    with pytest.raises(ValueError, match=r"images must have shape \(B, 3, H, W\); got \(2, 1, 32, 32\)"):
        net(torch.rand(2, 1, 32, 32))
    with pytest.raises(ValueError, match="divisible by 4"):
        net(torch.rand(1, 3, 30, 32))
    with pytest.raises(ValueError, match="simple must be one of"):
        PartDetector(9, simple="yes")


def test_a_few_steps_learn():
    torch.manual_seed(0)
    ds = SyntheticPose("train", 8, 32, seed=0)
    batch = {k: torch.stack([ds[i][k] for i in range(8)]) for k in ("image", "heatmaps")}
    net = PartDetector(9, width=8)
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    losses = []
    for _ in range(60):
        loss = heatmap_loss(net(batch["image"]), batch["heatmaps"])
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.6 * losses[0], (losses[0], losses[-1])


def test_shipped_detector_checkpoint_reproduces_its_metrics():
    path = checkpoint_path("pose-detector")
    assert path.is_file(), f"{path} not made yet (python -m course_lib.train pose ...)"
    model, ckpt = load_or_train("pose-detector", device="cpu")
    assert ckpt["source"] == "checkpoint"
    cfg = ckpt["config"]  # only the test split: rendering the training split (4,000 images) to discard it is waste
    test = SyntheticPose("test", cfg["n_test"], cfg["size"], ckpt["seed"], stride=PartDetector.stride)
    metrics = evaluate_detector(model, test)
    for key, value in metrics.items():
        assert abs(value - ckpt["metrics"][key]) <= 1.0, (key, value, ckpt["metrics"][key])
    assert ckpt["metrics"]["dr10_mean"] > 50
    assert path.stat().st_size < 5e6


def test_pose_task_saves_the_detector_and_hands_it_on(tmp_path, monkeypatch):
    import course_lib.pose.joint as joint
    from course_lib.core import load_checkpoint

    calls = []

    def train_spatial_and_joint(detector, **kwargs):
        calls.append((detector, kwargs))
        return [tmp_path / "joint.pt"]

    monkeypatch.setattr(joint, "train_spatial_and_joint", train_spatial_and_joint)
    cfg = {"n_train": 8, "n_test": 4, "size": 32, "epochs": 1, "batch_size": 4, "width": 4, "lr": 1e-3,
           "simple": True}
    paths = joint.train_pose(cfg=cfg, profile="fast", seed=0, out_dir=tmp_path,
                             command="python -m course_lib.train pose")
    assert paths == [tmp_path / "pose-detector.pt", tmp_path / "joint.pt"]
    detector, kwargs = calls[0]
    assert isinstance(detector, PartDetector) and detector.simple
    from course_lib.core.profiles import as_settings
    from course_lib.pose.config import PoseSettings

    assert kwargs == {"cfg": as_settings(PoseSettings, cfg), "profile": "fast", "seed": 0, "out_dir": tmp_path,
                      "command": "python -m course_lib.train pose"}
    ckpt = load_checkpoint(paths[0], task="pose-detector")
    assert ckpt["config"]["width"] == 4 and 0.0 <= ckpt["metrics"]["dr10_mean"] <= 100.0
    model, _ = load_or_train("pose-detector", directory=tmp_path, device="cpu")
    assert model.simple and model.width == 4


def test_load_or_train_trains_what_is_missing_with_the_settings_given(tmp_path):
    from course_lib import settings

    cfg = settings("pose", "fast") | {"n_train": 8, "n_test": 4, "size": 32, "epochs": 1, "batch_size": 4,
                                       "width": 4, "simple": True, "kernel_size": 31, "spatial_n": 8, "joint_n": 8,
                                       "joint_batch_size": 4}
    model, info = load_or_train("pose-joint", cfg=cfg, directory=tmp_path, device="cpu")
    assert info["source"] == "trained now" and info["command"] is None and info["config"] == cfg
    assert model.detector.width == 4 and 0.0 <= info["metrics"]["dr10_mean"] <= 100.0
    with pytest.raises(ValueError, match=r"name must be one of .* but found 'pose-detektor'"):
        load_or_train("pose-detektor")
