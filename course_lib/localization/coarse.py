"""The coarse heat-map model of the cascade: the NIPS 2014 multi-resolution detector with more pooling.

Tompson, Goroshin, Jain, LeCun, Bregler, "Efficient Object Localization Using Convolutional Networks", CVPR
2015, section 3 ("COARSE MODEL" in the slides): "straight from the NIPS paper", a fully convolutional
multi-resolution part detector, with two changes:

- **More pooling.** Pooling buys context, invariance and speed but costs spatial accuracy (the slides'
  motivation). ``pooling`` ∈ {4, 8, 16} fixes the output stride: a ``(H, W)`` image gives ``(H / pooling,
  W / pooling)`` heat maps. The paper compares 4×, 8× and 16× and then recovers the lost accuracy with a cascade
  (:mod:`course_lib.localization.cascade`).
- **SpatialDropout** before the 1×1 layers: neighbouring activations of a fully convolutional net are strongly
  correlated, so dropping single pixels (standard dropout) removes almost no information; dropping whole feature
  maps does. ``dropout="spatial"`` uses ``nn.Dropout2d``, ``"standard"`` ``nn.Dropout``, ``None`` nothing.

The first layers of both resolution banks (conv 5×5, pool 2, conv 5×5: stride 2 in the full-resolution bank,
stride 4 in the half-resolution one) are the **shared early features** the fine model crops from
(:meth:`CoarseModel.features`): they have not specialised to one joint yet and keep the most spatial detail.

Deviations, for 64×64 teaching images on a CPU: 16-64 channels instead of 128-512; 5×5 convolutions instead of
the paper's 5×5 and 9×9 mix; no local contrast normalisation. At 16× pooling a 64×64 image gives 4×4 heat maps
(the paper's 320×240 give 20×15): the quantisation is coarser than the paper's, which makes the cascade's job
easier to see.

Lecture: 03_localization
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_lib.core import check_choice, check_positive_int, check_tensor
from course_lib.core.modules import conv_relu

POOLINGS = (4, 8, 16)
DROPOUTS = ("spatial", "standard", None)


def make_dropout(kind: str | None, p: float) -> nn.Module:
    """``"spatial"`` → ``nn.Dropout2d(p)`` (whole channels), ``"standard"`` → ``nn.Dropout(p)`` (single
    activations), ``None`` → identity. Survivors are scaled by ``1 / (1 − p)`` in training mode."""
    check_choice(kind, "dropout", DROPOUTS)
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p must be a probability in [0, 1), but found {p}")
    if kind == "spatial":
        return nn.Dropout2d(p)
    if kind == "standard":
        return nn.Dropout(p)
    return nn.Identity()


class CoarseBank(nn.Module):
    """One resolution bank: ``early`` (conv 5×5, pool 2, conv 5×5, ``width`` channels) then ``late``: three conv
    5×5 with ``2 · width`` channels, the first ``pools`` of them preceded by a 2×2 max-pool.

    Input Tensor[B, 3, H, W] → early Tensor[B, width, H / 2, W / 2] → late Tensor[B, 2·width, H / 2^(1 + pools),
    W / 2^(1 + pools)]. Every model has the same layers; more pooling only moves the late ones to a coarser grid,
    which is why it is faster (and why, at 16×, the early layers dominate the run time, as on the slides).
    """

    def __init__(self, width: int, pools: int):
        super().__init__()
        self.early = nn.Sequential(conv_relu(3, width, 5), nn.MaxPool2d(2), conv_relu(width, width, 5))
        late, c_in = [], width
        for i in range(3):
            late += ([nn.MaxPool2d(2)] if i < pools else []) + [conv_relu(c_in, 2 * width, 5)]
            c_in = 2 * width
        self.late = nn.Sequential(*late)


class CoarseModel(nn.Module):
    """Multi-resolution coarse heat-map model with ``pooling``× output stride and (spatial) dropout.

    Parameters
    ----------
    joints : int
        Number of joints J (heat maps).
    pooling : {4, 8, 16}
        Output stride: input pixels per heat-map cell. Cell ``(u, v)`` is centred at input pixel
        ``(pooling·u + (pooling − 1)/2, pooling·v + (pooling − 1)/2)`` (see :mod:`course_lib.core.keypoints`).
    width : int
        Channels of the early layers and of the merge convolution; the late layers and the first 1×1 layer have
        ``2 · width``.
    dropout : {"spatial", "standard", None}
        Dropout before each 1×1 layer: ``nn.Dropout2d`` (SpatialDropout), ``nn.Dropout`` or none.
    p : float
        Drop probability in [0, 1).

    Attributes
    ----------
    stride : int
        ``pooling``.
    feature_strides : tuple of int
        ``(2, 4)``: input pixels per cell of the two shared early feature maps (:meth:`features`).

    Examples
    --------
    >>> net = CoarseModel(9, pooling=8, width=8)
    >>> net(torch.rand(2, 3, 64, 64)).shape
    torch.Size([2, 9, 8, 8])
    >>> [tuple(f.shape) for f in net.features(torch.rand(2, 3, 64, 64))]
    [(2, 8, 32, 32), (2, 8, 16, 16)]

    Lecture: 03_localization
    """

    feature_strides = (2, 4)

    def __init__(self, joints: int = 9, *, pooling: int = 8, width: int = 16, dropout: str | None = "spatial",
                 p: float = 0.2):
        super().__init__()
        check_positive_int(joints, "joints")
        check_choice(pooling, "pooling", POOLINGS)
        check_positive_int(width, "width")
        self.joints, self.pooling, self.width, self.dropout, self.p = joints, pooling, width, dropout, p
        pools = int(math.log2(pooling)) - 1  # pools after the early stage (which pools once)
        self.full_res = CoarseBank(width, pools)  # stride 2 early, `pooling` late
        self.half_res = CoarseBank(width, pools)  # on the half-size image: stride 4 early, 2·`pooling` late
        # After the merge: conv 5x5, then the "fully connected" 1x1 layers, each preceded by dropout.
        self.head = nn.Sequential(
            conv_relu(2 * width, width, 5),
            make_dropout(dropout, p),
            conv_relu(width, 2 * width, 1),
            make_dropout(dropout, p),
            nn.Conv2d(2 * width, joints, 1),
        )

    @property
    def stride(self) -> int:
        return self.pooling

    def extra_repr(self) -> str:
        return (f"joints={self.joints}, pooling={self.pooling}, width={self.width}, dropout={self.dropout!r}, "
                f"p={self.p}")

    def check_images(self, images: torch.Tensor) -> None:
        """Raise a ``ValueError`` unless ``images`` is Tensor[B, 3, H, W] float with H, W divisible by 2·pooling."""
        check_tensor(images, "images", dims="B C H W", shape=(None, 3, None, None), dtype="float")
        H, W = images.shape[-2:]
        if H % (2 * self.pooling) or W % (2 * self.pooling):
            raise ValueError(f"images must have H and W divisible by 2·pooling = {2 * self.pooling}; "
                             f"got (H, W) = ({H}, {W})")

    def features(self, images: torch.Tensor) -> list[torch.Tensor]:
        """The shared early features at all resolutions: what the fine model crops.

        Parameters
        ----------
        images : Tensor[B, 3, H, W], float in [0, 1]

        Returns
        -------
        [Tensor[B, width, H / 2, W / 2], Tensor[B, width, H / 4, W / 4]]: full- and half-resolution banks after
        their first two convolutions, at input strides ``feature_strides``.
        """
        self.check_images(images)
        x = images - 0.5  # centre the inputs
        return [self.full_res.early(x), self.half_res.early(F.avg_pool2d(x, 2))]

    def heatmaps_from_features(self, feats: list[torch.Tensor]) -> torch.Tensor:
        """Finish the forward pass from :meth:`features`: Tensor[B, J, H / pooling, W / pooling]."""
        full, half = feats
        a = self.full_res.late(full)  # (B, 2·width, H/pooling, W/pooling)
        b = self.half_res.late(half)  # (B, 2·width, H/(2 pooling), W/(2 pooling))
        b = F.interpolate(b, size=a.shape[-2:], mode="bilinear", align_corners=False)  # (B, 2·width, H/p, W/p)
        return self.head(a + b)  # overlapping receptive fields merged by adding: (B, J, H/p, W/p)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Coarse heat maps.

        Parameters
        ----------
        images : Tensor[B, 3, H, W], float in [0, 1]; H and W divisible by ``2 · pooling``.

        Returns
        -------
        Tensor[B, J, H / pooling, W / pooling], float: unnormalised heat maps (trained towards Gaussians of peak 1).
        """
        return self.heatmaps_from_features(self.features(images))


