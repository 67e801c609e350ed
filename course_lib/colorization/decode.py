"""From a predicted distribution over bins back to one colour: the annealed mean.

Zhang, Isola, Efros, ECCV 2016, section 2.3: the mean of the predicted distribution is spatially consistent but
desaturated (it averages red and green into brown); its mode is vivid but spatially noisy (neighbouring pixels
flip between bins). They interpolate with a temperature T on the distribution::

    H(Z) = E[f_T(Z)],   f_T(z) = exp(log(z) / T) / Σ_q exp(log(z_q) / T),

i.e. the expectation of the bin centres under the re-tempered distribution. T = 1 is the plain mean, T → 0 the
mode (a one-hot on the most likely bin); the paper uses T = 0.38.

``annealed_mean`` computes f_T as a softmax of log(z)/T (stable at small T: the largest term is subtracted
before exponentiating); ``annealed_mean_direct`` beside it is the formula as written, z^(1/T) / Σ z^(1/T),
which is obviously right but overflows or underflows for small T.

Lecture: 07_colorization
"""

from __future__ import annotations

import torch

from course_lib.core import check_tensor

TEMPERATURE = 0.38  # the paper's choice


def _detached(x):
    # value checks only read the values: no need to involve autograd (and torch warns if we do)
    return x.detach() if isinstance(x, torch.Tensor) else x


def _check(probs: torch.Tensor, bins: torch.Tensor, T: float) -> None:
    check_tensor(_detached(probs), "probs", dims="B Q H W", dtype="float", min_value=0.0)
    check_tensor(bins, "bins", dims="Q 2", shape=(probs.shape[1], 2), dtype="float")
    if not (isinstance(T, (int, float)) and T > 0):
        raise ValueError(f"T must be a number > 0 (T → 0 is the mode, T = 1 the mean), but found {T!r}")


def anneal(probs: torch.Tensor, T: float = TEMPERATURE) -> torch.Tensor:
    """Re-temper distributions: f_T(z) = z^(1/T) renormalised, Tensor[B, Q, H, W] → same shape, sums to 1 over Q.

    Lecture: 07_colorization
    """
    check_tensor(_detached(probs), "probs", dims="B Q H W", dtype="float", min_value=0.0)
    if not (isinstance(T, (int, float)) and T > 0):
        raise ValueError(f"T must be a number > 0, but found {T!r}")
    logz = torch.log(probs.clamp_min(torch.finfo(probs.dtype).tiny))  # zeros stay (vanishingly) unlikely
    return torch.softmax(logz / T, dim=1)  # (B, Q, H, W)


def annealed_mean(probs: torch.Tensor, bins: torch.Tensor, T: float = TEMPERATURE) -> torch.Tensor:
    """Decode distributions over bins to ab colours with the annealed mean H(Z) = E[f_T(Z)].

    Parameters
    ----------
    probs : Tensor[B, Q, H, W], float
        Distributions over the Q bins (e.g. ``softmax(logits, dim=1)``), non-negative, summing to 1 over Q.
    bins : Tensor[Q, 2]
        Bin centres in ab units; moved to ``probs``' device.
    T : float
        Temperature > 0: 1 gives the mean, → 0 the mode, 0.38 in the paper.

    Returns
    -------
    Tensor[B, 2, H, W]
        ab in ab units, same dtype and device as ``probs``.

    Examples
    --------
    >>> bins = torch.tensor([[-50.0, 0.0], [50.0, 0.0]])
    >>> p = torch.tensor([0.6, 0.4]).view(1, 2, 1, 1)
    >>> [round(v, 4) for v in annealed_mean(p, bins, T=1.0).flatten().tolist()]  # the mean: 0.6·(−50) + 0.4·50
    [-10.0, 0.0]

    Lecture: 07_colorization
    """
    _check(probs, bins, T)
    f = anneal(probs, T)  # (B, Q, H, W)
    # Σ_q f_q · bin_q: (B, Q, H, W) x (Q, 2) -> (B, 2, H, W)
    return torch.einsum("bqhw,qc->bchw", f, bins.to(probs.device, probs.dtype))


def annealed_mean_direct(probs: torch.Tensor, bins: torch.Tensor, T: float = TEMPERATURE) -> torch.Tensor:
    """Reference for :func:`annealed_mean`: the formula as written, z^(1/T) / Σ z^(1/T) (unstable for small T).

    Lecture: 07_colorization
    """
    _check(probs, bins, T)
    p = probs.double() ** (1.0 / T)
    f = p / p.sum(dim=1, keepdim=True)  # (B, Q, H, W)
    ab = (f.unsqueeze(2) * bins.double().to(probs.device).view(1, -1, 2, 1, 1)).sum(dim=1)  # (B, 2, H, W)
    return ab.to(probs.dtype)


def mode(probs: torch.Tensor, bins: torch.Tensor) -> torch.Tensor:
    """The limit T → 0: the centre of the most likely bin, Tensor[B, Q, H, W] → Tensor[B, 2, H, W].

    Lecture: 07_colorization
    """
    check_tensor(probs, "probs", dims="B Q H W", dtype="float")
    check_tensor(bins, "bins", dims="Q 2", shape=(probs.shape[1], 2), dtype="float")
    idx = probs.argmax(dim=1)  # (B, H, W)
    return bins.to(probs.device, probs.dtype)[idx].permute(0, 3, 1, 2)  # (B, H, W, 2) -> (B, 2, H, W)
