"""Lecture 06: PatchMLP's fold/unfold averaging is exact; DnCNN is residual; RestorationNet keeps known pixels and
starts as the identity; the classical baselines run on a small image and help."""

import pytest
import torch

from course_lib.restoration import (
    DnCNN,
    PatchMLP,
    RestorationNet,
    add_gaussian_noise,
    apply_net,
    average_patches,
    average_patches_loop,
    baselines,
    blur,
    extract_patches,
    load_photo,
    motion_kernel,
    psnr,
    random_pixel_mask,
    receptive_field,
)
from course_lib.restoration.nets import dilations, prefill


@pytest.mark.parametrize("patch, stride", [(5, 1), (5, 2), (4, 4), (7, 3)])
def test_fold_unfold_averaging_is_exact_on_a_clean_image_and_matches_the_loop(patch, stride):
    H, W = patch + 3 * stride, patch + 2 * stride
    x = torch.rand(2, 3, H, W, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    cols = extract_patches(x, patch, stride)  # (N, L, C·P²)
    assert cols.shape == (2, 4 * 3, 3 * patch * patch)
    torch.testing.assert_close(average_patches(cols, (H, W), patch, stride), x)
    noisy = cols + torch.randn(cols.shape, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    torch.testing.assert_close(average_patches(noisy, (H, W), patch, stride),
                               average_patches_loop(noisy, (H, W), patch, stride))


def test_patch_mlp_maps_patches_to_patches_and_denoises_any_image_size():
    net = PatchMLP(patch=7, hidden=32, layers=2)
    assert net(torch.rand(5, 1, 7, 7)).shape == (5, 1, 7, 7)
    out = net.denoise(torch.rand(2, 1, 30, 23), stride=3)
    assert out.shape == (2, 1, 30, 23) and 0 <= float(out.min()) and float(out.max()) <= 1
    with pytest.raises(ValueError, match=r"y must have shape \(N, 1, 7, 7\)"):
        net(torch.rand(5, 1, 8, 8))
    with pytest.raises(ValueError, match="at least 7"):
        net.denoise(torch.rand(1, 1, 5, 30))


def test_dncnn_keeps_the_shape_and_returns_input_minus_predicted_noise():
    torch.manual_seed(0)
    net = DnCNN(channels=1, depth=4, width=8).eval()
    y = torch.rand(2, 1, 17, 23)
    out = net(y)
    assert out.shape == y.shape
    torch.testing.assert_close(out, y - net.noise(y))
    assert not torch.allclose(out, y)
    with pytest.raises(ValueError, match=r"y must have shape \(N, 1, H, W\)"):
        net(torch.rand(2, 3, 8, 8))
    with pytest.raises(ValueError, match="depth must be ≥ 2"):
        DnCNN(depth=1)
    assert "depth=4, width=8" in repr(net)


def test_restoration_net_starts_as_identity_and_inpainting_keeps_known_pixels():
    torch.manual_seed(0)
    y = torch.rand(2, 3, 24, 24)
    net = RestorationNet(channels=3, depth=5, width=8).eval()
    torch.testing.assert_close(net(y), y)  # last layer starts at zero
    inp = RestorationNet(channels=3, extra=1, depth=5, width=8)
    torch.nn.init.normal_(inp.body[-1].weight)
    m = random_pixel_mask(y.shape, 0.4, generator=torch.Generator().manual_seed(0))
    out = inp.eval()(y, m)
    known = (m < 0.5).expand_as(y)
    torch.testing.assert_close(out[known], y[known])
    assert not torch.allclose(out[~known], y[~known])
    with pytest.raises(ValueError, match="mask-aware"):
        inp(y)
    assert dilations(8) == [1, 2, 4, 8, 8, 4, 2, 1] and receptive_field(8) == 61


def test_prefill_fills_holes_with_local_means_and_leaves_known_pixels():
    x = torch.full((1, 1, 20, 20), 0.6)
    m = torch.zeros(1, 1, 20, 20)
    m[..., 5:15, 5:15] = 1  # a 10 x 10 hole in a constant image
    y = x * (1 - m)
    torch.testing.assert_close(prefill(y, m), x)


def test_apply_net_clips_and_batches():
    net = RestorationNet(channels=1, depth=3, width=4)
    y = torch.rand(5, 1, 16, 16) * 1.2
    out = apply_net(net, y.clamp(0, 1), batch_size=2)
    assert out.shape == y.shape


@pytest.fixture(scope="module")
def crop():
    return load_photo("camera", size=48)[None]  # (1, 1, 48, 48)


def test_denoising_baselines_run_and_improve_on_the_noisy_input(crop):
    y = add_gaussian_noise(crop, 25, generator=torch.Generator().manual_seed(0))
    base = float(psnr(y.clamp(0, 1), crop))
    for out in (baselines.bm3d_denoise(y, 25), baselines.nlm_denoise(y), baselines.tv_denoise(y, 25),
                baselines.wavelet_denoise(y, 25)):
        assert out.shape == crop.shape and float(psnr(out, crop)) > base + 1


def test_deblurring_inpainting_and_median_baselines_run(crop):
    k = motion_kernel(7, 30)
    y = blur(crop, k)
    for out in (baselines.wiener_deconv(y, k), baselines.richardson_lucy_deconv(y, k, num_iter=10),
                baselines.unsupervised_wiener_deconv(y, k)):
        assert out.shape == crop.shape and torch.isfinite(out).all()
    assert float(psnr(baselines.richardson_lucy_deconv(y, k, num_iter=10), crop)) > float(psnr(y, crop))
    m = random_pixel_mask(crop.shape, 0.3, generator=torch.Generator().manual_seed(0))
    holes = crop * (1 - m)
    assert float(psnr(baselines.biharmonic_inpaint(holes, m), crop)) > float(psnr(holes, crop)) + 5
    assert baselines.median_denoise(torch.rand(1, 3, 20, 20)).shape == (1, 3, 20, 20)
    with pytest.raises(ValueError, match="sum to 1"):
        baselines.wiener_deconv(y, k * 2)


@pytest.mark.gpu
def test_cpu_and_gpu_agree_on_metrics_corruptions_and_nets():
    x = torch.rand(2, 3, 32, 32, generator=torch.Generator().manual_seed(0))
    y = add_gaussian_noise(x, 25, generator=torch.Generator().manual_seed(1))
    yc = add_gaussian_noise(x.cuda(), 25, generator=torch.Generator().manual_seed(1))  # CPU generator, GPU images
    torch.testing.assert_close(yc.cpu(), y)
    torch.testing.assert_close(psnr(yc, x.cuda()).cpu(), psnr(y, x))
    from course_lib.restoration import ssim

    torch.testing.assert_close(ssim(yc.clamp(0, 1), x.cuda()).cpu(), ssim(y.clamp(0, 1), x), atol=1e-6, rtol=0)
    net = DnCNN(channels=3, depth=4, width=8).eval()
    with torch.no_grad():
        torch.testing.assert_close(net.cuda()(yc).cpu(), net.cpu()(y), atol=1e-4, rtol=0)
    torch.testing.assert_close(blur(x.cuda(), motion_kernel(7, 30)).cpu(), blur(x, motion_kernel(7, 30)), atol=1e-6,
                               rtol=0)
