"""Bilinear upsampling kernel (FCN's initialisation), the Upsample module's alignment, FCN output sizes."""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.segmentation import FCN, Upsample, bilinear_kernel, bilinear_kernel_loop, fuse_skip


def formula(k: int) -> torch.Tensor:
    """The original surgery.upsample_filt, written out independently in float64."""
    factor = (k + 1) // 2
    center = factor - 1 if k % 2 == 1 else factor - 0.5
    i = torch.arange(k, dtype=torch.float64)
    f = 1 - (i - center).abs() / factor
    return f[:, None] * f[None, :]


@pytest.mark.parametrize("k", [3, 4, 16, 64])
def test_bilinear_kernel_matches_formula(k):
    w = bilinear_kernel(3, k)
    assert w.shape == (3, 3, k, k) and w.dtype == torch.float32
    for c in range(3):
        torch.testing.assert_close(w[c, c], formula(k).float())
        for d in range(3):
            if d != c:
                assert w[c, d].abs().max() == 0, "bilinear upsampling must act per channel only"
    torch.testing.assert_close(w, bilinear_kernel_loop(3, k))


def test_k4_weights_are_quarter_three_quarter():
    w = bilinear_kernel(1, 4)[0, 0]
    one_d = torch.tensor([0.25, 0.75, 0.75, 0.25])
    torch.testing.assert_close(w, one_d[:, None] * one_d[None, :])


def test_k3_is_a_tent_with_peak_one():
    torch.testing.assert_close(bilinear_kernel(1, 3)[0, 0, 1], torch.tensor([0.5, 1.0, 0.5]))


@pytest.mark.parametrize("factor", [2, 8, 32])
def test_upsample_reproduces_linear_ramps_in_the_interior(factor):
    """A ramp sampled on the coarse grid (centres at s·i + (s−1)/2) upsamples to the ramp on the fine grid."""
    s, n = 2 * factor, 6  # coarse stride s, fine stride s / factor
    coarse_x = s * torch.arange(n, dtype=torch.float64) + (s - 1) / 2  # coordinate of coarse pixel centres
    x = (0.3 * coarse_x[None, :] - 0.7 * coarse_x[:, None] + 2.0)[None, None]  # (1, 1, n, n): a 2-D ramp
    up = Upsample(1, factor).double()
    y = up(x)[0, 0]  # (factor·n, factor·n)
    fine_s = s // factor
    fine_x = fine_s * torch.arange(factor * n, dtype=torch.float64) + (fine_s - 1) / 2
    want = 0.3 * fine_x[None, :] - 0.7 * fine_x[:, None] + 2.0
    # Interior: away from the first and last half coarse pixel, where the zero padding of the edges enters.
    inner = slice(factor, factor * (n - 1))
    torch.testing.assert_close(y[inner, inner].detach(), want[inner, inner])


def test_upsample_matches_conv_transpose_with_padding():
    """Cropping f/2 explicitly = ConvTranspose2d(padding=f/2), torch's built-in crop."""
    x = torch.randn(2, 4, 5, 7)
    up = Upsample(4, 8)
    ref = F.conv_transpose2d(x, up.deconv.weight, stride=8, padding=4)
    torch.testing.assert_close(up(x), ref)


def test_upsample_learnable_flag():
    assert Upsample(3, 2).deconv.weight.requires_grad
    assert not Upsample(3, 2, learnable=False).deconv.weight.requires_grad


@settings(max_examples=12, deadline=None)
@given(h=st.integers(1, 70), w=st.integers(1, 70), variant=st.sampled_from(["32s", "16s", "8s"]))
def test_fcn_output_size_equals_input_size(h, w, variant):
    torch.manual_seed(0)
    model = FCN(3, variant, width=2).eval()
    with torch.no_grad():
        out = model(torch.rand(1, 3, h, w))
    assert out.shape == (1, 3, h, w)


@pytest.mark.parametrize("h,w", [(33, 47), (65, 31), (1, 1)])
def test_fcn_odd_sizes_all_variants(h, w):
    for variant in ("32s", "16s", "8s"):
        model = FCN(5, variant, width=2).eval()
        with torch.no_grad():
            maps = model.intermediates(torch.rand(2, 3, h, w))
        assert maps["out"].shape == (2, 5, h, w)
        assert maps["score_fr"].shape[-2:] == (-(-h // 32), -(-w // 32))
        if variant == "8s":
            assert maps["fuse_pool3"].shape[-2:] == (-(-h // 8), -(-w // 8))


def test_score_layers_start_at_zero():
    model = FCN(5, "8s", width=2)
    for name in ("score_fr", "score_pool4", "score_pool3"):
        layer = getattr(model, name)
        assert layer.weight.abs().max() == 0 and layer.bias.abs().max() == 0
    with torch.no_grad():
        assert model(torch.rand(1, 3, 40, 40)).abs().max() == 0


def test_fuse_skip_crops_then_adds():
    up = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).view(2, 3, 8, 8)
    skip = torch.ones(2, 3, 5, 6)
    torch.testing.assert_close(fuse_skip(up, skip, offset=1), up[..., 1:6, 1:7] + 1)
    with pytest.raises(ValueError, match="upscored"):
        fuse_skip(torch.zeros(2, 4, 8, 8), skip, offset=1)
    with pytest.raises(ValueError, match="too small"):
        fuse_skip(up, torch.ones(2, 3, 8, 8), offset=1)


def test_bad_inputs_raise_clear_errors():
    with pytest.raises(ValueError, match="variant"):
        FCN(5, "4s")
    with pytest.raises(ValueError, match=r"images must be \(B, C, H, W\)"):
        FCN(5, "8s", width=2)(torch.zeros(3, 32, 32))
    with pytest.raises(ValueError, match="kernel_size"):
        bilinear_kernel(2, 0)
    with pytest.raises(ValueError, match="x must have shape"):
        Upsample(3, 2)(torch.zeros(1, 4, 5, 5))


def test_fcn_gradients_reach_backbone_through_zero_scores():
    model = FCN(3, "8s", width=2)
    x, y = torch.rand(2, 3, 32, 32), torch.randint(0, 3, (2, 32, 32))
    F.cross_entropy(model(x), y).backward()
    assert model.score_pool3.weight.grad.abs().sum() > 0
    assert model.upscore_pool4.deconv.weight.grad is not None
    assert model.upscore_final.deconv.weight.grad is None  # fixed, as the original's final upsampling


def test_torchvision_backbone_any_size():
    """The full-profile backbone: torchvision's VGG (random init, nothing downloaded), ceil-mode pools."""
    model = FCN(21, "8s", "vgg11_bn", width=4).eval()
    with torch.no_grad():
        assert model(torch.rand(1, 3, 45, 70)).shape == (1, 21, 45, 70)
    assert model.backbone.channels == {"pool3": 256, "pool4": 512, "fc7": 64}
