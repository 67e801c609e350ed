"""Belief propagation on the body chain, and the two approximations that turn it into a network layer.

Tompson, Jain, LeCun & Bregler (NIPS 2014), section 3.2, start from a Markov random field over joint locations

    P(f, s, e, w) = 1/Z prod_{i,j} Psi(x_i, x_j) prod_i Phi(x_i)

(face, shoulder, elbow, wrist; Phi the part detector's evidence, Psi the pairwise compatibility of two joints'
positions) and compute marginals by sum-product belief propagation:

    b(x_i) = k Phi(x_i) prod_{j in N(i)} m_ji(x_i),
    m_ji(x_i) = sum_{x_j} Phi(x_j) Psi(x_j, x_i) prod_{k in N(j)\\i} m_kj(x_j)

This module holds the three steps of that derivation, each as plain tensor code on N = H·W locations:

* :func:`chain_marginals`: exact BP on a chain (a tree, so two sweeps give exact marginals), with
  :func:`brute_force_marginals` beside it: enumerate every configuration, sum out all but one joint.
* :func:`star_marginals`: "correlation decay": each joint only listens to its direct neighbours' evidence,
  b'(f) = k Phi(f) prod_i sum_{x_i} Phi(x_i) Psi(x_i, f) (one message each, nothing passed on).
* :func:`conv_marginals`: replace each sum over x_i by a convolution with a translation-invariant conditional
  kernel Psi(f | x_i), and add a background term c: b''(f) = k Phi(f) prod_i (Phi(x_i) * Psi(f|x_i) + c).
  The slides stress this is NOT EQUIVALENT; the lecture measures how far apart the results are.

Messages are computed in the log domain (``logsumexp``), so peaked potentials whose products underflow in a
naive implementation (1e-30 * 1e-30 in float32) still give correct marginals.

Lecture: 02_pose_spatial
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from course_lib.core import check_tensor

# Brute force builds the whole joint table; refuse anything that would not fit comfortably in memory.
MAX_CONFIGURATIONS = 20_000_000


def _log(x: torch.Tensor) -> torch.Tensor:
    """log of non-negative potentials; zero becomes -inf (an impossible state), never NaN."""
    return torch.log(x.clamp_min(0.0))


def _normalise_log(log_b: torch.Tensor, what: str) -> torch.Tensor:
    """Turn unnormalised log beliefs (..., N) into probabilities; a row with no mass is an error."""
    log_z = torch.logsumexp(log_b, dim=-1, keepdim=True)  # (..., 1)
    if not torch.isfinite(log_z).all():
        raise ValueError(f"{what}: the potentials give zero probability to every configuration")
    return torch.exp(log_b - log_z)


def _check_chain(unary: torch.Tensor, pairwise: torch.Tensor) -> tuple[int, int]:
    check_tensor(unary, "unary", dims="J N", dtype="float", min_value=0.0)
    J, N = unary.shape
    if J < 1 or N < 1:
        raise ValueError(f"unary must hold at least one joint and one location; got shape {tuple(unary.shape)}")
    check_tensor(pairwise, "pairwise", shape=(J - 1, N, N), dims="J-1 N N", dtype="float", min_value=0.0)
    return J, N


def bp_message(unary: torch.Tensor, incoming: torch.Tensor, pairwise: torch.Tensor) -> torch.Tensor:
    """One sum-product message m_{j->i}(x_i) = sum_{x_j} Phi(x_j) Psi(x_j, x_i) prod_k m_{k->j}(x_j), normalised.

    The plain linear-domain formula of the slides (the lecture's first exercise); :func:`chain_messages` does
    the same in the log domain.

    Parameters
    ----------
    unary : Tensor[N]
        Phi(x_j), non-negative.
    incoming : Tensor[N]
        The product of the messages j has received from its other neighbours (ones if none).
    pairwise : Tensor[N, N]
        ``pairwise[a, b] = Psi(x_j = a, x_i = b)``.

    Returns
    -------
    Tensor[N]
        m_{j->i}(x_i), rescaled to sum to one (BP only needs messages up to a constant).

    Examples
    --------
    >>> bp_message(torch.tensor([1.0, 0.0]), torch.ones(2), torch.tensor([[0.9, 0.1], [0.1, 0.9]]))
    tensor([0.9000, 0.1000])

    Lecture: 02_pose_spatial
    """
    check_tensor(unary, "unary", dims="N", dtype="float", min_value=0.0)
    N = unary.shape[0]
    check_tensor(incoming, "incoming", shape=(N,), dims="N", dtype="float", min_value=0.0)
    check_tensor(pairwise, "pairwise", shape=(N, N), dims="N N", dtype="float", min_value=0.0)
    m = (unary * incoming) @ pairwise  # (N,): sum over x_j of Phi(x_j) m(x_j) Psi(x_j, x_i)
    total = m.sum()
    if not total > 0:
        raise ValueError("bp_message: the message is zero everywhere (no compatible pair of locations)")
    return m / total


def chain_messages(unary: torch.Tensor, pairwise: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Forward and backward log-messages of sum-product BP on a chain.

    Parameters
    ----------
    unary : Tensor[J, N]
        Non-negative evidence Phi(x_j = n) for each joint j and location n.
    pairwise : Tensor[J - 1, N, N]
        Non-negative compatibilities: ``pairwise[j][a, b] = Psi(x_j = a, x_{j+1} = b)``.

    Returns
    -------
    (log_fwd, log_bwd) : Tensor[J, N] each
        ``log_fwd[j]`` = log m_{j-1 -> j}(x_j) (zero for j = 0), ``log_bwd[j]`` = log m_{j+1 -> j}(x_j) (zero for
        the last joint). Each message is rescaled to sum to one; the scale cancels in the marginals.

    Lecture: 02_pose_spatial
    """
    J, N = _check_chain(unary, pairwise)
    lu, lp = _log(unary), _log(pairwise)  # (J, N), (J-1, N, N)
    log_fwd = torch.zeros_like(lu)
    log_bwd = torch.zeros_like(lu)
    for j in range(1, J):
        # m_{j-1 -> j}(b) = sum_a Phi_{j-1}(a) m_{j-2 -> j-1}(a) Psi(a, b)
        incoming = lu[j - 1] + log_fwd[j - 1]  # (N,) over a
        m = torch.logsumexp(incoming[:, None] + lp[j - 1], dim=0)  # (N,) over b
        log_fwd[j] = m - torch.logsumexp(m, dim=0)
    for j in range(J - 2, -1, -1):
        # m_{j+1 -> j}(a) = sum_b Phi_{j+1}(b) m_{j+2 -> j+1}(b) Psi(a, b)
        incoming = lu[j + 1] + log_bwd[j + 1]  # (N,) over b
        m = torch.logsumexp(lp[j] + incoming[None, :], dim=1)  # (N,) over a
        log_bwd[j] = m - torch.logsumexp(m, dim=0)
    return log_fwd, log_bwd


def chain_marginals(unary: torch.Tensor, pairwise: torch.Tensor) -> torch.Tensor:
    """Exact marginals of a chain MRF by sum-product belief propagation.

    b(x_j) = k Phi(x_j) m_{j-1 -> j}(x_j) m_{j+1 -> j}(x_j): one sweep down the chain and one sweep up, 2(J - 1)
    messages of N x N work each, instead of the N^J terms of enumeration.

    Parameters
    ----------
    unary : Tensor[J, N]
        Non-negative evidence Phi(x_j = n); N locations (an H x W grid flattened row-major).
    pairwise : Tensor[J - 1, N, N]
        ``pairwise[j][a, b] = Psi(x_j = a, x_{j+1} = b)``, non-negative.

    Returns
    -------
    Tensor[J, N]
        Marginals P(x_j = n), each row summing to one; same dtype as ``unary``. Stable for peaked potentials
        (log-domain messages); J = 8, N = 4096 (a 64 x 64 grid) takes a few seconds on a laptop CPU.

    Examples
    --------
    >>> unary = torch.tensor([[1.0, 0.0], [0.5, 0.5]])
    >>> pairwise = torch.tensor([[[0.9, 0.1], [0.1, 0.9]]])
    >>> chain_marginals(unary, pairwise)
    tensor([[1.0000, 0.0000],
            [0.9000, 0.1000]])

    Lecture: 02_pose_spatial
    """
    log_fwd, log_bwd = chain_messages(unary, pairwise)
    return _normalise_log(_log(unary) + log_fwd + log_bwd, "chain_marginals")  # (J, N)


def brute_force_marginals(unary: torch.Tensor, pairwise: torch.Tensor) -> torch.Tensor:
    """The slow, obviously correct reference for :func:`chain_marginals`: enumerate all N^J configurations.

    Builds the whole table P(x_0, ..., x_{J-1}) ∝ prod_j Phi(x_j) prod_j Psi(x_j, x_{j+1}) by broadcasting, then
    sums out every joint but one. Only for small problems (N^J ≤ 2·10^7).

    Parameters
    ----------
    unary : Tensor[J, N]
    pairwise : Tensor[J - 1, N, N]
        As :func:`chain_marginals`.

    Returns
    -------
    Tensor[J, N]
        Marginals, rows summing to one.

    Lecture: 02_pose_spatial
    """
    J, N = _check_chain(unary, pairwise)
    if N**J > MAX_CONFIGURATIONS:
        raise ValueError(f"brute force over N^J = {N}^{J} = {N**J:.3g} configurations is too large "
                         f"(limit {MAX_CONFIGURATIONS:.0e}); use chain_marginals")
    # Scale each factor to max 1 so the product table does not underflow more than necessary.
    u = unary / unary.amax(dim=1, keepdim=True).clamp_min(torch.finfo(unary.dtype).tiny)  # (J, N)
    p = pairwise / pairwise.amax(dim=(1, 2), keepdim=True).clamp_min(torch.finfo(unary.dtype).tiny)
    table = u[0]  # (N,)
    for j in range(1, J):
        # (N,)*j -> (N,)*(j+1): multiply in Psi(x_{j-1}, x_j) and Phi(x_j)
        table = table[..., None] * p[j - 1] * u[j]
    marginals = []
    for j in range(J):
        others = tuple(d for d in range(J) if d != j)
        marginals.append(table.sum(dim=others) if others else table)  # (N,)
    out = torch.stack(marginals)  # (J, N)
    total = out.sum(dim=1, keepdim=True)
    if not (total > 0).all():
        raise ValueError("brute_force_marginals: the potentials give zero probability to every configuration "
                         "(or the table underflowed; use chain_marginals)")
    return out / total


def chain_star_edges(pairwise: torch.Tensor) -> tuple[list[tuple[int, int]], torch.Tensor]:
    """Both directions of every chain link, in the form :func:`star_marginals` takes.

    Parameters
    ----------
    pairwise : Tensor[J - 1, N, N]
        Chain potentials, ``pairwise[j][a, b] = Psi(x_j = a, x_{j+1} = b)``.

    Returns
    -------
    edges : list of (source, target)
        ``(j, j+1)`` and ``(j+1, j)`` for every link.
    star_pairwise : Tensor[E, N, N]
        ``star_pairwise[e][a, b] = Psi(x_source = a, x_target = b)``.

    Lecture: 02_pose_spatial
    """
    check_tensor(pairwise, "pairwise", dims="J-1 N N", dtype="float")
    edges, mats = [], []
    for j in range(pairwise.shape[0]):
        edges += [(j, j + 1), (j + 1, j)]
        mats += [pairwise[j], pairwise[j].T]
    return edges, torch.stack(mats)  # (E, N, N)


def _check_edges(edges: Sequence[tuple[int, int]], J: int, E: int, name: str) -> list[tuple[int, int]]:
    edges = [tuple(int(v) for v in e) for e in edges]
    if len(edges) != E:
        raise ValueError(f"{name} has {E} entries but edges lists {len(edges)} (source, target) pairs")
    for s, t in edges:
        if not (0 <= s < J and 0 <= t < J) or s == t:
            raise ValueError(f"edges must be (source, target) pairs of distinct joints in 0..{J - 1}; got {(s, t)}")
    return edges


def star_belief(unary: torch.Tensor, sources: torch.Tensor, pairwise: torch.Tensor) -> torch.Tensor:
    """One joint's star-graph belief b'(f) = k Phi(f) prod_i sum_{x_i} Phi(x_i) Psi(x_i, f).

    Parameters
    ----------
    unary : Tensor[N]
        Phi(f), the joint's own evidence.
    sources : Tensor[V, N]
        Phi(x_i) of the V joints that send it a message.
    pairwise : Tensor[V, N, N]
        ``pairwise[i][a, b] = Psi(x_i = a, f = b)``.

    Returns
    -------
    Tensor[N]
        b'(f), summing to one.

    Lecture: 02_pose_spatial
    """
    check_tensor(unary, "unary", dims="N", dtype="float", min_value=0.0)
    N = unary.shape[0]
    check_tensor(sources, "sources", shape=(None, N), dims="V N", dtype="float", min_value=0.0)
    check_tensor(pairwise, "pairwise", shape=(sources.shape[0], N, N), dims="V N N", dtype="float", min_value=0.0)
    log_b = _log(unary)  # (N,)
    for i in range(sources.shape[0]):
        log_b = log_b + torch.logsumexp(_log(sources[i])[:, None] + _log(pairwise[i]), dim=0)  # (N,) over f
    return _normalise_log(log_b, "star_belief")


def star_marginals(unary: torch.Tensor, pairwise: torch.Tensor, edges: Sequence[tuple[int, int]]) -> torch.Tensor:
    """The star-graph approximation: b'(x_A) = k Phi(x_A) prod_{(v, A)} sum_{x_v} Phi(x_v) Psi(x_v, x_A).

    Each joint A receives one message from each source v listed in ``edges`` and nothing is passed on: the
    terms further along the chain (the slides' boxed sum) are dropped, assuming correlation decays with graph
    distance.

    Parameters
    ----------
    unary : Tensor[J, N]
        Non-negative evidence Phi(x_j = n).
    pairwise : Tensor[E, N, N]
        ``pairwise[e][a, b] = Psi(x_v = a, x_A = b)`` for ``edges[e] = (v, A)``.
    edges : sequence of (v, A)
        Source and target joint of each message; see :func:`chain_star_edges` for a chain's links.

    Returns
    -------
    Tensor[J, N]
        Approximate marginals, rows summing to one.

    Lecture: 02_pose_spatial
    """
    check_tensor(unary, "unary", dims="J N", dtype="float", min_value=0.0)
    J, N = unary.shape
    check_tensor(pairwise, "pairwise", shape=(None, N, N), dims="E N N", dtype="float", min_value=0.0)
    edges = _check_edges(edges, J, pairwise.shape[0], "pairwise")
    rows = []
    for a in range(J):
        into = [e for e, (_, t) in enumerate(edges) if t == a]  # the messages joint a receives
        src = unary[[edges[e][0] for e in into]]  # (V, N)
        rows.append(star_belief(unary[a], src, pairwise[into]))  # (N,)
    return torch.stack(rows)  # (J, N)


def conv_message(unary: torch.Tensor, kernel: torch.Tensor, background: float = 0.0) -> torch.Tensor:
    """The convolutional message Phi(x_v) * Psi(f | x_v) + c on a grid.

    Parameters
    ----------
    unary : Tensor[H, W]
        Phi(x_v), the source joint's evidence map.
    kernel : Tensor[k, k]
        Psi(f = x_v + (dx, dy) | x_v) at ``kernel[k // 2 + dy, k // 2 + dx]`` (odd k): where the target lies
        relative to the source.
    background : float
        c ≥ 0.

    Returns
    -------
    Tensor[H, W]
        m(f) = sum_{x_v} Phi(x_v) Psi(f - x_v) + c, zero padding outside the grid.

    Lecture: 02_pose_spatial
    """
    check_tensor(unary, "unary", dims="H W", dtype="float", min_value=0.0)
    check_tensor(kernel, "kernel", dims="k k", dtype="float", min_value=0.0)
    kh, kw = kernel.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernel must have odd sizes so that the centre is the zero offset; got {kh} x {kw}")
    if background < 0:
        raise ValueError(f"background must be ≥ 0, but found {background}")
    # conv2d correlates; flipping the kernel makes it the convolution sum_{x_v} Phi(x_v) Psi(f - x_v).
    weight = torch.flip(kernel, dims=(0, 1))[None, None]  # (1, 1, kh, kw)
    return F.conv2d(unary[None, None], weight, padding=(kh // 2, kw // 2))[0, 0] + background  # (H, W)


def conv_marginals(
    unary: torch.Tensor,
    kernels: torch.Tensor,
    edges: Sequence[tuple[int, int]],
    *,
    background: float | torch.Tensor = 0.0,
) -> torch.Tensor:
    """The convolutional approximation on a grid: b''(x_A) = k Phi(x_A) prod_{(v, A)} (Phi(x_v) * Psi(x_A | x_v) + c).

    The sum over x_v of a pairwise table becomes a convolution with one kernel that depends only on the offset
    x_A - x_v (translation invariance), plus a background term c that keeps a message alive when the source's
    evidence is missing (an occluded joint would otherwise zero the product everywhere).

    Parameters
    ----------
    unary : Tensor[J, H, W]
        Non-negative evidence maps.
    kernels : Tensor[E, kh, kw]
        Conditional kernels, ``kernels[e][kh // 2 + dy, kw // 2 + dx] = Psi(x_A = x_v + (dx, dy) | x_v)`` for
        ``edges[e] = (v, A)``: the image shows where A lies relative to v at the centre. Odd sizes.
    edges : sequence of (v, A)
    background : float or Tensor[E]
        The background term c of each message (≥ 0).

    Returns
    -------
    Tensor[J, H, W]
        Approximate marginals, each map summing to one.

    Lecture: 02_pose_spatial
    """
    check_tensor(unary, "unary", dims="J H W", dtype="float", min_value=0.0)
    J, H, W = unary.shape
    check_tensor(kernels, "kernels", dims="E kh kw", dtype="float", min_value=0.0)
    E, kh, kw = kernels.shape
    if kh % 2 == 0 or kw % 2 == 0:
        raise ValueError(f"kernels must have odd sizes so that the centre is the zero offset; got {kh} x {kw}")
    edges = _check_edges(edges, J, E, "kernels")
    c = torch.as_tensor(background, dtype=unary.dtype, device=unary.device).expand(E)  # (E,)
    if (c < 0).any():
        raise ValueError(f"background must be ≥ 0; got {c.tolist()}")
    log_b = _log(unary).reshape(J, H * W).clone()  # (J, N)
    for e, (v, a) in enumerate(edges):
        log_b[a] = log_b[a] + _log(conv_message(unary[v], kernels[e], float(c[e]))).reshape(-1)
    return _normalise_log(log_b, "conv_marginals").reshape(J, H, W)


def offset_kernel(pairwise: torch.Tensor, height: int, width: int, *, kernel_size: int) -> torch.Tensor:
    """Average the pairwise table over positions into a translation-invariant conditional kernel.

    For each source location a, Psi(a, ·) is normalised into a conditional distribution over the target, and the
    conditionals are averaged by offset b - a. When Psi depends only on the offset and no mass falls off the
    grid this recovers it exactly; otherwise (borders, position-dependent potentials) it is the best stationary
    summary, and the difference is what the convolutional step gives up.

    Parameters
    ----------
    pairwise : Tensor[N, N]
        ``pairwise[a, b] = Psi(x_v = a, x_A = b)`` over N = height * width locations.
    height, width : int
        The grid.
    kernel_size : int
        Odd size of the returned kernel (offsets beyond it are dropped).

    Returns
    -------
    Tensor[kernel_size, kernel_size]
        Psi(x_A = x_v + offset | x_v), centre = zero offset, summing to at most one.

    Lecture: 02_pose_spatial
    """
    N = height * width
    check_tensor(pairwise, "pairwise", shape=(N, N), dims="N N", dtype="float", min_value=0.0)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd; got {kernel_size}")
    r = kernel_size // 2
    cond = pairwise / pairwise.sum(dim=1, keepdim=True).clamp_min(torch.finfo(pairwise.dtype).tiny)  # (N, N)
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    ys, xs = ys.reshape(-1), xs.reshape(-1)  # (N,)
    dy = ys[None, :] - ys[:, None]  # (N, N): target row minus source row
    dx = xs[None, :] - xs[:, None]
    inside = (dy.abs() <= r) & (dx.abs() <= r)
    kernel = torch.zeros(kernel_size * kernel_size, dtype=pairwise.dtype, device=pairwise.device)
    index = ((dy + r) * kernel_size + (dx + r))[inside].to(pairwise.device)
    kernel.index_add_(0, index, cond[inside.to(pairwise.device)])
    return kernel.reshape(kernel_size, kernel_size) / N


def total_variation(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Total variation distance ½ Σ|p - q| between distributions over the last dimensions, per leading index.

    Parameters
    ----------
    p, q : Tensor[J, ...]
        Distributions (each ``p[j]`` sums to one).

    Returns
    -------
    Tensor[J]
        In [0, 1]: 0 = identical, 1 = disjoint supports.

    Lecture: 02_pose_spatial
    """
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape; got {tuple(p.shape)} and {tuple(q.shape)}")
    return 0.5 * (p - q).abs().reshape(p.shape[0], -1).sum(dim=1)



def offset_potentials(height: int, width: int, offsets, *, sigma: float) -> torch.Tensor:
    """Chain potentials that prefer one offset per link: Psi(a, b) = exp(-|b - a - mu_j|² / (2 sigma²)).

    A toy body model for the lecture: "the shoulder is about 3 cells below and 2 to the left of the face".

    Parameters
    ----------
    height, width : int
        The grid; locations are numbered row-major, N = height · width.
    offsets : sequence of (dx, dy)
        Preferred offset mu_j of joint j + 1 relative to joint j, in cells; J - 1 of them.
    sigma : float
        Spread in cells (> 0).

    Returns
    -------
    Tensor[J - 1, N, N], float64: ``[j][a, b] = Psi(x_j = a, x_{j+1} = b)``.

    Lecture: 02_pose_spatial
    """
    if not sigma > 0:
        raise ValueError(f"sigma must be > 0 (cells), but found {sigma}")
    ys, xs = torch.meshgrid(torch.arange(height), torch.arange(width), indexing="ij")
    pos = torch.stack([xs.reshape(-1), ys.reshape(-1)], dim=1).double()  # (N, 2) as (x, y)
    mats = []
    for mu in offsets:
        d = pos[None, :, :] - pos[:, None, :] - torch.tensor(mu, dtype=torch.float64)  # (N, N, 2): b - a - mu
        mats.append(torch.exp(-(d**2).sum(-1) / (2 * sigma**2)))
    return torch.stack(mats)  # (J - 1, N, N)
