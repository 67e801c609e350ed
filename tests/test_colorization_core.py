"""Lecture 07 library: Lab, bins, encodings, rebalancing, annealed mean, losses, metrics (against independent
references: scikit-image, per-pixel loops, hand-computed values)."""

import math

import numpy as np
import pytest
import torch
from hypothesis import example, given, settings
from hypothesis import strategies as st
from skimage.color import lab2rgb, rgb2lab
from torch.testing import assert_close

from course_lib.colorization import (
    ab_bins,
    accuracy_auc,
    accuracy_curve,
    accuracy_curve_loop,
    anneal,
    annealed_mean,
    annealed_mean_direct,
    decode_nearest,
    empirical_prior,
    encode_nearest,
    encode_nearest_loop,
    hsv_saturation,
    in_gamut_bins,
    l2_loss,
    lab_to_rgb,
    mean_chroma,
    mode,
    multinomial_cross_entropy,
    pixel_weights,
    rebalance_weights,
    rgb_to_lab,
    smooth_prior,
    soft_encode,
    soft_encode_loop,
)

EDGE_COLOURS = [(0, 0, 0), (1, 1, 1), (1, 0, 0), (0, 1, 0), (0, 0, 1), (1, 1, 0), (0, 1, 1), (1, 0, 1),
                (0.5, 0.5, 0.5), (0.04045, 0.0031308, 0.9)]


def _to_nchw(x_hwc: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(x_hwc)).permute(2, 0, 1)[None]  # (1, 3, H, W)


# ---------------------------------------------------------------------------------------------- Lab
def test_rgb_to_lab_matches_skimage_on_random_and_edge_colours():
    g = torch.Generator().manual_seed(0)
    rgb = torch.rand(2, 3, 16, 16, generator=g)
    edges = torch.tensor(EDGE_COLOURS, dtype=torch.float32).T.reshape(1, 3, 1, -1)  # (1, 3, 1, 10)
    for x in (rgb, edges):
        ours = rgb_to_lab(x)
        ref = torch.from_numpy(rgb2lab(x.permute(0, 2, 3, 1).numpy().astype(np.float64))).permute(0, 3, 1, 2)
        assert_close(ours.double(), ref, atol=0.01, rtol=0)


def test_lab_to_rgb_matches_skimage_and_round_trips():
    g = torch.Generator().manual_seed(1)
    rgb = torch.rand(2, 3, 8, 8, generator=g, dtype=torch.float64)
    lab = rgb_to_lab(rgb)
    assert_close(lab_to_rgb(lab), rgb, atol=1e-10, rtol=0)  # in gamut: exact round trip
    # Arbitrary Lab values, also out of gamut: both clip the same way.
    lab_any = torch.stack([torch.rand(8, 8, generator=g) * 100, torch.rand(8, 8, generator=g) * 200 - 100,
                           torch.rand(8, 8, generator=g) * 200 - 100])[None].double()  # (1, 3, 8, 8)
    with pytest.warns(UserWarning, match="negative Z values"):
        ref = lab2rgb(lab_any[0].permute(1, 2, 0).numpy())
    assert_close(lab_to_rgb(lab_any), _to_nchw(ref), atol=1e-6, rtol=0)


def test_lab_known_values_and_float32():
    white = rgb_to_lab(torch.ones(1, 3, 1, 1)).flatten()  # the sRGB matrix rounds: b = −0.005, not 0
    assert_close(white, torch.tensor([100.0, 0.0, 0.0]), atol=0.01, rtol=0)
    black = rgb_to_lab(torch.zeros(1, 3, 1, 1)).flatten()
    assert_close(black, torch.zeros(3), atol=1e-4, rtol=0)
    red = rgb_to_lab(torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)).flatten()
    assert_close(red, torch.tensor([53.24, 80.09, 67.20]), atol=0.01, rtol=0)


