"""Belief propagation on a chain against brute-force enumeration, and the star / convolutional approximations."""

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_lib.pose.bp import bp_message, brute_force_marginals, chain_marginals, chain_messages
from course_lib.pose.convbp import (
    chain_star_edges,
    conv_marginals,
    conv_message,
    offset_kernel,
    offset_potentials,
    star_belief,
    star_marginals,
    total_variation,
)


def random_chain(J, N, seed, *, peak=1.0, dtype=torch.float64):
    """Random non-negative potentials exp(peak · noise): peak ≫ 1 makes them spiky (tiny values everywhere else)."""
    g = torch.Generator().manual_seed(seed)
    unary = torch.exp(peak * torch.randn(J, N, generator=g, dtype=dtype))
    pairwise = torch.exp(peak * torch.randn(J - 1, N, N, generator=g, dtype=dtype))
    return unary, pairwise


@pytest.mark.parametrize("J,N", [(1, 5), (2, 3), (3, 7), (4, 9), (5, 6), (8, 4)])
def test_bp_equals_brute_force(J, N):
    unary, pairwise = random_chain(J, N, seed=J * 10 + N)
    torch.testing.assert_close(chain_marginals(unary, pairwise), brute_force_marginals(unary, pairwise))


@settings(max_examples=25, deadline=None)
@given(J=st.integers(1, 5), N=st.integers(1, 6), seed=st.integers(0, 10_000), zeros=st.booleans())
def test_bp_property(J, N, seed, zeros):
    unary, pairwise = random_chain(J, N, seed)
    if zeros:  # some impossible states, but keep one configuration possible
        unary = unary * (torch.rand(J, N, generator=torch.Generator().manual_seed(seed)) > 0.3)
        unary[:, 0] = 1.0
        pairwise[:, 0, 0] = 1.0
    marg = chain_marginals(unary, pairwise)
    torch.testing.assert_close(marg.sum(dim=1), torch.ones(J, dtype=marg.dtype))
    torch.testing.assert_close(marg, brute_force_marginals(unary, pairwise))


def test_peaked_potentials_that_underflow_naively():
    # Potentials between 1e-37 and 1e-26, fine in float32 one by one; but a naive forward pass multiplies them
    # (1e-26 * 1e-26 = 1e-52 -> 0), giving 0/0 after normalising. Log-domain BP keeps the answer.
    J, N = 8, 5
    g = torch.Generator().manual_seed(3)
    u64 = torch.exp(-torch.empty(J, N, dtype=torch.float64).uniform_(60, 85, generator=g))
    p64 = torch.exp(-torch.empty(J - 1, N, N, dtype=torch.float64).uniform_(60, 85, generator=g))
    u32, p32 = u64.float(), p64.float()
    assert (u32 > 0).all() and (p32 > 0).all()
    naive = u32[0]
    for j in range(1, J):
        naive = (naive[:, None] * p32[j - 1]).sum(0) * u32[j]
    assert naive.sum() == 0  # the naive forward pass underflows completely
    got = chain_marginals(u32, p32)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, chain_marginals(u64, p64).float(), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(chain_marginals(u64, p64), brute_force_marginals(u64, p64))
    # Sharply peaked (but representable) potentials: still exact against enumeration.
    unary, pairwise = random_chain(5, 6, seed=4, peak=12.0)
    torch.testing.assert_close(chain_marginals(unary, pairwise), brute_force_marginals(unary, pairwise))


def test_large_chain_is_stable():
    J, N = 8, 1024
    unary, pairwise = random_chain(J, N, seed=1, peak=8.0, dtype=torch.float32)
    marg = chain_marginals(unary, pairwise)
    assert torch.isfinite(marg).all()
    torch.testing.assert_close(marg.sum(dim=1), torch.ones(J))


def test_hand_computed_two_node_chain():
    unary = torch.tensor([[1.0, 0.0], [0.5, 0.5]], dtype=torch.float64)
    pairwise = torch.tensor([[[0.9, 0.1], [0.1, 0.9]]], dtype=torch.float64)
    torch.testing.assert_close(chain_marginals(unary, pairwise),
                               torch.tensor([[1.0, 0.0], [0.9, 0.1]], dtype=torch.float64))


def test_star_on_two_nodes_is_exact_and_differs_on_long_chain():
    unary, pairwise = random_chain(2, 6, seed=5)
    edges, star_pw = chain_star_edges(pairwise)
    torch.testing.assert_close(star_marginals(unary, star_pw, edges), chain_marginals(unary, pairwise))
    # On a longer chain the star graph drops the far terms: close, but not equal, to the exact marginals.
    unary, pairwise = random_chain(4, 6, seed=5)
    edges, star_pw = chain_star_edges(pairwise)
    tv = total_variation(star_marginals(unary, star_pw, edges), chain_marginals(unary, pairwise))
    assert tv[0] > 1e-3 and tv.max() < 1


