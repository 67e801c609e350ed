"""From exact belief propagation to the convolutional spatial model: the star graph and the convolutional message.

Tompson et al. (NIPS 2014), section 3.2, after exact BP on the chain (:mod:`course_lib.pose.bp`), make two
approximations, each a plain tensor function on N = H·W locations here:

* :func:`star_marginals`: "correlation decay": each joint only listens to its direct neighbours' evidence,
  b'(f) = k Phi(f) prod_i sum_{x_i} Phi(x_i) Psi(x_i, f) (one message each, nothing passed on).
* :func:`conv_marginals`: replace each sum over x_i by a convolution with a translation-invariant conditional
  kernel Psi(f | x_i), and add a background term c: b''(f) = k Phi(f) prod_i (Phi(x_i) * Psi(f|x_i) + c).
  The slides stress this is NOT EQUIVALENT; the lecture measures how far apart the results are
  (:func:`total_variation`), on potentials that depend only on offsets (:func:`offset_potentials`,
  :func:`offset_kernel`).

Lecture: 02_pose_spatial
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F

from course_lib.core import check_tensor

from .bp import log_potentials, normalise_log


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
    log_b = log_potentials(unary)  # (N,)
    for i in range(sources.shape[0]):
        messages = log_potentials(sources[i])[:, None] + log_potentials(pairwise[i])  # (N, N): from f to x
        log_b = log_b + torch.logsumexp(messages, dim=0)  # (N,) over f
    return normalise_log(log_b, "star_belief")


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
    log_b = log_potentials(unary).reshape(J, H * W).clone()  # (J, N)
    for e, (v, a) in enumerate(edges):
        log_b[a] = log_b[a] + log_potentials(conv_message(unary[v], kernels[e], float(c[e]))).reshape(-1)
    return normalise_log(log_b, "conv_marginals").reshape(J, H, W)


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