@settings(max_examples=30, deadline=None)
@given(st.tuples(st.floats(0, 1), st.floats(0, 1), st.floats(0, 1)))
@example((0.0, 0.0, 0.04045))  # sRGB's threshold: the one place where the round trip is not exact (below)
def test_lab_property_any_srgb_colour(rgb):
    x = torch.tensor(rgb, dtype=torch.float64).view(1, 3, 1, 1)
    ref = torch.from_numpy(rgb2lab(np.array(rgb, dtype=np.float64).reshape(1, 1, 3))).reshape(1, 1, 3)
    assert_close(rgb_to_lab(x).permute(0, 2, 3, 1).reshape(1, 1, 3), ref, atol=0.01, rtol=0)
    # sRGB's published constants join its two branches only to 3e-8: 0.04045 / 12.92 = 0.00313080 lies above the
    # inverse's threshold 0.0031308, so at exactly 0.04045 the way back takes the power branch and lands 2.96e-8 off
    # (the largest error over [0.0403, 0.0406] in steps of 1.5e-9; 1e-14 anywhere else). scikit-image's rgb2lab and
    # lab2rgb use the same constants. A random run found that point (2026-12-07): it is now always tried.
    assert_close(lab_to_rgb(rgb_to_lab(x)), x, atol=5e-8, rtol=0)


def test_lab_gradients_are_finite_at_black_and_white():
    x = torch.tensor([[0.0, 1.0], [0.5, 0.0]], dtype=torch.float64).expand(3, 2, 2)[None].clone().requires_grad_()
    rgb_to_lab(x).sum().backward()
    assert torch.isfinite(x.grad).all(), x.grad


def test_lab_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"rgb must have shape \(B, 3, H, W\); got \(1, 4, 2, 2\)"):
        rgb_to_lab(torch.zeros(1, 4, 2, 2))
    with pytest.raises(ValueError, match="rgb must have values in"):
        rgb_to_lab(torch.full((1, 3, 2, 2), 255.0))
    with pytest.raises(TypeError, match="rgb must be a torch.Tensor"):
        rgb_to_lab(np.zeros((1, 3, 2, 2)))


# ---------------------------------------------------------------------------------------------- bins
def test_paper_bins_shape_grid_and_centre():
    bins = ab_bins()
    assert bins.shape == (313, 2)
    assert_close(bins[120], torch.tensor([0.0, 0.0]))
    assert_close(torch.remainder(bins, 10.0), torch.zeros_like(bins))
    assert len({tuple(b) for b in bins.tolist()}) == 313


def test_every_srgb_colour_is_within_half_a_grid_diagonal_of_a_paper_bin():
    g = torch.linspace(0, 1, 48, dtype=torch.float64)
    r, gg, b = torch.meshgrid(g, g, g, indexing="ij")
    rgb = torch.stack([r, gg, b]).reshape(1, 3, -1, 1)
    ab = rgb_to_lab(rgb)[0, 1:, :, 0].T.float()  # (48^3, 2)
    nearest = torch.cdist(ab, ab_bins()).min(dim=1).values
    assert float(nearest.max()) <= 5 * math.sqrt(2) + 1e-4, float(nearest.max())


def test_derived_bins_are_a_subset_of_the_paper_bins():
    derived = in_gamut_bins(steps=32)
    paper = {tuple(b) for b in ab_bins().tolist()}
    assert 250 <= derived.shape[0] <= 270
    assert {tuple(b) for b in derived.tolist()} <= paper
    assert ab_bins("derived").shape[1] == 2
    with pytest.raises(ValueError, match="source must be one of"):
        ab_bins("imagenet")


# ------------------------------------------------------------------------------------------ encoding
def test_soft_encoding_of_grey_matches_the_worked_example():
    bins = ab_bins()
    z = soft_encode(torch.zeros(1, 2, 1, 1), bins, k=5, sigma=5.0)[0, :, 0, 0]  # (Q,)
    assert_close(z[120], torch.tensor(0.6488), atol=1e-4, rtol=0)
    neighbours = [i for i, (a, b) in enumerate(bins.tolist()) if (abs(a) + abs(b)) == 10]
    assert len(neighbours) == 4
    assert_close(z[neighbours], torch.full((4,), 0.0878), atol=1e-4, rtol=0)
    assert_close(z.sum(), torch.tensor(1.0))


def test_soft_encode_matches_the_loop_and_sums_to_one():
    g = torch.Generator().manual_seed(2)
    ab = torch.rand(2, 2, 3, 4, generator=g) * 160 - 80
    bins = ab_bins()
    for k, sigma in ((5, 5.0), (10, 5.0), (1, 2.0)):
        fast = soft_encode(ab, bins, k=k, sigma=sigma)
        assert fast.shape == (2, 313, 3, 4)
        assert_close(fast, soft_encode_loop(ab, bins, k=k, sigma=sigma), atol=1e-5, rtol=0)
        assert_close(fast.sum(dim=1), torch.ones(2, 3, 4), atol=1e-5, rtol=0)
        assert int((fast > 0).sum(dim=1).max()) <= k


