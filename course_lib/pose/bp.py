"""Belief propagation on the body chain, exactly: sum-product messages, checked against brute-force enumeration.

Tompson, Jain, LeCun & Bregler (NIPS 2014), section 3.2, start from a Markov random field over joint locations

    P(f, s, e, w) = 1/Z prod_{i,j} Psi(x_i, x_j) prod_i Phi(x_i)

(face, shoulder, elbow, wrist; Phi the part detector's evidence, Psi the pairwise compatibility of two joints'
positions) and compute marginals by sum-product belief propagation:

    b(x_i) = k Phi(x_i) prod_{j in N(i)} m_ji(x_i),
    m_ji(x_i) = sum_{x_j} Phi(x_j) Psi(x_j, x_i) prod_{k in N(j)\\i} m_kj(x_j)

This module holds the first, exact step of that derivation, as plain tensor code on N = H·W locations:
:func:`chain_marginals`, exact BP on a chain (a tree, so two sweeps give exact marginals), with
:func:`brute_force_marginals` beside it: enumerate every configuration, sum out all but one joint. The two
approximations that turn it into a network layer (the star graph and the convolutional message) are in
:mod:`course_lib.pose.convbp`.

Messages are computed in the log domain (``logsumexp``), so peaked potentials whose products underflow in a
naive implementation (1e-30 * 1e-30 in float32) still give correct marginals.

Lecture: 02_pose_spatial
"""

from __future__ import annotations

import torch

from course_lib.core import check_tensor

# Brute force builds the whole joint table; refuse anything that would not fit comfortably in memory.
MAX_CONFIGURATIONS = 20_000_000


def log_potentials(x: torch.Tensor) -> torch.Tensor:
    """log of non-negative potentials; zero becomes -inf (an impossible state), never NaN."""
    return torch.log(x.clamp_min(0.0))


def normalise_log(log_b: torch.Tensor, what: str) -> torch.Tensor:
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
    lu, lp = log_potentials(unary), log_potentials(pairwise)  # (J, N), (J-1, N, N)
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
    return normalise_log(log_potentials(unary) + log_fwd + log_bwd, "chain_marginals")  # (J, N)


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