def spatial_dropout_reference(x: torch.Tensor, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """SpatialDropout by hand: zero whole channels with probability ``p``, scale the survivors by ``1 / (1 − p)``.

    The slow, obvious version of ``nn.Dropout2d`` in training mode (same distribution, not the same random
    numbers).

    Parameters
    ----------
    x : Tensor[B, C, H, W], float
    p : float in [0, 1)

    Returns
    -------
    Tensor[B, C, H, W]: ``x · mask[b, c] / (1 − p)`` with one Bernoulli(1 − p) ``mask`` value per (b, c).

    Lecture: 03_localization
    """
    check_tensor(x, "x", dims="B C H W", dtype="float")
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p must be a probability in [0, 1), but found {p}")
    B, C, H, W = x.shape
    keep = (torch.rand(B, C, 1, 1, generator=generator) >= p).to(x.dtype).to(x.device)  # (B, C, 1, 1)
    return x * keep / (1.0 - p)


def neighbour_correlation(features: torch.Tensor, *, offsets=(1, 2, 4, 8)) -> torch.Tensor:
    """Correlation between activations ``d`` cells apart (horizontally) in the same channel, per offset.

    Why per-pixel dropout fails in a fully convolutional net (slides, "SPATIAL DROPOUT"): when neighbours are
    almost copies of each other, dropping one leaves its information in the next, so dropout only rescales the
    learning rate. Correlations are Pearson's, pooled over batch, channels and positions (each channel centred
    on its own mean first).

    Parameters
    ----------
    features : Tensor[B, C, H, W], float
    offsets : sequence of int
        Horizontal distances in cells, each < W.

    Returns
    -------
    Tensor[len(offsets)], float32 in [-1, 1].

    Lecture: 03_localization
    """
    check_tensor(features, "features", dims="B C H W", dtype="float")
    B, C, H, W = features.shape
    f = features.detach().float()
    f = f - f.mean(dim=(0, 2, 3), keepdim=True)  # (B, C, H, W) centred per channel
    out = []
    for d in offsets:
        check_positive_int(d, "offset")
        if d >= W:
            raise ValueError(f"offsets must be < W = {W}, but found {d}")
        a, b = f[..., :-d].reshape(-1), f[..., d:].reshape(-1)  # (B·C·H·(W−d),) pairs d cells apart
        out.append((a * b).sum() / (a.norm() * b.norm()).clamp_min(1e-12))
    return torch.stack(out)


def count_macs(model: nn.Module, *inputs, **kwargs) -> int:
    """Multiply-adds of all ``nn.Conv2d`` layers in one forward pass of ``model(*inputs, **kwargs)``.

    A device-independent cost to set beside measured times: on a CPU, small convolutions at high resolution
    run far below peak speed, so wall time follows the operation count only loosely.

    Returns
    -------
    int: Σ over convolutions of ``output elements × in_channels / groups × kernel height × kernel width``.

    Lecture: 03_localization
    """
    total = [0]

    def hook(mod, inp, out):
        kh, kw = mod.kernel_size
        total[0] += out.numel() * (mod.in_channels // mod.groups) * kh * kw

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.Conv2d)]
    try:
        with torch.no_grad():
            model(*inputs, **kwargs)
    finally:
        for h in handles:
            h.remove()
    return total[0]

