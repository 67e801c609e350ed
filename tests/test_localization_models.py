"""course_lib.localization.coarse, .crops, .cascade: coarse model, SpatialDropout, crops, cascade (lecture 03)."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from torch.testing import assert_close

from course_lib.localization import (
    Cascade,
    CoarseModel,
    FineModel,
    cascade_loss,
    count_macs,
    crop_features,
    crop_to_image,
    gaussian_heatmaps,
    heatmap_argmax,
    image_to_crop,
    image_to_map,
    map_to_image,
    neighbour_correlation,
    spatial_dropout_reference,
)
from course_lib.localization.coarse import make_dropout
from course_lib.localization.crops import crop_reference


@pytest.mark.parametrize("pooling", [4, 8, 16])
def test_coarse_output_contract(pooling):
    torch.manual_seed(0)
    net = CoarseModel(9, pooling=pooling, width=4).eval()  # eval: dropout off
    x = torch.rand(2, 3, 64, 96)
    out = net(x)
    assert out.shape == (2, 9, 64 // pooling, 96 // pooling) and out.dtype == torch.float32
    assert net.stride == pooling and f"pooling={pooling}" in repr(net)
    full, half = net.features(x)
    assert full.shape == (2, 4, 32, 48) and half.shape == (2, 4, 16, 24)  # strides (2, 4) = feature_strides
    assert_close(net.heatmaps_from_features([full, half]), out)


def test_more_pooling_fewer_operations():
    x = torch.rand(1, 3, 64, 64)
    macs = {p: count_macs(CoarseModel(9, pooling=p, width=4), x) for p in (4, 8, 16)}
    assert macs[4] > macs[8] > macs[16]
    # count_macs by hand on one convolution: 8 × 8 outputs × 2 channels × (3 inputs × 3 × 3).
    assert count_macs(torch.nn.Conv2d(3, 2, 3, padding=1), torch.rand(1, 3, 8, 8)) == 8 * 8 * 2 * 3 * 9


@pytest.mark.parametrize("bad", [2, 3, 32, "8"])
def test_pooling_must_be_4_8_or_16(bad):
    with pytest.raises(ValueError, match=r"pooling must be one of \(4, 8, 16\), but found"):
        CoarseModel(9, pooling=bad)


def test_bad_shapes_say_what_came():
    net = CoarseModel(9, pooling=16, width=4)
    with pytest.raises(ValueError, match=r"images must have shape \(B, 3, H, W\); got \(2, 1, 64, 64\)"):
        net(torch.rand(2, 1, 64, 64))
    with pytest.raises(ValueError, match=r"divisible by 2·pooling = 32; got \(H, W\) = \(48, 64\)"):
        net(torch.rand(1, 3, 48, 64))
    with pytest.raises(ValueError, match=r"dropout must be one of"):
        CoarseModel(9, dropout="pixel")
    with pytest.raises(ValueError, match=r"p must be a probability in \[0, 1\), but found 1.0"):
        make_dropout("spatial", 1.0)
    fine = FineModel(9, in_channels=8, width=4)
    with pytest.raises(ValueError, match=r"crops must have shape \(N, 8, R, R\); got \(18, 3, 6, 6\)"):
        fine(torch.rand(18, 3, 6, 6), joints_per_image=9)
    with pytest.raises(ValueError, match=r"fine.in_channels must be 2 · coarse.width = 8, but found 3"):
        Cascade(net, FineModel(9, in_channels=3, width=4), shared_features=False)
    with pytest.raises(ValueError, match=r"coarse_target must have shape \(2, 9, 4, 4\); got \(2, 9, 8, 8\)"):
        cascade_loss(torch.rand(2, 9, 4, 4), torch.rand(2, 9, 8, 8), torch.rand(2, 9, 6, 6), torch.rand(2, 9, 6, 6))


@pytest.mark.parametrize("p", [0.2, 0.5])
def test_dropout2d_zeroes_whole_channels_and_scales_survivors(p):
    torch.manual_seed(0)
    x = torch.rand(8, 64, 5, 5) + 0.5  # strictly positive: a zero means "dropped"
    drop = make_dropout("spatial", p).train()
    y = drop(x)
    zero = y == 0  # (B, C, H, W)
    per_channel = zero.flatten(2)  # (B, C, H·W)
    assert bool((per_channel.all(-1) | ~per_channel.any(-1)).all()), "a channel was only partly dropped"
    kept = ~per_channel.any(-1)  # (B, C)
    assert_close(y[kept], x[kept] / (1 - p))
    assert abs(float((~kept).float().mean()) - p) < 0.08  # about p of the 512 channels dropped
    # Standard dropout zeroes single activations instead: channels are partly dropped.
    z = make_dropout("standard", p).train()(x).flatten(2) == 0
    assert bool((z.any(-1) & ~z.all(-1)).any())
    # Eval mode: identity. The by-hand reference has the same distribution of kept channels.
    assert_close(drop.eval()(x), x)
    ref = spatial_dropout_reference(x, p, generator=torch.Generator().manual_seed(0)).flatten(2)
    kept_ref = (ref != 0).all(-1)
    assert_close(ref[kept_ref], x.flatten(2)[kept_ref] / (1 - p))
    assert abs(float((~kept_ref).float().mean()) - p) < 0.08


def test_neighbour_correlation():
    torch.manual_seed(0)
    noise = torch.randn(4, 3, 16, 64)
    assert float(neighbour_correlation(noise, offsets=(1,))[0].abs()) < 0.05
    smooth = torch.nn.functional.avg_pool2d(noise, (1, 9), stride=1, padding=(0, 4))  # neighbours share 8/9 inputs
    c = neighbour_correlation(smooth, offsets=(1, 4, 16))
    assert float(c[0]) > 0.8 and float(c[0]) > float(c[1]) > float(c[2])
    with pytest.raises(ValueError, match=r"offsets must be < W = 64, but found 64"):
        neighbour_correlation(noise, offsets=(64,))


@settings(max_examples=30, deadline=None)
@given(x=st.floats(-50, 150), y=st.floats(-50, 150), cx=st.floats(0, 100), cy=st.floats(0, 100),
       stride=st.sampled_from([1, 2, 4, 8, 16]), size=st.sampled_from([6, 12, 24]))
def test_coordinate_round_trips(x, y, cx, cy, stride, size):
    xy = torch.tensor([x, y], dtype=torch.float64)
    centre = torch.tensor([cx, cy], dtype=torch.float64)
    assert_close(map_to_image(image_to_map(xy, stride), stride), xy)
    uv = image_to_crop(xy, centre, crop=24, size=size)
    assert_close(crop_to_image(uv, centre, crop=24, size=size), xy)
    # Map cell -> image -> crop -> image -> map.
    assert_close(image_to_map(crop_to_image(image_to_crop(map_to_image(xy, stride), centre, crop=24, size=size),
                                            centre, crop=24, size=size), stride), xy)


def test_crop_centre_and_corners():
    centre = torch.tensor([10.0, 20.0])
    # 12 samples over 24 pixels: samples 5 and 6 straddle the centre; sample 0 is 1 pixel inside the left edge.
    assert_close(crop_to_image(torch.tensor([5.5, 5.5]), centre, crop=24, size=12), centre)
    assert_close(crop_to_image(torch.tensor([0.0, 11.0]), centre, crop=24, size=12), torch.tensor([-1.0, 31.0]))


@pytest.mark.parametrize("stride", [1, 2, 4])
def test_roi_crops_match_the_slow_reference(stride):
    torch.manual_seed(0)
    feat = torch.rand(1, 3, 64 // stride, 64 // stride)
    centres = torch.tensor([[[20.3, 7.7], [1.0, 60.5], [63.0, 0.0]]])  # inside, and near the borders
    crops = crop_features([feat], (stride,), centres, crop=24, size=12, sampling_ratio=1)  # (3, 3, 12, 12)
    for j in range(3):
        assert_close(crops[j], crop_reference(feat[0], stride, centres[0, j], crop=24, size=12), atol=1e-5, rtol=1e-5)


def test_crop_reads_the_feature_at_the_right_place():
    # A map whose value is the input x coordinate of each cell: every crop sample must read its own image x.
    for stride in (2, 4):
        w = 64 // stride
        xs = map_to_image(torch.arange(w, dtype=torch.float32), stride)  # (w,) cell centres in pixels
        feat = xs.expand(1, 1, w, w).contiguous()  # (1, 1, w, w)
        centres = torch.tensor([[[30.0, 30.0], [25.3, 33.9]]])
        crops = crop_features([feat], (stride,), centres, crop=24, size=12)  # (2, 1, 12, 12)
        u = torch.arange(12, dtype=torch.float32)
        for j in range(2):
            want = crop_to_image(torch.stack([u, u], -1), centres[0, j], crop=24, size=12)[:, 0]  # (12,) x of samples
            assert_close(crops[j, 0, 0], want, atol=1e-4, rtol=0)


def test_fine_model_is_siamese():
    torch.manual_seed(0)
    fine = FineModel(3, in_channels=4, width=4)
    crops = torch.rand(2 * 3, 4, 6, 6)
    out = fine(crops, joints_per_image=3)  # (2, 3, 6, 6)
    # Crop j of image b through the shared layers, then joint j's last layer.
    for b in range(2):
        for j in range(3):
            full = fine.last(fine.shared(crops[b * 3 + j: b * 3 + j + 1]))  # (1, 3, 6, 6)
            assert_close(out[b, j], full[0, j])
    with pytest.raises(ValueError, match=r"J = 3"):
        fine(torch.rand(7, 4, 6, 6), joints_per_image=3)


@pytest.mark.parametrize("shared", [True, False])
def test_cascade_output_is_within_the_crop(shared):
    torch.manual_seed(0)
    coarse = CoarseModel(9, pooling=16, width=4)
    cascade = Cascade(coarse, FineModel(9, in_channels=8, width=4), crop=24, samples=12,
                      shared_features=shared).eval()
    images = torch.rand(3, 3, 64, 64)
    with torch.no_grad():
        out = cascade(images)
    assert out["coarse"].shape == (3, 9, 4, 4) and out["fine"].shape == (3, 9, 12, 12)
    assert_close(out["centres"], heatmap_argmax(out["coarse"], stride=16, subpixel=True))
    off = (out["joints"] - out["centres"]).abs()
    assert float(off.max()) <= 12.0 + 1e-5
    # The refinement is the fine map's argmax mapped back: a fine map peaked at sample (u, v) gives that sample.
    fine = torch.zeros(1, 9, 12, 12)
    fine[0, :, 3, 8] = 1.0
    uv = heatmap_argmax(fine, stride=1)
    refined = crop_to_image(uv, out["centres"][:1], crop=24, size=12)
    assert_close(refined, out["centres"][:1] + torch.tensor([5.0, -5.0]))
    # Given centres are used as they are.
    centres = torch.full((3, 9, 2), 32.0)
    with torch.no_grad():
        assert_close(cascade(images, centres)["centres"], centres)
    with pytest.raises(ValueError, match=r"centres must have shape \(3, 9, 2\); got \(3, 8, 2\)"):
        cascade(images, centres[:, :8])


def test_fine_targets_peak_at_the_joint():
    cascade = Cascade(CoarseModel(9, pooling=8, width=4), FineModel(9, in_channels=8, width=4), crop=24, samples=12)
    centres = torch.tensor([[[30.0, 30.0]] * 9])  # (1, 9, 2)
    joints = centres + torch.tensor([5.0, -3.0])  # on the sample grid: samples at centre − 11 + 2u
    t = cascade.fine_targets(joints, centres)
    assert t.shape == (1, 9, 12, 12)
    uv = heatmap_argmax(t, stride=1)
    assert_close(crop_to_image(uv, centres, crop=24, size=12), joints)
    assert_close(t.amax(dim=(-1, -2)), torch.ones(1, 9))
    # The same as gaussian_heatmaps of a 24-pixel image in crop-local coordinates.
    local = joints - centres + 12 - 0.5
    assert_close(t[0, :1], gaussian_heatmaps(local[:, :1], 24, stride=2, sigma=2.0)[0])


def test_cascade_loss_is_the_slides_E2():
    torch.manual_seed(0)
    h, ht = torch.rand(2, 9, 4, 4), torch.rand(2, 9, 4, 4)
    g, gt = torch.rand(2, 9, 6, 6), torch.rand(2, 9, 6, 6)
    e1 = ((h - ht) ** 2).sum() / 18  # (1/N) Σ_j Σ_xy with N = B·J maps
    ef = ((g - gt) ** 2).sum() / 18
    assert_close(cascade_loss(h, ht, g, gt, lam=0.5), e1 + 0.5 * ef)
    assert_close(cascade_loss(h, ht, g, gt, lam=0.0), e1)
    # Gradients in float64 against autograd's numerical check.
    args = [t.double().requires_grad_() for t in (h[:1, :2], ht[:1, :2], g[:1, :2], gt[:1, :2])]
    assert torch.autograd.gradcheck(lambda a, b, c, d: cascade_loss(a, b, c, d, lam=0.7, pos_weight=3.0), args)
    with pytest.raises(ValueError, match=r"lam must be ≥ 0, but found -1"):
        cascade_loss(h, ht, g, gt, lam=-1)


def test_cascade_trains_end_to_end():
    # One gradient step of E2 reaches both the fine model and the shared early features of the coarse model.
    torch.manual_seed(0)
    coarse = CoarseModel(9, pooling=16, width=4)
    cascade = Cascade(coarse, FineModel(9, in_channels=8, width=4))
    images, joints = torch.rand(2, 3, 64, 64), torch.rand(2, 9, 2) * 64
    out = cascade(images)
    target = gaussian_heatmaps(joints, 64, stride=16, sigma=16.0)
    loss = cascade_loss(out["coarse"], target, out["fine"], cascade.fine_targets(joints, out["centres"]))
    loss.backward()
    assert float(coarse.full_res.early[0][0].weight.grad.abs().sum()) > 0
    assert float(cascade.fine.last.weight.grad.abs().sum()) > 0


def test_standard_cascade_reads_only_the_rgb_crop_with_its_own_early_layers():
    # The slides' baseline differs from the shared-feature cascade only in sharing: its own copy of the early
    # layers (same starting weights, separate parameters) reads the RGB crop, and E_fine never trains the coarse
    # model.
    torch.manual_seed(0)
    coarse = CoarseModel(9, pooling=16, width=4)
    cascade = Cascade(coarse, FineModel(9, in_channels=8, width=4), crop=24, samples=12, shared_features=False)
    own = cascade.own_early[0][0][0].weight
    assert_close(own, coarse.full_res.early[0][0].weight)
    assert own.data_ptr() != coarse.full_res.early[0][0].weight.data_ptr()
    images = torch.rand(2, 3, 64, 64)
    centres = torch.tensor([[[20.0, 20.0]] * 9, [[40.0, 30.0]] * 9])  # (2, 9, 2)
    crops = cascade.crops(images, centres)
    assert crops.shape == (18, 8, 12, 12)
    changed = images.clone()
    changed[0, :, 40:, 40:] = 0.0  # far outside image 0's crops (x, y in [8, 32))
    changed[1, :, :5, :] = 1.0  # outside image 1's crops (y in [18, 42))
    assert_close(cascade.crops(changed, centres), crops)
    out = cascade(images, centres)
    loss = (out["fine"] ** 2).sum()  # E_fine alone
    loss.backward()
    assert coarse.full_res.early[0][0].weight.grad is None  # the coarse model gets nothing from E_fine
    assert float(cascade.own_early[0][0][0].weight.grad.abs().sum()) > 0
