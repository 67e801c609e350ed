"""Lecture 05: the depth, normal and label measures on examples worked by hand, and the losses (scale invariance,
values, gradients in float64, masks)."""

import math

import pytest
import torch

from course_lib.depth import (
    depth_metrics,
    label_metrics,
    labels_loss,
    near_discontinuity,
    normal_metrics,
    normals_loss,
    scale_invariant_loss,
)
from course_lib.depth.metrics import bootstrap_difference, per_image_normal_mean, per_image_si_log


def img(*values):
    """A (1, 1, 1, n) depth map from values."""
    return torch.tensor(values, dtype=torch.float64).view(1, 1, 1, -1)


# ---------------------------------------------------------------- depth metrics


def test_delta_is_strict_at_exactly_1_25():
    m = depth_metrics(img(1.25, 1.0, 0.8, 2.0), img(1.0, 1.0, 1.0, 1.0))
    # ratios: 1.25 (not < 1.25), 1, 1.25 (1/0.8, again not < 1.25), 2
    assert m["delta1"] == pytest.approx(1 / 4)
    assert m["delta2"] == pytest.approx(3 / 4)  # 2 ≥ 1.5625
    assert m["delta3"] == pytest.approx(3 / 4)  # 2 ≥ 1.953125
    assert depth_metrics(img(1.9), img(1.0))["delta3"] == 1.0


def test_depth_metrics_hand_computed():
    pred, gt = img(2.0, 1.0), img(1.0, 2.0)
    m = depth_metrics(pred, gt)
    assert m["abs_rel"] == pytest.approx((1 / 1 + 1 / 2) / 2)
    assert m["sq_rel"] == pytest.approx((1 / 1 + 1 / 2) / 2)
    assert m["rmse"] == pytest.approx(1.0)
    assert m["rmse_log"] == pytest.approx(math.log(2))
    # d = (+log 2, −log 2): mean 0, so sc-inv = rmse_log
    assert m["si_log"] == pytest.approx(math.log(2))
    # a global factor changes rmse_log but not si_log
    m3 = depth_metrics(3 * gt, gt)
    assert m3["si_log"] == pytest.approx(0.0, abs=1e-7) and m3["rmse_log"] == pytest.approx(math.log(3))


def test_depth_metrics_are_per_image_then_averaged_and_respect_the_mask():
    pred = torch.tensor([[[[2.0, 1.0, 1.0, 1.0]]], [[[1.0, 1.0, 1.0, 1.0]]]])
    gt = torch.ones(2, 1, 1, 4)
    # image 0: one pixel in four is off; image 1: perfect → δ1 = (3/4 + 1) / 2
    assert depth_metrics(pred, gt)["delta1"] == pytest.approx(0.875)
    mask = torch.tensor([[[[False, True, True, True]]], [[[True, False, False, False]]]])
    m = depth_metrics(pred, gt, mask)
    assert m["delta1"] == 1.0 and m["abs_rel"] == 0.0
    # the masked pixel may hold anything, even a non-positive depth
    pred[0, 0, 0, 0] = -5.0
    assert depth_metrics(pred, gt, mask)["rmse"] == 0.0


def test_depth_metrics_clear_errors():
    with pytest.raises(ValueError, match="pred must be > 0 on valid pixels"):
        depth_metrics(img(0.0, 1.0), img(1.0, 1.0))
    with pytest.raises(ValueError, match="gt must be > 0"):
        depth_metrics(img(1.0), img(-1.0))
    with pytest.raises(ValueError, match=r"pred must be \(B, 1, H, W\); got \(4,\)"):
        depth_metrics(torch.ones(4), torch.ones(4))
    with pytest.raises(ValueError, match="same shape"):
        depth_metrics(torch.ones(1, 1, 2, 2), torch.ones(1, 1, 2, 3))
    with pytest.raises(ValueError, match=r"mask selects no pixel in image\(s\) \[1\]"):
        depth_metrics(torch.ones(2, 1, 2, 2), torch.ones(2, 1, 2, 2),
                      torch.tensor([True, False]).view(2, 1, 1, 1).expand(2, 1, 2, 2).clone())
    with pytest.raises(ValueError, match="NaN"):
        depth_metrics(img(float("nan"), 1.0), img(1.0, 1.0))
    with pytest.raises(TypeError, match="mask must have torch.bool"):
        depth_metrics(img(1.0), img(1.0), torch.ones(1, 1, 1, 1))


# ---------------------------------------------------------------- normal metrics


