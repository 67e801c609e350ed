"""Lecture 05: the multi-scale network (shapes, switchable scales, what each scale sees), the multitask loss,
flips, baselines and the training command at a tiny size."""

import pytest
import torch

from course_lib.core import settings
from course_lib.depth import (
    VARIANTS,
    MultiScaleNet,
    SyntheticRooms,
    baseline_predictions,
    evaluate_predictions,
    flip_batch,
    multitask_loss,
    num_params,
    predict,
    train_model,
)


@pytest.mark.parametrize("scales", [(1,), (2,), (3,), (1, 2), (2, 3), (1, 3), (1, 2, 3)])
def test_outputs_for_every_subset_of_scales(scales):
    torch.manual_seed(0)
    net = MultiScaleNet(scales=scales, image_size=(48, 64), width=4, fc_width=16, coarse=4).eval()
    out = net(torch.rand(2, 3, 48, 64))
    assert out["depth"].shape == (2, 1, 48, 64) and out["labels"].shape == (2, 4, 48, 64)
    torch.testing.assert_close(out["normals"].norm(dim=1), torch.ones(2, 48, 64), atol=1e-4, rtol=0)
    raw = net(torch.rand(2, 3, 48, 64), per_scale=True)
    sizes = {1: (6, 8), 2: (12, 16), 3: (24, 32)}
    for t in ("depth", "normals", "labels"):
        assert sorted(raw[t]) == sorted(scales)
        for s in scales:
            assert raw[t][s].shape[-2:] == sizes[s]


def test_scale1_sees_the_whole_image_and_scale2_alone_does_not():
    torch.manual_seed(0)
    x = torch.rand(1, 3, 48, 64)
    y = x.clone()
    y[:, :, :8, :8] = 1 - y[:, :, :8, :8]  # change the top-left corner only
    for scales, global_view in (((1,), True), ((2,), False)):
        net = MultiScaleNet(scales=scales, width=4, fc_width=16, coarse=4).eval()
        for p in net.parameters():  # random non-zero heads so that the output depends on the input
            torch.nn.init.normal_(p, std=0.1)
        a, b = net(x)["depth"], net(y)["depth"]
        far_corner_changed = not torch.equal(a[..., -4:, -4:], b[..., -4:, -4:])
        assert far_corner_changed == global_view, scales


def test_depth_and_normals_share_scale1_but_not_scale2():
    net = MultiScaleNet(scales=(1, 2, 3), width=4, fc_width=16, coarse=4)
    assert hasattr(net, "scale1") and set(net.scale2) == {"depth", "normals", "labels"}
    assert net.scale2["depth"] is not net.scale2["normals"]
    assert num_params(MultiScaleNet(scales=(2,), width=4)) < num_params(MultiScaleNet(scales=(1, 2), width=4))
    with pytest.raises(ValueError, match=r"scales must be a non-empty subset of \(1, 2, 3\), but found \(4,\)"):
        MultiScaleNet(scales=(4,))
    with pytest.raises(ValueError, match="tasks must be distinct names"):
        MultiScaleNet(tasks=("height",))
    with pytest.raises(ValueError, match="multiples of 8"):
        MultiScaleNet(image_size=(50, 64))
    with pytest.raises(ValueError, match=r"x must have shape \(B, 3, 48, 64\); got \(1, 3, 32, 32\)"):
        net(torch.rand(1, 3, 32, 32))


def test_flip_negates_normal_x_and_mirrors_everything():
    rooms = SyntheticRooms("train", n=2, size=32)
    batch = {k: getattr(rooms, k) for k in ("rgb", "depth", "normals", "labels", "valid")}
    f = flip_batch(batch, torch.tensor([True, False]))
    torch.testing.assert_close(f["depth"][0], batch["depth"][0].flip(-1))
    torch.testing.assert_close(f["normals"][0, 0], -batch["normals"][0, 0].flip(-1))
    torch.testing.assert_close(f["normals"][0, 1:], batch["normals"][0, 1:].flip(-1))
    torch.testing.assert_close(f["labels"][1], batch["labels"][1])


def test_a_short_training_lowers_the_loss_and_baselines_are_sane():
    cfg = settings("depth", "fast") | {"size": 32, "width": 4, "fc_width": 16, "coarse": 4, "epochs": 3,
                                       "batch_size": 16, "lr": 3e-3}
    train, test = SyntheticRooms("train", 48, 32), SyntheticRooms("test", 16, 32)
    model, history = train_model(VARIANTS["s12"], train, cfg=cfg, progress=False)
    assert history["epoch_loss"][-1] < history["epoch_loss"][0]
    pred = predict(model, test.rgb)
    assert pred["depth"].shape == (16, 1, 24, 32) and (pred["depth"] > 0).all()
    assert pred["labels"].dtype == torch.int64
    model.train()
    batch = {k: getattr(test, k) for k in ("rgb", "depth", "normals", "labels", "valid")}
    assert torch.isfinite(multitask_loss(model, batch))
    base = {k: evaluate_predictions(p, test) for k, p in baseline_predictions(train, len(test)).items()}
    # the per-row prior knows that the floor is at the bottom: better than one constant
    assert base["per-row mean"]["abs_rel"] < base["mean depth"]["abs_rel"]
    assert base["per-row mean"]["pixel_acc"] > base["mean depth"]["pixel_acc"]
    # a constant depth map has sc-inv error = the spread of the true log depth
    assert base["mean depth"]["si_log"] > 0.1