def test_encode_nearest_matches_loop_and_decodes_to_bin_centres():
    g = torch.Generator().manual_seed(3)
    ab = rgb_to_lab(torch.rand(2, 3, 3, 3, generator=g))[:, 1:]  # colours that exist in sRGB
    bins = ab_bins()
    idx = encode_nearest(ab, bins)
    assert idx.shape == (2, 3, 3) and idx.dtype == torch.long
    assert_close(idx, encode_nearest_loop(ab, bins))
    centres = decode_nearest(idx, bins)
    assert float((centres - ab).norm(dim=1).max()) <= 5 * math.sqrt(2) + 1e-4


def test_encoding_errors():
    with pytest.raises(ValueError, match=r"ab must have shape \(B, 2, H, W\)"):
        soft_encode(torch.zeros(1, 3, 2, 2), ab_bins())
    with pytest.raises(ValueError, match="k must be ≤ Q = 313"):
        soft_encode(torch.zeros(1, 2, 1, 1), ab_bins(), k=400)
    with pytest.raises(ValueError, match="sigma must be > 0"):
        soft_encode(torch.zeros(1, 2, 1, 1), ab_bins(), sigma=0.0)
    with pytest.raises(ValueError, match=r"bins must have shape \(Q, 2\)"):
        encode_nearest(torch.zeros(1, 2, 1, 1), torch.zeros(5, 3))


# --------------------------------------------------------------------------------------- rebalancing
def test_rebalance_weights_worked_example():
    w = rebalance_weights(torch.tensor([0.5, 0.3, 0.2]), lam=0.5)
    assert_close(w, torch.tensor([0.8283, 1.0899, 1.2943]), atol=1e-4, rtol=0)


@settings(max_examples=25, deadline=None)
@given(st.lists(st.floats(0.01, 1.0), min_size=2, max_size=12), st.floats(0.05, 1.0))
def test_rebalance_weights_expectation_is_one_and_rare_is_heavier(raw, lam):
    p = torch.tensor(raw, dtype=torch.float64)
    p = p / p.sum()
    w = rebalance_weights(p, lam=lam)
    assert_close((p * w).sum(), torch.tensor(1.0, dtype=torch.float64))
    order = torch.argsort(p)
    assert bool((w[order][1:] <= w[order][:-1] + 1e-12).all())  # weights fall as the prior rises


def test_rebalance_lam_one_is_uniform_and_errors():
    p = torch.tensor([0.7, 0.2, 0.1])
    assert_close(rebalance_weights(p, lam=1.0), torch.ones(3))
    with pytest.raises(ValueError, match="lam must be in"):
        rebalance_weights(p, lam=1.5)
    with pytest.raises(ValueError, match="prior must sum to 1"):
        rebalance_weights(torch.tensor([0.5, 0.6]))
    with pytest.raises(ValueError, match="lam = 0 needs a prior without zeros"):
        rebalance_weights(torch.tensor([1.0, 0.0]), lam=0.0)


def test_empirical_prior_counts_and_smoothing():
    bins = ab_bins()
    ab = torch.zeros(1, 2, 2, 2)
    ab[0, :, 0, 0] = torch.tensor([30.0, -20.0])  # one pixel in bin (30, -20), three in (0, 0)
    raw = empirical_prior(ab, bins, sigma=0.0)
    assert_close(raw[120], torch.tensor(0.75))
    assert_close(raw.sum(), torch.tensor(1.0))
    smooth = empirical_prior([ab, ab], bins, sigma=5.0)
    assert_close(smooth.sum(), torch.tensor(1.0))
    assert float(smooth[120]) < 0.75 and float(smooth[121]) > 0  # mass spread to the neighbours
    # the smoothing is a Gaussian over bins: a neighbour at distance 10 gets e^-2 of the centre's share
    one = torch.zeros(313)
    one[120] = 1.0
    s = smooth_prior(one, bins, sigma=5.0)
    assert_close(s[121] / s[120], torch.tensor(math.exp(-2.0)), atol=1e-5, rtol=0)
    w = pixel_weights(ab, bins, rebalance_weights(smooth))
    assert w.shape == (1, 2, 2) and float(w[0, 0, 0]) > float(w[0, 1, 1])  # the rare colour weighs more


