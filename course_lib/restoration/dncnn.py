"""DnCNN: a residual ConvNet denoiser (Zhang, Zuo, Chen, Meng, Zhang, "Beyond a Gaussian Denoiser: Residual
Learning of Deep CNN for Image Denoising", IEEE TIP 2017).

Burger et al. (CVPR 2012) asked whether a plain neural net can compete with BM3D and answered yes with a huge
MLP on patches (``course_lib.restoration.patch_mlp``). DnCNN answers it with a ConvNet and two ideas:

* **Residual learning.** The net f does not output the clean image; it outputs the *noise*, and the estimate
  is x̂ = y − f(y). The noise is a simpler function to learn than the image (it has no structure at all), and
  the identity part of the map is free.
* **Conv–BN–ReLU body.** ``depth`` 3 × 3 convolutions with zero padding keep the image size; the first has no
  batch norm, the last maps back to the image channels with neither BN nor ReLU. The receptive field is
  (2·depth + 1)² pixels.

Both ideas are switches here (``residual=False``: the net outputs the image; ``batch_norm=False``: biases instead
of BN), so that lecture 06 can test each claim against a control trained with the same budget.

The paper's DnCNN-S has depth 17 and width 64, trained for hours on a GPU on 40 × 40 patches of 400 images at
one σ; DnCNN-B is the same net trained *blind* over σ ∈ [0, 55]. The course trains both shapes of
experiment with a smaller net (the profile's depth and width) on scikit-image's photos for minutes on a CPU;
the lecture reports how far that falls from BM3D.

Lecture: 06_restoration
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.core import check_model_input, check_positive_int, check_tensor


class DnCNN(nn.Module):
    """x̂ = y − f(y): a ``depth``-layer Conv(3 × 3)–BN–ReLU net f that predicts the noise.

    Parameters
    ----------
    channels : int
        Image channels (1 grey, 3 colour); input and output.
    depth : int
        Number of convolutions (≥ 2), receptive field ``2·depth + 1`` pixels.
    width : int
        Feature channels of the hidden layers.
    residual : bool
        True (DnCNN): the body predicts the noise and x̂ = y − f(y). False (the control): the body predicts the
        image, x̂ = f(y), and ``noise(y)`` is y − f(y); the loss is the same image MSE either way.
    batch_norm : bool
        True (DnCNN): Conv–BN–ReLU in the middle layers. False (the control): Conv(+bias)–ReLU.

    Shapes: ``forward(y)``: Tensor[N, C, H, W] → Tensor[N, C, H, W] (the denoised image, not clipped);
    ``noise(y)``: the same shapes, f(y), the predicted noise.

    Lecture: 06_restoration
    """

    def __init__(self, *, channels: int = 1, depth: int = 10, width: int = 48, residual: bool = True,
                 batch_norm: bool = True):
        super().__init__()
        check_positive_int(channels, "channels")
        check_positive_int(width, "width")
        if check_positive_int(depth, "depth") < 2:
            raise ValueError(f"depth must be ≥ 2 (first and last layer), but found {depth}")
        for value, name in ((residual, "residual"), (batch_norm, "batch_norm")):
            if not isinstance(value, bool):
                raise TypeError(f"{name} must be a bool, but found {type(value).__name__} {value!r}")
        self.channels, self.depth, self.width = channels, depth, width
        self.residual, self.batch_norm = residual, batch_norm
        layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            if batch_norm:  # bias=False: BN's shift replaces the bias
                layers += [nn.Conv2d(width, width, 3, padding=1, bias=False), nn.BatchNorm2d(width),
                           nn.ReLU(inplace=True)]
            else:
                layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU(inplace=True)]
        layers.append(nn.Conv2d(width, channels, 3, padding=1))
        self.body = nn.Sequential(*layers)

    def noise(self, y: torch.Tensor) -> torch.Tensor:
        """f(y): the predicted noise, Tensor[N, C, H, W] (in the image's [0, 1] units, σ/255 scale)."""
        check_model_input(y, "y", self, dims="N C H W", shape=(None, self.channels, None, None),
                          min_value=-2.0, max_value=3.0)  # noisy images overshoot [0, 1]; 0..255 does not pass
        return self.body(y) if self.residual else y - self.body(y)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """The denoised image y − f(y) (``residual=False``: f(y)): Tensor[N, C, H, W] → Tensor[N, C, H, W]."""
        if not self.residual:
            check_model_input(y, "y", self, dims="N C H W", shape=(None, self.channels, None, None),
                              min_value=-2.0, max_value=3.0)
            return self.body(y)
        return y - self.noise(y)

    def extra_repr(self) -> str:
        extra = ("" if self.residual else ", residual=False") + ("" if self.batch_norm else ", batch_norm=False")
        return f"channels={self.channels}, depth={self.depth}, width={self.width}{extra}"


def residual_loss(noise_net, y: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """DnCNN's loss: mean squared error between the predicted noise f(y) and the true noise y − x.

    Because x̂ = y − f(y), this equals the mean squared error of the image, mean((x̂ − x)²): residual learning
    changes what the net outputs, not what is minimised. ``noise_net``: callable Tensor[N, C, H, W] → same;
    y, x: Tensor[N, C, H, W]. Returns a scalar tensor.

    Lecture: 06_restoration
    """
    return torch.mean((noise_net(y) - (y - x)) ** 2)


@torch.no_grad()
def denoise(model: nn.Module, y: torch.Tensor, *, batch_size: int = 8, tile: int | None = None) -> torch.Tensor:
    """Apply a denoiser in eval mode, in chunks, on the model's device; output clipped to [0, 1], on y's device.

    ``y``: Tensor[N, C, H, W] → Tensor[N, C, H, W]. Images over a megapixel are run in overlapping tiles with
    the same result (``tile``: see :func:`course_lib.restoration.tiling.run_tiled`), so memory stays bounded.

    Lecture: 06_restoration
    """
    from .tiling import margin_of, run_tiled

    check_tensor(y, "y", dims="N C H W", dtype="float", finite=True)
    device = next(model.parameters()).device
    model.eval()
    out = [run_tiled(lambda t: model(t.to(device)).clamp(0, 1).to(y.device), chunk, tile=tile, **margin_of(model))
           for chunk in y.split(batch_size)]
    return torch.cat(out)