def test_star_matches_hand_formula():
    unary, pairwise = random_chain(3, 4, seed=9)
    edges, star_pw = chain_star_edges(pairwise)
    b1 = unary[1] * (unary[0] @ pairwise[0]) * (pairwise[1] @ unary[2])  # b'(x_1): messages from 0 and from 2
    torch.testing.assert_close(star_marginals(unary, star_pw, edges)[1], b1 / b1.sum())


def test_conv_equals_star_for_offset_potentials_away_from_borders():
    # With translation-invariant potentials, a kernel covering all offsets, c = 0 and no mass near the borders,
    # the convolutional message is exactly the star-graph message.
    H = W = 9
    pairwise = offset_potentials(H, W, [(1, 0)], sigma=0.7)
    unary = torch.full((2, H * W), 1e-12, dtype=torch.float64)
    unary[:, 4 * W + 4] = 1.0
    unary[:, 4 * W + 3] = 0.5
    edges, star_pw = chain_star_edges(pairwise)
    k = 2 * H - 1
    r = k // 2
    t = torch.arange(-r, r + 1, dtype=torch.float64)
    fwd = torch.exp(-((t[None, :] - 1) ** 2 + t[:, None] ** 2) / (2 * 0.7**2))  # A at v + (1, 0) ± sigma
    kernels = torch.stack([fwd, torch.flip(fwd, dims=(0, 1))])  # (E, k, k): the reverse edge sees -offset
    conv = conv_marginals(unary.reshape(2, H, W), kernels, edges)
    star = star_marginals(unary, star_pw, edges).reshape(2, H, W)
    torch.testing.assert_close(conv, star, rtol=1e-6, atol=1e-9)


def test_offset_kernel_recovers_stationary_conditional():
    H = W = 7
    pairwise = offset_potentials(H, W, [(1, 1)], sigma=0.6)[0]
    kernel = offset_kernel(pairwise, H, W, kernel_size=5)
    assert kernel.shape == (5, 5)
    assert kernel.argmax() == 3 * 5 + 3  # peak at offset (dx, dy) = (1, 1)
    assert 0.5 < float(kernel.sum()) <= 1.0 + 1e-9


def test_background_keeps_an_occluded_message_alive():
    unary = torch.rand(2, 5, 5, dtype=torch.float64)
    unary[1] = 0.0  # joint 1 unseen: its message is zero everywhere
    kernels = torch.rand(2, 3, 3, dtype=torch.float64)
    with pytest.raises(ValueError, match="zero probability"):
        conv_marginals(unary, kernels, [(1, 0), (0, 1)])
    unary[1] = 1e-3
    out = conv_marginals(unary, kernels, [(1, 0), (0, 1)], background=0.1)
    torch.testing.assert_close(out.sum(dim=(1, 2)), torch.ones(2, dtype=torch.float64))


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match=r"pairwise must have shape \(2, 4, 4\)"):
        chain_marginals(torch.rand(3, 4), torch.rand(2, 4, 5))
    with pytest.raises(ValueError, match=r"unary must have values in \[0.0, inf\]"):
        chain_marginals(-torch.rand(3, 4), torch.rand(2, 4, 4))
    with pytest.raises(ValueError, match="too large"):
        brute_force_marginals(torch.rand(8, 20), torch.rand(7, 20, 20))
    with pytest.raises(ValueError, match="distinct joints"):
        star_marginals(torch.rand(2, 3), torch.rand(1, 3, 3), [(0, 0)])


def test_single_steps_match_the_chain():
    unary, pairwise = random_chain(3, 5, seed=11)
    log_fwd, _ = chain_messages(unary, pairwise)
    m1 = bp_message(unary[0], torch.ones(5, dtype=unary.dtype), pairwise[0])
    torch.testing.assert_close(m1, log_fwd[1].exp())
    m2 = bp_message(unary[1], m1, pairwise[1])
    torch.testing.assert_close(m2, log_fwd[2].exp())
    b = star_belief(unary[1], unary[[0, 2]], torch.stack([pairwise[0], pairwise[1].T]))
    edges, star_pw = chain_star_edges(pairwise)
    torch.testing.assert_close(b, star_marginals(unary, star_pw, edges)[1])
    phi = torch.zeros(5, 5, dtype=torch.float64)
    phi[2, 1] = 1.0
    kernel = torch.zeros(3, 3, dtype=torch.float64)
    kernel[1, 2] = 1.0  # the target lies one cell to the right of the source
    msg = conv_message(phi, kernel, background=0.5)
    expected = torch.full((5, 5), 0.5, dtype=torch.float64)
    expected[2, 2] = 1.5
    torch.testing.assert_close(msg, expected)