# --------------------------------------------------------------------------------------- annealed mean
def _random_probs(g, B=2, Q=313, H=3, W=3):
    return torch.softmax(torch.randn(B, Q, H, W, generator=g, dtype=torch.float64) * 3, dim=1)


def test_annealed_mean_at_t1_is_the_expectation():
    g = torch.Generator().manual_seed(4)
    bins = ab_bins().double()
    p = _random_probs(g)
    expectation = (p.unsqueeze(2) * bins.view(1, 313, 2, 1, 1)).sum(dim=1)  # (B, 2, H, W)
    assert_close(annealed_mean(p, bins, T=1.0), expectation)


def test_annealed_mean_at_small_t_is_the_mode_and_matches_the_formula():
    g = torch.Generator().manual_seed(5)
    bins = ab_bins().double()
    p = _random_probs(g)
    assert_close(annealed_mean(p, bins, T=1e-3), mode(p, bins), atol=1e-6, rtol=0)
    for T in (0.38, 0.7, 2.0):
        assert_close(annealed_mean(p, bins, T=T), annealed_mean_direct(p, bins, T=T))
    f = anneal(p, 0.38)
    assert_close(f.sum(dim=1), torch.ones(2, 3, 3, dtype=torch.float64))


def test_annealing_moves_from_mean_towards_mode_two_bins():
    bins = torch.tensor([[-50.0, 0.0], [50.0, 0.0]])
    p = torch.tensor([0.6, 0.4]).view(1, 2, 1, 1)
    a = [float(annealed_mean(p, bins, T=T)[0, 0, 0, 0]) for T in (1.0, 0.38, 0.1)]
    assert_close(torch.tensor(a[0]), torch.tensor(-10.0))
    assert a[0] > a[1] > a[2] > -50.0  # more saturated (closer to the mode) as T falls


def test_annealed_mean_errors():
    bins = ab_bins()
    with pytest.raises(ValueError, match="T must be a number > 0"):
        annealed_mean(torch.full((1, 313, 1, 1), 1 / 313), bins, T=0.0)
    with pytest.raises(ValueError, match=r"bins must have shape \(313, 2\)"):
        annealed_mean(torch.full((1, 313, 1, 1), 1 / 313), bins[:10])
    with pytest.raises(ValueError, match=r"probs must be \(B, Q, H, W\)"):
        annealed_mean(torch.full((313, 1, 1), 1 / 313), bins)


# ------------------------------------------------------------------------------------------- losses
def test_cross_entropy_matches_torch_and_is_weighted():
    g = torch.Generator().manual_seed(6)
    logits = torch.randn(2, 7, 3, 3, generator=g)
    hard = torch.randint(7, (2, 3, 3), generator=g)
    onehot = torch.nn.functional.one_hot(hard, 7).permute(0, 3, 1, 2).float()  # (2, 7, 3, 3)
    assert_close(multinomial_cross_entropy(logits, onehot), torch.nn.functional.cross_entropy(logits, hard))
    w = torch.rand(2, 3, 3, generator=g)
    ref = (torch.nn.functional.cross_entropy(logits, hard, reduction="none") * w).mean()
    assert_close(multinomial_cross_entropy(logits, onehot, w), ref)


