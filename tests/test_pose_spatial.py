"""The spatial model: shapes, the slides' formula by hand, FFT = direct, gradients (gradcheck), errors."""

import pytest
import torch
import torch.nn.functional as F

from course_lib.pose.spatial import SpatialModel, belief_loss, message_graph, softplus_beta


def by_hand(model: SpatialModel, heatmaps: torch.Tensor) -> torch.Tensor:
    """ē_A = exp(Σ_v log(SoftPlus(e_A|v) * ReLU(e_v) + SoftPlus(b_v→A))), one message at a time, normalised."""
    beta = model.beta.clamp(0.5, 2.0)
    B, J, H, W = heatmaps.shape
    r = model.kernel_size // 2
    log_e = torch.zeros(B, J, H, W, dtype=heatmaps.dtype)
    for e, (v, a) in enumerate(model.messages):
        kern = softplus_beta(model.kernels[e], beta)  # (k, k), display orientation: A at v + offset
        src = heatmaps[:, v].clamp_min(model.eps)  # (B, H, W)
        msg = torch.zeros(B, H, W, dtype=heatmaps.dtype)
        for dy in range(-r, r + 1):  # scatter each source pixel's mass to x_A = x_v + (dx, dy)
            for dx in range(-r, r + 1):
                shifted = torch.zeros_like(src)
                ys, yd = slice(max(0, -dy), min(H, H - dy)), slice(max(0, dy), min(H, H + dy))
                xs, xd = slice(max(0, -dx), min(W, W - dx)), slice(max(0, dx), min(W, W + dx))
                shifted[:, yd, xd] = src[:, ys, xs]
                msg = msg + kern[r + dy, r + dx] * shifted
        log_e[:, a] += torch.log(msg + softplus_beta(model.background[e], beta))
    return torch.softmax(log_e.reshape(B, J, -1), dim=-1).reshape(B, J, H, W)


@pytest.mark.parametrize("use_fft", [False, True])
def test_matches_the_slides_formula(use_fft):
    torch.manual_seed(0)
    model = SpatialModel(3, [(0, 1), (1, 2)], 5, beta=0.7, use_fft=use_fft).double()
    with torch.no_grad():
        model.kernels.normal_()
        model.background.normal_()
    h = torch.rand(2, 3, 6, 7, dtype=torch.float64) - 0.2  # negative scores exercise the ReLU floor
    torch.testing.assert_close(model(h), by_hand(model, h))


def test_fft_and_direct_agree_and_normalise():
    torch.manual_seed(1)
    a = SpatialModel(4, "full", 17, use_fft=True)
    b = SpatialModel(4, "full", 17, use_fft=False)
    b.load_state_dict(a.state_dict())
    with torch.no_grad():
        a.kernels.normal_(0, 0.5)
        b.kernels.copy_(a.kernels)
    h = torch.rand(3, 4, 12, 12)
    out = a(h)
    assert out.shape == (3, 4, 12, 12) and out.dtype == torch.float32
    torch.testing.assert_close(out, b(h), rtol=1e-4, atol=1e-6)
    torch.testing.assert_close(out.sum(dim=(2, 3)), torch.ones(3, 4))


@pytest.mark.parametrize("use_fft", [False, True])
def test_gradcheck_float64(use_fft):
    torch.manual_seed(2)
    model = SpatialModel(3, [(0, 1), (1, 2)], 5, beta=1.3, use_fft=use_fft).double()
    with torch.no_grad():
        model.kernels.normal_(0, 0.5)
    h = (torch.rand(2, 3, 5, 6, dtype=torch.float64) + 0.05).requires_grad_()
    params = {name: p.detach().clone().requires_grad_() for name, p in model.named_parameters()}

    def f(h, beta, kernels, background):
        return torch.func.functional_call(model, {"beta": beta, "kernels": kernels, "background": background}, (h,))

    assert torch.autograd.gradcheck(f, (h, params["beta"], params["kernels"], params["background"]))


def test_gradients_reach_every_parameter_and_the_input():
    model = SpatialModel(9, "full", 31)
    h = torch.rand(2, 9, 16, 16, requires_grad=True)
    target = torch.rand(2, 9, 16, 16)
    belief_loss(model.log_belief(h), target).backward()
    for name, p in model.named_parameters():
        assert p.grad is not None and torch.isfinite(p.grad).all() and p.grad.abs().sum() > 0, name
    assert h.grad.abs().sum() > 0


def test_a_learned_offset_fixes_a_distractor():
    # Joint 1 always lies 3 cells right of joint 0. The detector sees joint 1 at its true place (weakly) and at a
    # distractor (strongly); joint 0 is unambiguous. The spatial model, with kernels from the offsets, picks the
    # right place.
    H = W = 12
    joints = torch.tensor([[[2.0, 5.0], [5.0, 5.0]]]).repeat(8, 1, 1)  # (n, J, 2) in cells (stride 1)
    model = SpatialModel(2, [(0, 1)], 9, use_fft=False).init_from_joints(joints, stride=1, smooth=0.5)
    h = torch.zeros(1, 2, H, W)
    h[0, 0, 5, 2] = 1.0
    h[0, 1, 5, 5] = 0.6
    h[0, 1, 9, 10] = 1.0  # the distractor
    out = model(h)
    assert h[0, 1].argmax() == 9 * W + 10
    assert out[0, 1].argmax() == 5 * W + 5
    kern = model.conditional_kernels()[model.messages.index((0, 1))]
    assert kern.argmax() == 4 * 9 + 7  # centre row, 3 to the right


def test_message_graph_and_repr():
    assert message_graph(3, [(0, 1)]) == [(0, 0), (1, 1), (2, 2), (0, 1), (1, 0)]
    assert len(message_graph(4, "full")) == 16
    model = SpatialModel(9, "full", 63)
    assert "kernel_size=63" in repr(model) and "use_fft=True" in repr(model) and "messages=81" in repr(model)
    assert not SpatialModel(2, [(0, 1)], 7).use_fft


def test_beta_is_clamped():
    model = SpatialModel(2, [(0, 1)], 3)
    with torch.no_grad():
        model.beta.fill_(10.0)
    kern = model.conditional_kernels()
    torch.testing.assert_close(kern, F.softplus(2.0 * model.kernels) / 2.0)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        SpatialModel(3, "full", 8)
    with pytest.raises(ValueError, match=r"beta must be in \[1/2, 2\]"):
        SpatialModel(3, "full", 5, beta=3.0)
    with pytest.raises(ValueError, match=r"eps must be in \(0, 0.01\]"):
        SpatialModel(3, "full", 5, eps=0.0)
    with pytest.raises(ValueError, match="distinct joints"):
        SpatialModel(3, [(0, 3)], 5)
    with pytest.raises(ValueError, match=r"heatmaps must have shape \(B, 3, H, W\)"):
        SpatialModel(3, "full", 5)(torch.rand(1, 4, 8, 8))