def test_normal_metrics_hand_computed():
    gt = torch.tensor([0.0, 0.0, -1.0]).view(1, 3, 1, 1).expand(1, 3, 1, 4).clone()
    angles = torch.tensor([0.0, 10.0, 25.0, 40.0])  # degrees from the truth, in the x-z plane
    rad = torch.deg2rad(angles)
    pred = torch.stack([torch.sin(rad), torch.zeros(4), -torch.cos(rad)]).view(1, 3, 1, 4) * 7.0  # not unit
    m = normal_metrics(pred, gt)
    assert m["mean"] == pytest.approx(18.75, abs=1e-4)
    assert m["median"] == pytest.approx(17.5, abs=1e-4)
    assert m["within_11_25"] == pytest.approx(50.0)
    assert m["within_22_5"] == pytest.approx(50.0)
    assert m["within_30"] == pytest.approx(75.0)
    mask = torch.tensor([True, True, False, False]).view(1, 1, 1, 4)
    assert normal_metrics(pred, gt, mask)["mean"] == pytest.approx(5.0, abs=1e-4)
    with pytest.raises(ValueError, match="zero-length normals"):
        normal_metrics(torch.zeros(1, 3, 1, 4), gt)
    with pytest.raises(ValueError, match=r"pred must have shape \(B, 3, H, W\)"):
        normal_metrics(torch.zeros(1, 2, 1, 4), gt)


def test_near_discontinuity_marks_creases_and_label_edges_only():
    normals = torch.zeros(1, 3, 5, 8)
    normals[:, 2] = 1.0  # a flat surface facing the camera ...
    normals[:, :, :, 5:] = torch.tensor([1.0, 0.0, 1.0]).view(1, 3, 1, 1)  # ... with a 45 degree crease at x = 5
    labels = torch.zeros(1, 5, 8, dtype=torch.long)
    labels[:, 3:, :2] = 1  # and an object in the bottom-left corner: label edges at y = 3 and at x = 2
    edge = near_discontinuity(normals, labels, radius=0)
    assert edge.shape == (1, 1, 5, 8) and edge.dtype == torch.bool
    want = torch.zeros(5, 8, dtype=torch.bool)
    want[:, 4:6] = True  # both sides of the crease
    want[2:4, :2] = True  # both sides of the horizontal label edge
    want[3:, 1:3] = True  # both sides of the vertical one
    assert torch.equal(edge[0, 0], want)
    assert not near_discontinuity(normals, labels, angle=50.0, radius=0)[0, 0, :, 4:6].any(), "45 < 50 degrees"
    wide = near_discontinuity(normals, labels, radius=1)[0, 0]
    assert wide[:, 3:7].all() and not wide[0, 2] and not wide[0, 7], "one more pixel either side of the crease"


def test_label_metrics_from_the_core_confusion_matrix():
    gt = torch.tensor([[[0, 0, 1, 2, 255]]])
    pred = torch.tensor([[[0, 1, 1, 2, 3]]])
    m = label_metrics(pred, gt, 4)
    assert m["pixel_acc"] == pytest.approx(75.0)
    assert m["mean_acc"] == pytest.approx(100 * (0.5 + 1 + 1) / 3)  # class 3 absent from the truth


def test_bootstrap_interval_contains_the_mean_and_shrinks_with_more_images():
    g = torch.Generator().manual_seed(0)
    a = torch.randn(40, generator=g, dtype=torch.float64) + 1.0
    mean, lo, hi = bootstrap_difference(a, torch.zeros(40, dtype=torch.float64))
    assert lo < mean < hi and lo > 0.3
    a4 = a.repeat(4)
    _, lo4, hi4 = bootstrap_difference(a4, torch.zeros(160, dtype=torch.float64))
    assert hi4 - lo4 < hi - lo


def test_per_image_measures_match_the_averaged_ones():
    g = torch.Generator().manual_seed(1)
    gt = torch.rand(3, 1, 4, 5, generator=g) + 0.5
    pred = gt * (torch.rand(3, 1, 4, 5, generator=g) + 0.5)
    assert per_image_si_log(pred, gt).mean().item() == pytest.approx(depth_metrics(pred, gt)["si_log"], rel=1e-6)
    n1, n2 = torch.randn(3, 3, 4, 5, generator=g), torch.randn(3, 3, 4, 5, generator=g)
    assert per_image_normal_mean(n1, n2).mean().item() == pytest.approx(normal_metrics(n1, n2)["mean"], rel=1e-6)


# ---------------------------------------------------------------- losses


def _pair(seed=0, B=2, H=5, W=6):
    g = torch.Generator().manual_seed(seed)
    gt = torch.randn(B, 1, H, W, generator=g, dtype=torch.float64)
    pred = gt + 0.3 * torch.randn(B, 1, H, W, generator=g, dtype=torch.float64)
    return pred, gt


def test_scale_invariance_lam_1_unchanged_lam_0_changes_half_in_between():
    pred, gt = _pair()
    log3 = math.log(3.0)  # multiplying the predicted depth by 3 adds log 3 to the log depth
    for grad in (False, True):
        base = {lam: float(scale_invariant_loss(pred, gt, lam=lam, grad=grad)) for lam in (0.0, 0.5, 1.0)}
        moved = {lam: float(scale_invariant_loss(pred + log3, gt, lam=lam, grad=grad)) for lam in (0.0, 0.5, 1.0)}
        assert moved[1.0] == pytest.approx(base[1.0], abs=1e-12)
        assert moved[0.0] > base[0.0] + 0.5 * log3**2
        assert base[0.5] < moved[0.5] < moved[0.0]