def test_losses_gradcheck_float64():
    g = torch.Generator().manual_seed(7)
    logits = torch.randn(1, 5, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    target = torch.softmax(torch.randn(1, 5, 2, 2, generator=g, dtype=torch.float64), dim=1)
    w = torch.rand(1, 2, 2, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: multinomial_cross_entropy(x, target, w), (logits,))
    pred = torch.randn(1, 2, 2, 2, generator=g, dtype=torch.float64, requires_grad=True)
    true = torch.randn(1, 2, 2, 2, generator=g, dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: l2_loss(x, true), (pred,))
    assert_close(l2_loss(true + 3.0, true), torch.tensor(9.0, dtype=torch.float64))  # ½(3² + 3²)


def test_l2_is_minimised_by_the_mean_and_cross_entropy_by_the_distribution():
    # Half the pixels red, half green: the best constant under L2 is their mean (dull), under cross-entropy
    # the 50/50 distribution (both colours kept).
    red, green = torch.tensor([55.0, 45.0]), torch.tensor([-45.0, 45.0])
    true = torch.stack([red, green]).T.reshape(1, 2, 1, 2)  # (1, 2, 1, 2)
    candidates = torch.linspace(-60, 60, 121)
    losses = [float(l2_loss(torch.stack([c.expand(2), torch.full((2,), 45.0)]).view(1, 2, 1, 2), true))
              for c in candidates]
    assert_close(candidates[int(np.argmin(losses))], torch.tensor(5.0))  # a = (55 − 45)/2


# ------------------------------------------------------------------------------------------- metrics
def test_accuracy_curve_matches_loop_and_auc_bounds():
    g = torch.Generator().manual_seed(8)
    true = torch.rand(2, 2, 5, 5, generator=g) * 100 - 50
    pred = true + torch.randn(2, 2, 5, 5, generator=g) * 30
    w = torch.rand(2, 5, 5, generator=g)
    for weights in (None, w):
        t, fast = accuracy_curve(pred, true, weights=weights)
        t2, slow = accuracy_curve_loop(pred, true, weights=weights)
        assert t.shape == (151,)
        assert_close(fast, slow, atol=1e-6, rtol=0)
    assert accuracy_auc(true, true) == pytest.approx(1.0)
    far = true + 1000.0
    assert accuracy_auc(far, true) == pytest.approx(0.0)
    # an error of exactly 75 everywhere: accurate from threshold 75 on, so AuC = 75/150 (trapezoid: 75.5/150)
    shifted = true.clone()
    shifted[:, 0] += 75.0
    assert accuracy_auc(shifted, true) == pytest.approx(75.5 / 150, abs=1e-4)


def test_saturation_metrics():
    ab = torch.zeros(1, 2, 2, 2)
    ab[0, 0] = 30.0
    ab[0, 1] = 40.0
    assert mean_chroma(ab) == pytest.approx(50.0)
    mask = torch.tensor([[[True, False], [False, False]]])
    assert mean_chroma(torch.zeros(1, 2, 2, 2), mask) == 0.0
    rgb = torch.tensor([1.0, 0.5, 0.5]).view(1, 3, 1, 1).expand(1, 3, 2, 2)
    assert hsv_saturation(rgb) == pytest.approx(0.5)
    with pytest.raises(ValueError, match="mask selects no pixel"):
        mean_chroma(ab, torch.zeros(1, 2, 2, dtype=torch.bool))


@pytest.mark.gpu
def test_pipeline_runs_on_gpu_and_agrees_with_cpu():
    g = torch.Generator().manual_seed(9)
    rgb = torch.rand(2, 3, 8, 8, generator=g)
    lab_cpu = rgb_to_lab(rgb)
    lab_gpu = rgb_to_lab(rgb.cuda())
    assert lab_gpu.is_cuda
    assert_close(lab_gpu.cpu(), lab_cpu, atol=1e-3, rtol=0)
    z = soft_encode(lab_gpu[:, 1:], ab_bins())
    assert z.is_cuda
    assert_close(annealed_mean(z, ab_bins(), T=0.38).cpu(),
                 annealed_mean(soft_encode(lab_cpu[:, 1:], ab_bins()), ab_bins(), T=0.38), atol=1e-3, rtol=0)


def test_per_image_auc_splits_the_auc_exactly_and_the_bootstrap_brackets_the_difference():
    from course_lib.colorization.metrics import bootstrap_auc, per_image_auc

    g = torch.Generator().manual_seed(5)
    true = torch.randn(6, 2, 5, 7, generator=g) * 40
    good = true + torch.randn(6, 2, 5, 7, generator=g) * 10
    bad = true + torch.randn(6, 2, 5, 7, generator=g) * 60
    w = torch.rand(6, 5, 7, generator=g)
    for weights in (None, w):
        S, W = per_image_auc(good, true, weights=weights)
        assert float(S.sum() / W.sum()) == pytest.approx(accuracy_auc(good, true, weights=weights), abs=1e-6)
    shares = {"good": per_image_auc(good, true), "bad": per_image_auc(bad, true)}
    (diff, lo, hi), = bootstrap_auc(shares, [("good", "bad")], n=500).values()
    assert diff == pytest.approx(accuracy_auc(good, true) - accuracy_auc(bad, true), abs=1e-6)
    assert 0 < lo <= diff <= hi
    same = bootstrap_auc({"a": shares["good"], "b": shares["good"]}, [("a", "b")], n=50)[("a", "b")]
    assert same == (0.0, 0.0, 0.0)
