"""Lecture 06: psnr and ssim agree with scikit-image on random images and edge cases; errors are clear."""

import math

import numpy as np
import pytest
import torch
from skimage.metrics import peak_signal_noise_ratio, structural_similarity

from course_lib.restoration import psnr, ssim


def _sk_ssim(a, b, data_range):
    kw = dict(data_range=data_range, gaussian_weights=True, sigma=1.5, use_sample_covariance=False)
    if a.shape[0] == 1:
        return structural_similarity(a[0], b[0], **kw)
    return structural_similarity(a, b, channel_axis=0, **kw)


@pytest.mark.parametrize("C, H, W", [(1, 32, 32), (3, 40, 27), (1, 11, 64)])
def test_psnr_and_ssim_match_scikit_image(C, H, W):
    g = torch.Generator().manual_seed(C * H + W)
    x = torch.rand(3, C, H, W, generator=g)
    y = (x + 0.1 * torch.randn(x.shape, generator=g)).clamp(0, 1)
    p, s = psnr(x, y), ssim(x, y)
    assert p.shape == s.shape == (3,)
    for i in range(3):
        a, b = x[i].double().numpy(), y[i].double().numpy()
        assert float(p[i]) == pytest.approx(peak_signal_noise_ratio(a, b, data_range=1.0), abs=1e-4)
        assert float(s[i]) == pytest.approx(_sk_ssim(a, b, 1.0), abs=1e-3)


def test_8bit_images_with_data_range_255_agree_with_the_float_version_and_do_not_wrap():
    g = torch.Generator().manual_seed(1)
    x8 = torch.randint(0, 256, (2, 1, 24, 24), generator=g, dtype=torch.uint8)
    y8 = torch.randint(0, 256, (2, 1, 24, 24), generator=g, dtype=torch.uint8)
    want = [peak_signal_noise_ratio(a[0].numpy(), b[0].numpy(), data_range=255) for a, b in zip(x8, y8)]
    torch.testing.assert_close(psnr(x8, y8, data_range=255), torch.tensor(want, dtype=torch.float64), atol=1e-4,
                               rtol=0)
    torch.testing.assert_close(psnr(x8, y8, data_range=255), psnr(x8 / 255.0, y8 / 255.0), atol=1e-4, rtol=0)
    s_want = [_sk_ssim(a.numpy(), b.numpy(), 255) for a, b in zip(x8, y8)]
    torch.testing.assert_close(ssim(x8, y8, data_range=255), torch.tensor(s_want, dtype=torch.float64),
                               atol=1e-3, rtol=0)


def test_identical_images_give_inf_psnr_and_ssim_one_including_constant_images():
    x = torch.rand(2, 3, 16, 16)
    x[1] = 0.5  # a constant image
    assert torch.isinf(psnr(x, x)).all() and (psnr(x, x) > 0).all()
    torch.testing.assert_close(ssim(x, x), torch.ones(2, dtype=torch.float64))
    c = torch.full((1, 1, 16, 16), 0.25)
    d = torch.full((1, 1, 16, 16), 0.75)
    assert float(psnr(c, d)) == pytest.approx(10 * math.log10(1 / 0.25), abs=1e-6)
    assert float(ssim(c, d)) == pytest.approx(_sk_ssim(c[0].numpy(), d[0].numpy(), 1.0), abs=1e-6)


def test_psnr_known_value_and_one_value_per_image():
    x = torch.zeros(2, 1, 8, 8)
    y = torch.stack([torch.full((1, 8, 8), 0.1), torch.full((1, 8, 8), 0.01)])
    torch.testing.assert_close(psnr(x, y), torch.tensor([20.0, 40.0], dtype=torch.float64))


@pytest.mark.parametrize("bad, match", [
    (lambda: psnr(torch.rand(1, 8, 8), torch.rand(1, 8, 8)), r"x must be \(N, C, H, W\); got \(1, 8, 8\)"),
    (lambda: psnr(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 9)), "same shape"),
    (lambda: psnr(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8), data_range=0), "data_range must be a positive"),
    (lambda: psnr(torch.full((1, 1, 8, 8), float("nan")), torch.rand(1, 1, 8, 8)), "x must be finite"),
    (lambda: ssim(torch.rand(1, 1, 8, 8), torch.rand(1, 1, 8, 8)), "at least 11"),
])
def test_clear_errors(bad, match):
    with pytest.raises(ValueError, match=match):
        bad()


def test_int_images_other_than_uint8_are_refused():
    with pytest.raises(TypeError, match="floating or uint8"):
        psnr(torch.zeros(1, 1, 8, 8, dtype=torch.int64), torch.zeros(1, 1, 8, 8, dtype=torch.int64))


def test_metrics_run_on_the_default_device():
    from course_lib import get_device

    d = get_device()
    x = torch.rand(1, 1, 16, 16, device=d)
    assert np.isfinite(float(psnr(x, x * 0.9)))
    assert float(ssim(x, x)) == pytest.approx(1.0)


def test_psnr_accepts_unclipped_noisy_images_but_not_a_wrong_unit():
    clean = torch.full((1, 1, 4, 4), 0.5)
    noisy = clean + torch.tensor([1.2, -0.9, 0.0, 0.1]).repeat(4).view(1, 1, 4, 4)  # σ = 50 overshoots [0, 1]
    mse = float(((noisy - clean) ** 2).mean())
    assert float(psnr(noisy, clean)) == pytest.approx(10 * math.log10(1 / mse))
    eight = (clean * 255).to(torch.uint8)
    assert float(psnr(eight, eight + 5, data_range=255)) == pytest.approx(10 * math.log10(255**2 / 25))
    with pytest.raises(ValueError, match=r"so data_range must be 255"):
        ssim(torch.zeros(1, 1, 16, 16, dtype=torch.uint8), torch.zeros(1, 1, 16, 16, dtype=torch.uint8))