def test_scale_invariant_loss_value_by_hand():
    d = torch.tensor([0.2, -0.1, 0.4, 0.0], dtype=torch.float64)
    pred, gt = d.view(1, 1, 2, 2), torch.zeros(1, 1, 2, 2, dtype=torch.float64)
    n, s, s2 = 4, float(d.sum()), float((d**2).sum())
    assert float(scale_invariant_loss(pred, gt, lam=0.5, grad=False)) == pytest.approx(s2 / n - 0.5 * s**2 / n**2)
    # gradient term: horizontal pairs (0.2, −0.1), (0.4, 0.0); vertical (0.2, 0.4), (−0.1, 0.0)
    grad = (0.3**2 + 0.4**2 + 0.2**2 + 0.1**2) / n
    assert float(scale_invariant_loss(pred, gt, lam=0.5)) == pytest.approx(s2 / n - 0.5 * s**2 / n**2 + grad)


def test_scale_invariant_loss_ignores_masked_pixels():
    pred, gt = _pair(1)
    mask = torch.ones_like(pred, dtype=torch.bool)
    mask[:, :, 1:3, 2:4] = False
    ref = scale_invariant_loss(pred, gt, mask)
    wild = pred.clone()
    wild[~mask] = 1e3  # anything under the mask must not matter, not even to the gradient term
    torch.testing.assert_close(scale_invariant_loss(wild, gt, mask), ref)
    assert not torch.isclose(scale_invariant_loss(wild, gt), ref)


def test_losses_gradcheck_float64():
    pred, gt = _pair(2, B=2, H=3, W=4)
    mask = torch.rand(2, 1, 3, 4, generator=torch.Generator().manual_seed(3)) > 0.3
    mask[:, :, 0, 0] = True
    p = pred.clone().requires_grad_(True)
    assert torch.autograd.gradcheck(lambda x: scale_invariant_loss(x, gt, mask, lam=0.5), (p,))
    n_pred = torch.randn(2, 3, 3, 4, dtype=torch.float64, requires_grad=True)
    n_gt = torch.nn.functional.normalize(torch.randn(2, 3, 3, 4, dtype=torch.float64), dim=1)
    assert torch.autograd.gradcheck(lambda x: normals_loss(x, n_gt, mask), (n_pred,))


def test_normals_loss_normalises_the_prediction():
    gt = torch.nn.functional.normalize(torch.randn(2, 3, 4, 4), dim=1)
    assert float(normals_loss(5.0 * gt, gt)) == pytest.approx(-1.0, abs=1e-5)
    assert float(normals_loss(-gt, gt)) == pytest.approx(1.0, abs=1e-5)


def test_losses_clear_errors():
    with pytest.raises(ValueError, match=r"mask selects no pixel in image\(s\) \[0\]"):
        scale_invariant_loss(torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2), torch.zeros(1, 1, 2, 2, dtype=bool))
    with pytest.raises(ValueError, match=r"pred_log must be \(B, 1, H, W\)"):
        scale_invariant_loss(torch.zeros(2, 2), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="finite"):
        scale_invariant_loss(torch.full((1, 1, 2, 2), float("nan")), torch.zeros(1, 1, 2, 2))
    with pytest.raises(ValueError, match="disagree"):
        labels_loss(torch.zeros(1, 4, 2, 2), torch.zeros(1, 3, 2, dtype=torch.long))
    assert float(labels_loss(torch.zeros(1, 4, 1, 2), torch.tensor([[[255, 1]]]))) == pytest.approx(math.log(4))


def test_labels_loss_takes_any_integer_labels_and_counts_only_labelled_pixels():
    logits = torch.randn(2, 4, 3, 3, generator=torch.Generator().manual_seed(0))
    labels = torch.randint(0, 4, (2, 3, 3), generator=torch.Generator().manual_seed(1))
    labels[0, 0] = 255
    want = torch.nn.functional.cross_entropy(logits, labels, ignore_index=255)
    torch.testing.assert_close(labels_loss(logits, labels.to(torch.int32)), want)  # int32 was a torch error
    torch.testing.assert_close(labels_loss(logits, labels), want)


def test_zero_normals_are_accepted_where_masked_out():
    up = torch.zeros(1, 3, 2, 2)
    up[:, 2] = 1
    gt = up.clone()
    gt[0, :, 0, 0] = 0  # no normal measured there
    mask = torch.ones(1, 1, 2, 2, dtype=torch.bool)
    mask[0, 0, 0, 0] = False
    assert float(per_image_normal_mean(up, gt, mask)[0]) == 0.0
    assert float(normals_loss(up, gt, mask)) == pytest.approx(-1.0)
    assert normal_metrics(up, gt, mask)["mean"] == 0.0
