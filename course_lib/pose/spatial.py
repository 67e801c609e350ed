"""The spatial model: one round of star-graph belief propagation, written as a network layer.

Tompson, Jain, LeCun & Bregler, "Joint Training of a Convolutional Network and a Graphical Model for Human Pose
Estimation", NIPS 2014, section 3.2. The derivation (see :mod:`course_lib.pose.bp`, :mod:`course_lib.pose.convbp`
and lecture 02) goes from an MRF over joint locations, through a star graph for each joint, to convolutions with
conditional kernels plus a background term:

    b''(f) = k Phi(f) prod_i (Phi(x_i) * Psi(f | x_i) + c(f | x_i))

and then to the layer this module implements, for every joint A and its set of message sources V(A):

    ē_A = exp( sum_{v in V(A)} log( SoftPlus(e_{A|v}) * ReLU(e_v) + SoftPlus(b_{v->A}) ) )

with e_v the part detector's heat map for joint v, e_{A|v} a learned conditional kernel (where A lies relative
to v), b_{v->A} a learned background term, SoftPlus(x) = 1/β log(1 + exp(βx)) with 1/2 ≤ β ≤ 2 and
ReLU(x) = max(x, ε) with 0 < ε ≤ 0.01 (the floor keeps the log finite). As in the paper, V(A) includes A itself:
the "unary" Phi(f) is the message from A to A through a kernel initialised to a delta.

Kernels are as large as the heat map, so the convolutions run through the FFT (:mod:`course_lib.pose.fftconv`).

Deviations from the paper, and why:

* The output is normalised per joint (a softmax over locations of log ē_A), i.e. the belief with the slides'
  constant k = 1/Z. The paper trains ē_A with a mean-squared error; the course trains the log-belief with a
  cross-entropy against the normalised Gaussian target, which is scale-free and numerically tamer (the slides:
  "we only care about maximum likelihood, the distribution's shape is not important").
* β is one learnable scalar clamped to [1/2, 2]; ε is a fixed hyperparameter.
* Kernels can be initialised from the training set's joint offsets (:meth:`SpatialModel.init_from_joints`), a
  cheap "pre-training" that makes the learned kernels readable from the first epoch; the other messages'
  backgrounds start at 0.05, so the untrained layer is close to the detector alone instead of being swamped by
  eight broad messages.
* No torso input (the slides' second detail): the synthetic people always show their torso.

Lecture: 02_pose_spatial
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.core import check_positive_int, check_tensor

from .fftconv import direct_conv2d, fft_conv2d

# Above this kernel size the FFT beats direct convolution on a CPU (measured in lecture 02 and bench/pose.py).
FFT_FROM_KERNEL_SIZE = 16


def softplus_beta(x: torch.Tensor, beta: torch.Tensor | float) -> torch.Tensor:
    """SoftPlus with sharpness β: 1/β log(1 + exp(β x)), differentiable in both ``x`` and ``beta``.

    Lecture: 02_pose_spatial
    """
    return F.softplus(x * beta) / beta


def inverse_softplus_beta(y: torch.Tensor, beta: float) -> torch.Tensor:
    """The raw parameter whose :func:`softplus_beta` is ``y`` (> 0)."""
    return torch.log(torch.expm1(beta * y)) / beta


def message_graph(joints: int, edges: str | Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The (source v, target A) pairs of the spatial model: self-messages first, then the graph's edges.

    Parameters
    ----------
    joints : int
        J.
    edges : "full" or sequence of (i, j)
        ``"full"``: every joint listens to every other (the star of each joint is the whole body, as in the
        paper). A sequence of undirected pairs (e.g. the kinematic tree ``pose.EDGES``): messages run both ways.

    Returns
    -------
    list of (v, A)
        J self-messages ``(A, A)``, then the others.

    Lecture: 02_pose_spatial
    """
    check_positive_int(joints, "joints")
    messages = [(a, a) for a in range(joints)]
    if isinstance(edges, str):
        if edges != "full":
            raise ValueError(f"edges must be 'full' or a sequence of (i, j) pairs, but found {edges!r}")
        return messages + [(v, a) for a in range(joints) for v in range(joints) if v != a]
    for pair in edges:
        i, j = (int(p) for p in pair)
        if not (0 <= i < joints and 0 <= j < joints) or i == j:
            raise ValueError(f"edges must join two distinct joints in 0..{joints - 1}; got {tuple(pair)}")
        for m in ((i, j), (j, i)):
            if m not in messages:
                messages.append(m)
    return messages


