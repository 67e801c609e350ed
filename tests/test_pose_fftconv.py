"""FFT convolution equals torch's direct ``conv2d(padding="same")``: odd and even kernels, groups, gradients."""

import pytest
import torch
import torch.nn.functional as F

from course_lib.pose.fftconv import direct_conv2d, fft_conv2d, next_fast_len, same_padding

CASES = [
    # B, C, H, W, C_out, groups, kh, kw
    (2, 3, 16, 16, 3, 3, 8, 8),  # depthwise, even kernel
    (1, 4, 13, 17, 6, 2, 5, 4),  # groups, mixed odd/even, non-square image
    (2, 2, 9, 7, 4, 1, 20, 3),  # kernel larger than the image
    (1, 1, 8, 8, 1, 1, 1, 1),  # 1 x 1
    (3, 5, 12, 10, 2, 1, 7, 7),  # dense, odd
    (1, 6, 11, 11, 6, 6, 31, 31),  # the spatial model's case: depthwise, kernel ≈ 2·image
]


@pytest.mark.filterwarnings("ignore:Using padding='same'")
@pytest.mark.parametrize("B,C,H,W,C_out,groups,kh,kw", CASES)
def test_fft_equals_conv2d(B, C, H, W, C_out, groups, kh, kw):
    g = torch.Generator().manual_seed(kh * 100 + kw)
    x = torch.randn(B, C, H, W, dtype=torch.float64, generator=g)
    w = torch.randn(C_out, C // groups, kh, kw, dtype=torch.float64, generator=g)
    expected = F.conv2d(x, w, padding="same", groups=groups)
    torch.testing.assert_close(direct_conv2d(x, w, groups=groups), expected)
    torch.testing.assert_close(fft_conv2d(x, w, groups=groups), expected, rtol=1e-10, atol=1e-10)


def test_float32_tolerance_and_dtype():
    x, w = torch.randn(2, 3, 32, 32), torch.randn(3, 1, 64, 64) / 64
    out = fft_conv2d(x, w, groups=3)
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, F.conv2d(x, w, padding="same", groups=3), rtol=1e-4, atol=1e-4)


def test_gradients_match_direct():
    x = torch.randn(2, 4, 9, 10, dtype=torch.float64, requires_grad=True)
    w = torch.randn(4, 1, 6, 5, dtype=torch.float64, requires_grad=True)
    gx, gw = torch.autograd.grad(fft_conv2d(x, w, groups=4).pow(2).sum(), (x, w))
    ex, ew = torch.autograd.grad(direct_conv2d(x, w, groups=4).pow(2).sum(), (x, w))
    torch.testing.assert_close(gx, ex)
    torch.testing.assert_close(gw, ew)
    small = (x[:1, :, :5, :6].detach().requires_grad_(), w[:, :, :3, :4].detach().requires_grad_())
    assert torch.autograd.gradcheck(lambda a, b: fft_conv2d(a, b, groups=4), small)


def test_impulse_shows_torch_even_padding():
    # An impulse at x = 4 correlated with taps [1, 2, 3, 4] lands as [4, 3, 2, 1] starting at x = 2: padding (1, 2).
    x = torch.zeros(1, 1, 1, 8)
    x[..., 4] = 1
    w = torch.arange(1.0, 5.0).view(1, 1, 1, 4)
    torch.testing.assert_close(fft_conv2d(x, w)[0, 0, 0], torch.tensor([0.0, 0, 4, 3, 2, 1, 0, 0]))
    assert same_padding(4) == (1, 2) and same_padding(5) == (2, 2)


def test_next_fast_len():
    assert [next_fast_len(n) for n in (1, 7, 11, 94, 191, 256)] == [1, 8, 12, 96, 192, 256]


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"x must be \(B, C, H, W\)"):
        fft_conv2d(torch.zeros(3, 8, 8), torch.zeros(3, 1, 3, 3))
    with pytest.raises(ValueError, match="groups=2 must divide"):
        fft_conv2d(torch.zeros(1, 3, 8, 8), torch.zeros(3, 1, 3, 3), groups=2)
    with pytest.raises(ValueError, match="input channels"):
        fft_conv2d(torch.zeros(1, 4, 8, 8), torch.zeros(4, 1, 3, 3), groups=2)
