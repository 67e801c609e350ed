"""One ConvNet for deblurring, inpainting and dirt/rain removal: residual, dilated, optionally mask-aware.

The three papers of the slides each train a net that maps the corrupted image to the clean one:

* Schuler et al., "Learning to Deblur" (2014): blind deconvolution, the kernel is not given to the net;
* Xie et al. (NIPS 2012) and Köhler et al. (GCPR 2014): inpainting; Köhler's net is *mask-specific*: it is
  told which pixels are missing, here as an extra input channel, and only those pixels are replaced;
* Eigen, Krishnan, Fergus (ICCV 2013): dirt or rain on a window, found and removed by the net (no mask).

Deviation: the papers use different architectures (MLPs on patches, a 3-layer ConvNet); the course uses one
small residual ConvNet for all three, so that the corruption is the only thing that changes. Blur, text and
dirt spread over more pixels than noise, so the net needs a wide receptive field at low cost: its 3 × 3
convolutions are *dilated* (1, 2, 4, 8, ... then back down, as in Zhang et al.'s IRCNN, CVPR 2017), which
gives a receptive field of 1 + 2·Σ dilations pixels (61 px for depth 8) with the compute of a plain depth-8 net.

    x̂ = y + g(y),        inpainting: ỹ = prefill(y, m),  x̂ = (1 − m)·y + m·(ỹ + g([ỹ, m]))

The last convolution starts at zero, so an untrained net returns its input (the corrupted image, or the
pre-filled one): with minutes of training, the net only has to learn a correction. Inpainting deviation: the
holes are first filled by *normalised convolution* (a Gaussian-weighted mean of the known pixels around,
``prefill``), so the net refines a smooth guess instead of inventing from white text.

Lecture: 06_restoration
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.core import check_model_input, check_positive_int, check_tensor, receptive


def dilations(depth: int) -> list[int]:
    """Dilation of each of ``depth`` layers: doubling up to the middle, then halving (first and last are 1).

    >>> dilations(8)
    [1, 2, 4, 8, 8, 4, 2, 1]

    Lecture: 06_restoration
    """
    check_positive_int(depth, "depth")
    half = [2 ** min(i, 4) for i in range((depth + 1) // 2)]  # capped at 16
    return half + half[: depth // 2][::-1]


def receptive_field(depth: int) -> int:
    """Side of the receptive field of ``RestorationNet(depth=depth)`` in pixels: its 3 × 3 layers with
    :func:`dilations`, through :func:`course_lib.core.receptive.receptive_field`. Lecture: 06_restoration"""
    return receptive.receptive_field([(3, 1, d, d) for d in dilations(depth)])[0]


class RestorationNet(nn.Module):
    """x̂ = y + g([y, extra]): a residual net of dilated Conv(3 × 3)–BN–ReLU layers.

    Parameters
    ----------
    channels : int
        Image channels (input and output).
    extra : int
        Extra input channels (1 for the inpainting mask, 0 otherwise).
    depth : int
        Convolutions (≥ 2); dilations from :func:`dilations`.
    width : int
        Hidden feature channels.

    ``forward(y, mask=None)``: y Tensor[N, C, H, W], mask Tensor[N, 1, H, W] in {0, 1} (1 = missing; required
    iff ``extra == 1``) → Tensor[N, C, H, W] (not clipped). With a mask, known pixels are returned unchanged.

    Lecture: 06_restoration
    """

    def __init__(self, *, channels: int = 3, extra: int = 0, depth: int = 8, width: int = 48):
        super().__init__()
        check_positive_int(channels, "channels")
        check_positive_int(width, "width")
        if check_positive_int(depth, "depth") < 2:
            raise ValueError(f"depth must be ≥ 2, but found {depth}")
        if extra not in (0, 1):
            raise ValueError(f"extra must be 0 or 1 (a mask channel), but found {extra!r}")
        self.channels, self.extra, self.depth, self.width = channels, extra, depth, width
        d = dilations(depth)
        layers: list[nn.Module] = [nn.Conv2d(channels + extra, width, 3, padding=d[0], dilation=d[0]),
                                   nn.ReLU(inplace=True)]
        for k in d[1:-1]:
            layers += [nn.Conv2d(width, width, 3, padding=k, dilation=k, bias=False), nn.BatchNorm2d(width),
                       nn.ReLU(inplace=True)]
        last = nn.Conv2d(width, channels, 3, padding=d[-1], dilation=d[-1])
        nn.init.zeros_(last.weight)  # start as the identity: x̂ = y (or the pre-filled y)
        nn.init.zeros_(last.bias)
        layers.append(last)
        self.body = nn.Sequential(*layers)

    def forward(self, y: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        check_model_input(y, "y", self, dims="N C H W", shape=(None, self.channels, None, None),
                          min_value=-2.0, max_value=3.0)  # noisy images overshoot [0, 1]; 0..255 does not pass
        if self.extra:
            if mask is None:
                raise ValueError("this RestorationNet is mask-aware (extra=1): call it as net(y, mask)")
            check_tensor(mask, "mask", dims="N 1 H W", shape=(y.shape[0], 1, *y.shape[-2:]), dtype="float",
                         min_value=0.0, max_value=1.0)
            y0 = prefill(y, mask)  # (N, C, H, W): holes filled with a local mean of the known pixels
            out = y0 + self.body(torch.cat([y0, mask], dim=1))  # (N, C, H, W)
            return (1 - mask) * y + mask * out  # keep the known pixels
        if mask is not None:
            raise ValueError("this RestorationNet takes no mask (extra=0); call it as net(y)")
        return y + self.body(y)

    def extra_repr(self) -> str:
        return (f"channels={self.channels}, extra={self.extra}, depth={self.depth}, width={self.width}, "
                f"receptive_field={receptive_field(self.depth)}")


def prefill(y: torch.Tensor, mask: torch.Tensor, *, sigma: float = 2.0, rounds: int = 3) -> torch.Tensor:
    """Fill the masked pixels of ``y`` by normalised convolution: G ⊛ ((1 − m)·y) / G ⊛ (1 − m) with a Gaussian
    G of ``sigma`` pixels, repeated ``rounds`` times with σ doubling, so that wide holes get filled too.
    Known pixels are unchanged. y: Tensor[N, C, H, W], mask: Tensor[N, 1, H, W] (1 = missing) → Tensor[N, C, H, W].

    Lecture: 06_restoration
    """
    import torch.nn.functional as F

    from .corruptions import gaussian_kernel

    known = 1 - mask  # (N, 1, H, W)
    C = y.shape[1]
    filled = y * known  # (N, C, H, W)
    done = known > 0.5  # pixels that have a value
    for r in range(rounds):
        k = gaussian_kernel(sigma * 2**r).to(y.device, y.dtype)  # (k, k)
        pad = k.shape[0] // 2
        w = k[None, None].repeat(C + 1, 1, 1, 1)  # (C + 1, 1, k, k): values and weights, depthwise
        both = F.conv2d(F.pad(torch.cat([y * known, known], 1), (pad,) * 4, mode="replicate"), w, groups=C + 1)
        num, den = both[:, :C], both[:, C:]  # (N, C, H, W), (N, 1, H, W)
        ok = (den > 1e-2) & ~done  # holes this scale reaches with enough known pixels
        filled = torch.where(ok, num / den.clamp_min(1e-6), filled)
        done = done | ok
    return (1 - mask) * y + mask * filled


@torch.no_grad()
def apply_net(model: nn.Module, inputs, *, batch_size: int = 4, tile: int | None = None) -> torch.Tensor:
    """Run ``model`` in eval mode on ``inputs`` (Tensor[N, C, H, W], or a tuple (y, mask) or (y, kernels)) in
    chunks on the model's device; output clipped to [0, 1], on the input's device. Images over a megapixel run in
    overlapping tiles with the same result (``tile``: see :func:`course_lib.restoration.tiling.run_tiled`).

    Lecture: 06_restoration
    """
    from .tiling import margin_of, run_tiled

    device = next(model.parameters()).device
    model.eval()
    y, rest = (inputs[0], inputs[1:]) if isinstance(inputs, tuple) else (inputs, ())
    out = []
    for i in range(0, y.shape[0], batch_size):
        args = [t[i:i + batch_size].to(device) for t in (y, *rest)]
        images = [a for a in args if a.dim() == 4]  # cut into tiles: the image and its mask
        others = [a for a in args if a.dim() != 4]  # passed whole: one kernel per image (N, k, k)

        def run(*parts, others=others):
            return model(*parts, *others).clamp(0, 1).to(y.device)

        out.append(run_tiled(run, *images, tile=tile, **margin_of(model)))
    return torch.cat(out)
