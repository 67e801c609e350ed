"""Joint model: end-to-end gradients, loss, and re-evaluation of the shipped lecture-02 checkpoints."""

import pytest
import torch

from course_lib.core import checkpoint_path, load_checkpoint
from course_lib.pose import JOINTS, PartDetector, SpatialModel, SyntheticPose, load_or_train
from course_lib.pose.joint import JointModel, joint_loss, make_spatial
from course_lib.pose.tasks import evaluate_detector


def tiny_joint():
    torch.manual_seed(0)
    detector = PartDetector(len(JOINTS), width=8, simple=True)
    return JointModel(detector, SpatialModel(len(JOINTS), "full", 15))


def test_gradients_flow_through_both_models():
    model = tiny_joint()
    data = SyntheticPose("train", 2, 32, seed=0, stride=model.stride)
    batch = {k: torch.stack([data[i][k] for i in range(2)]) for k in ("image", "heatmaps")}
    loss = joint_loss(model, batch)
    assert loss.ndim == 0 and torch.isfinite(loss)
    loss.backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all(), name
    # The spatial model's loss alone reaches the detector: that is what makes joint training joint.
    model.zero_grad()
    joint_loss(model, batch, det_weight=0.0).backward()
    grads = [p.grad for p in model.detector.parameters() if p.grad is not None]
    assert grads and sum(float(g.abs().sum()) for g in grads) > 0


def test_forward_is_a_belief_with_the_detector_stride():
    model = tiny_joint().eval()
    out = model(torch.rand(2, 3, 32, 32))
    assert out.shape == (2, len(JOINTS), 16, 16) and model.stride == 2
    torch.testing.assert_close(out.sum(dim=(2, 3)), torch.ones(2, len(JOINTS)))


def test_make_spatial_reads_the_profile_row():
    assert len(make_spatial({"kernel_size": 7, "graph": "tree"}).messages) == len(JOINTS) + 16
    with pytest.raises(ValueError, match="graph"):
        make_spatial({"kernel_size": 7, "graph": "ring"})
    with pytest.raises(TypeError, match="stride"):
        JointModel(torch.nn.Sequential(torch.nn.Conv2d(3, 9, 1)), SpatialModel(9, "full", 3))


NAMES = ("pose-detector", "pose-spatial", "pose-joint")


@pytest.mark.slow
def test_checkpoints_reproduce_their_metrics():
    missing = [n for n in NAMES if not checkpoint_path(n).is_file()]
    assert not missing, f"shipped checkpoints missing: {missing} (python -m course_lib.train pose)"
    loaded = {name.split("-")[1]: load_or_train(name, device="cpu") for name in NAMES}
    models = {k: model for k, (model, _) in loaded.items()}
    ckpts = {k: info for k, (_, info) in loaded.items()}
    assert all(info["source"] == "checkpoint" for info in ckpts.values())
    assert isinstance(models["spatial"], JointModel) and isinstance(models["joint"], JointModel)
    cfg, seed = ckpts["joint"]["config"], ckpts["joint"]["seed"]
    test = SyntheticPose("test", cfg["n_test"], cfg["size"], seed, stride=models["detector"].stride)
    for variant in ("spatial", "joint"):
        claimed = ckpts[variant]["metrics"]
        got = evaluate_detector(models[variant], test)
        for key, value in got.items():
            # one image's joint flipping across the radius moves a rate by 100 / n_test points
            assert abs(value - claimed[key]) <= 100 / len(test) + 1e-6, (variant, key, value, claimed[key])
    for n in ("lelb", "lwri", "relb", "rwri"):
        assert ckpts["joint"]["metrics"][f"dr10_{n}"] > ckpts["detector"]["metrics"][f"dr10_{n}"], n
    assert all(checkpoint_path(n).stat().st_size < 5e6 for n in NAMES)


@pytest.mark.slow
def test_equal_budget_control_reproduces_its_metrics_and_joint_training_beats_it():
    from course_lib.pose.joint import CONTROL_TASK

    path = checkpoint_path(CONTROL_TASK)
    assert path.is_file(), f"{path} missing (python -m course_lib.train pose-control, with the pose checkpoints' --set)"
    model, ckpt = load_or_train(CONTROL_TASK, device="cpu")
    joint = load_checkpoint(checkpoint_path("pose-joint"))
    assert ckpt["config"] == joint["config"] and ckpt["seed"] == joint["seed"], "control must share the joint budget"
    cfg = ckpt["config"]
    test = SyntheticPose("test", cfg["n_test"], cfg["size"], ckpt["seed"], stride=model.stride)
    got = evaluate_detector(model, test)
    for key, value in got.items():
        assert abs(value - ckpt["metrics"][key]) <= 100 / len(test) + 1e-6, (key, value, ckpt["metrics"][key])
    # The lecture's claim: joint training beats the detector trained alone for the same extra epochs, on the arms.
    arms = ("lelb", "lwri", "relb", "rwri")
    control_arms = sum(ckpt["metrics"][f"dr10_{n}"] for n in arms) / 4
    joint_arms = sum(joint["metrics"][f"dr10_{n}"] for n in arms) / 4
    assert joint_arms > control_arms + 3, (joint_arms, control_arms)
    assert path.stat().st_size < 5e6