class SpatialModel(nn.Module):
    """Star-graph spatial model on part-detector heat maps (Tompson et al., NIPS 2014).

    Parameters
    ----------
    joints : int
        J, the number of heat maps in and out.
    edges : "full" or sequence of (i, j)
        Which joints send messages to which, see :func:`message_graph`; every joint also sends one to itself.
    kernel_size : int
        Odd side of each conditional kernel in heat-map cells; ``2·max(H, W) − 1`` lets any joint reach any
        other across the map (the paper's 128 x 128).
    beta : float
        Initial SoftPlus sharpness β in [1/2, 2] (learned, clamped to that range).
    eps : float
        ReLU floor ε in (0, 0.01]: heat-map values below it count as ε, so the log stays finite.
    use_fft : bool, optional
        Convolve through the FFT; default: when ``kernel_size ≥ 16``, where it is faster.

    Shapes: ``forward`` takes heat maps Tensor[B, J, H, W] (non-negative scores, e.g. a part detector's output
    at its stride) and returns beliefs Tensor[B, J, H, W], each map summing to one.

    Examples
    --------
    >>> sm = SpatialModel(4, [(0, 1), (1, 2), (2, 3)], 15)
    >>> sm(torch.rand(2, 4, 16, 16)).sum(dim=(2, 3))
    tensor([[1.0000, 1.0000, 1.0000, 1.0000],
            [1.0000, 1.0000, 1.0000, 1.0000]], grad_fn=<SumBackward1>)

    Lecture: 02_pose_spatial
    """

    def __init__(self, joints: int, edges: str | Sequence[tuple[int, int]], kernel_size: int, *,
                 beta: float = 1.0, eps: float = 0.01, use_fft: bool | None = None):
        super().__init__()
        check_positive_int(kernel_size, "kernel_size")
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size must be odd (its centre is the zero offset), but found {kernel_size}")
        if not 0.5 <= beta <= 2.0:
            raise ValueError(f"beta must be in [1/2, 2] (the slides' SoftPlus), but found {beta}")
        if not 0.0 < eps <= 0.01:
            raise ValueError(f"eps must be in (0, 0.01] (the slides' ReLU floor), but found {eps}")
        self.joints, self.kernel_size, self.eps = joints, kernel_size, float(eps)
        self.use_fft = kernel_size >= FFT_FROM_KERNEL_SIZE if use_fft is None else bool(use_fft)
        self.messages = message_graph(joints, edges)
        E = len(self.messages)
        self.register_buffer("src", torch.tensor([v for v, _ in self.messages]), persistent=False)  # (E,)
        self.register_buffer("dst", torch.tensor([a for _, a in self.messages]), persistent=False)  # (E,)
        self.beta = nn.Parameter(torch.tensor(float(beta)))
        # Raw kernels e_{A|v} in display orientation: kernels[e, r + dy, r + dx] scores A at v + (dx, dy).
        self.kernels = nn.Parameter(torch.zeros(E, kernel_size, kernel_size))
        self.background = nn.Parameter(torch.zeros(E))  # raw b_{v->A}
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Self-messages: a delta kernel (the unary passes through) and a background of 10⁻³; other messages: a
        flat kernel and a background of 0.05, so each starts nearly flat and the untrained model is close to the
        detector alone (messages from eight joints at full strength would otherwise swamp the unary)."""
        k, beta = self.kernel_size, float(self.beta.detach())
        flat = torch.full((k, k), 1.0 / k**2)
        delta = torch.full((k, k), 1e-4)
        delta[k // 2, k // 2] = 1.0
        with torch.no_grad():
            for e, (v, a) in enumerate(self.messages):
                self.kernels[e] = inverse_softplus_beta(delta if v == a else flat, beta)
                self.background[e] = inverse_softplus_beta(torch.tensor(1e-3 if v == a else 0.05), beta)

    @torch.no_grad()
    def init_from_joints(self, joints: torch.Tensor, *, stride: int, smooth: float = 1.0,
                         floor: float = 1e-4) -> SpatialModel:
        """Set every non-self kernel to the (smoothed) histogram of offsets x_A − x_v in training poses.

        Parameters
        ----------
        joints : Tensor[n, J, 2]
            Training joint positions ``(x, y)`` in input pixels.
        stride : int
            Input pixels per heat-map cell (the detector's stride): offsets are measured in cells.
        smooth : float
            Standard deviation of the Gaussian blur of the histogram, in cells.
        floor : float
            Added to every kernel entry before normalising, so no offset is impossible.

        Returns
        -------
        SpatialModel
            ``self``, for chaining.

        Lecture: 02_pose_spatial
        """
        check_tensor(joints, "joints", dims="n J 2", shape=(None, self.joints, 2), dtype="float")
        check_positive_int(stride, "stride")
        k, r, beta = self.kernel_size, self.kernel_size // 2, float(self.beta.clamp(0.5, 2.0))
        cells = joints.float().cpu() / stride  # (n, J, 2) in cells
        t = torch.arange(-r, r + 1, dtype=torch.float32)
        g = torch.exp(-t**2 / (2 * smooth**2)) if smooth > 0 else (t == 0).float()
        g = (g / g.sum())[None, None]  # (1, 1, k): separable blur
        for e, (v, a) in enumerate(self.messages):
            if v == a:
                continue
            off = torch.round(cells[:, a] - cells[:, v]).long() + r  # (n, 2) as (col, row) in the kernel
            ok = ((off >= 0) & (off < k)).all(dim=1)
            hist = torch.zeros(k * k)
            hist.index_add_(0, off[ok, 1] * k + off[ok, 0], torch.ones(int(ok.sum())))
            hist = hist.reshape(1, 1, k, k)
            hist = F.conv2d(hist, g[..., None], padding=(r, 0))  # blur rows: (1, 1, k, k)
            hist = F.conv2d(hist, g[:, :, None], padding=(0, r))  # blur columns
            hist = hist[0, 0] / hist.sum().clamp_min(1.0) + floor  # (k, k)
            self.kernels[e] = inverse_softplus_beta(hist / hist.sum(), beta).to(self.kernels)
        return self

    def conditional_kernels(self) -> torch.Tensor:
        """SoftPlus_β(e_{A|v}): Tensor[E, k, k], entry ``[e, r + dy, r + dx]`` scores A at v + (dx, dy) cells.

        Ordered as ``self.messages``; show them as images to see what the model learned (the shoulder given the
        face lies on a ring segment below it).

        Lecture: 02_pose_spatial
        """
        return softplus_beta(self.kernels, self.beta.clamp(0.5, 2.0))

    def log_belief(self, heatmaps: torch.Tensor) -> torch.Tensor:
        """log of the normalised beliefs: log_softmax over locations of log ē_A.

        Parameters
        ----------
        heatmaps : Tensor[B, J, H, W]
            Part-detector scores e_v (any real values; the ReLU floor ε applies).

        Returns
        -------
        Tensor[B, J, H, W]
            log b''(x_A), each map's exponential summing to one.

        Lecture: 02_pose_spatial
        """
        check_tensor(heatmaps, "heatmaps", dims="B J H W", shape=(None, self.joints, None, None), dtype="float")
        B, J, H, W = heatmaps.shape
        E = len(self.messages)
        beta = self.beta.clamp(0.5, 2.0)
        x = heatmaps.clamp_min(self.eps)  # ReLU_ε(e_v): (B, J, H, W)
        x = x[:, self.src]  # (B, E, H, W): the source map of every message
        kern = softplus_beta(self.kernels, beta).to(x.dtype)  # (E, k, k)
        # conv2d correlates; flip so that the message is the convolution sum_{x_v} e_v(x_v) kern(x_A - x_v).
        weight = torch.flip(kern, dims=(-2, -1))[:, None]  # (E, 1, k, k)
        conv = fft_conv2d if self.use_fft else direct_conv2d
        msg = conv(x, weight, groups=E)  # (B, E, H, W)
        msg = msg + softplus_beta(self.background, beta).to(x.dtype)[None, :, None, None]  # + SoftPlus(b_{v->A})
        # FFT rounding can leave ~1e-7 negatives where the message is ~0; the background is ≥ 1e-3 in practice.
        log_msg = torch.log(msg.clamp_min(torch.finfo(msg.dtype).tiny))  # (B, E, H, W)
        log_e = torch.zeros(B, J, H, W, dtype=x.dtype, device=x.device)
        log_e = log_e.index_add(1, self.dst, log_msg)  # (B, J, H, W): sum over v in V(A) of the log-messages
        return torch.log_softmax(log_e.reshape(B, J, H * W), dim=-1).reshape(B, J, H, W)

    def forward(self, heatmaps: torch.Tensor) -> torch.Tensor:
        """Beliefs b''(x_A) = ē_A / Σ ē_A from heat maps.

        Parameters
        ----------
        heatmaps : Tensor[B, J, H, W], float
            Part-detector scores.

        Returns
        -------
        Tensor[B, J, H, W]
            Non-negative, each (b, j) map summing to one; same dtype and device as the input.

        Lecture: 02_pose_spatial
        """
        return self.log_belief(heatmaps).exp()

    def extra_repr(self) -> str:
        beta = float(self.beta.detach().clamp(0.5, 2.0))
        return (f"joints={self.joints}, messages={len(self.messages)}, kernel_size={self.kernel_size}, "
                f"beta={beta:.3g}, eps={self.eps:g}, use_fft={self.use_fft}")


def belief_loss(log_belief: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Cross-entropy between the normalised target heat maps and the model's log-beliefs.

    Parameters
    ----------
    log_belief : Tensor[B, J, H, W]
        Log-probabilities over locations (from :meth:`SpatialModel.log_belief`).
    target : Tensor[B, J, H, W]
        Non-negative Gaussian targets (normalised here per map).

    Returns
    -------
    Tensor[]
        Mean over B and J of −Σ_x t̂(x) log b(x), in nats; log(H·W) for a flat belief.

    Lecture: 02_pose_spatial
    """
    if log_belief.shape != target.shape:
        raise ValueError(f"log_belief and target must have the same shape; got {tuple(log_belief.shape)} and "
                         f"{tuple(target.shape)}")
    t = target / target.sum(dim=(2, 3), keepdim=True).clamp_min(1e-12)  # (B, J, H, W), sums to one
    return -(t * log_belief).sum(dim=(2, 3)).mean()

