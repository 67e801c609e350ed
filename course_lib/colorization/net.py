"""The colorization network, scaled down: L in, a distribution over Q ab bins out, at 1/4 resolution.

Zhang, Isola, Efros, ECCV 2016, Fig. 2 and Table 4 of the supplement: eight blocks of 2-3 3×3 convolutions with
ReLU, batch normalisation after each block, no pooling; conv1-3 halve the resolution (stride 2), conv4-7 stay at
1/8 with dilation 2 in conv5 and conv6 (the "à trous" trick of Chen et al. and Yu & Koltun, cited on the slide:
a wider receptive field without losing resolution), conv8 upsamples back to 1/4, and a 1×1 convolution predicts
Q = 313 logits per pixel. The input is L normalised as (L − 50)/100 (``NORM_L``), as in the released code.

Deviations, all for size (a CPU-trainable teaching model on 64-128 px scenes, not 224 px ImageNet): channel
widths are ``width × (1, 2, 4, 4, 4, 4, 4, 2)`` instead of (64, 128, 256, 512, 512, 512, 512, 256), and every
block has two convolutions. The same body with a 2-channel head (``head="regression"``, output scaled by
``AB_SCALE = 110`` as the released code scales ab) is the L2 baseline of the slides.

``colorize`` runs a model on a greyscale image and puts the colour back together: the predicted ab (annealed
mean for the classifier) is upsampled to the input resolution and joined to the original L.

Lecture: 07_colorization
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from course_lib.core import check_choice, check_model_input, check_positive_int, check_tensor

from .bins import ab_bins
from .decode import TEMPERATURE, annealed_mean
from .lab import lab_to_rgb, rgb_to_lab

NORM_L = (50.0, 100.0)  # network input (L − 50) / 100
AB_SCALE = 110.0  # regression output × 110 = ab
HEADS = ("class", "regression")
STRIDE = 4  # prediction at 1/4 of the input resolution


def _block(c_in: int, c_out: int, *, stride: int = 1, dilation: int = 1) -> nn.Sequential:
    """Two 3×3 convs with ReLU, the second strided, then batch norm (the paper's block)."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, 3, padding=dilation, dilation=dilation),
        nn.ReLU(inplace=True),
        nn.Conv2d(c_out, c_out, 3, stride=stride, padding=dilation, dilation=dilation),
        nn.ReLU(inplace=True),
        nn.BatchNorm2d(c_out),
    )


class ColorizationNet(nn.Module):
    """Zhang et al.'s colorization net, scaled down: Tensor[B, 1, H, W] (L) → logits or ab at 1/4 resolution.

    Parameters
    ----------
    width : int
        Channels of conv1; the others are multiples (see the module docstring). 16 trains on a CPU in minutes.
    head : {"class", "regression"}
        ``"class"``: Q logits per pixel (multinomial classification). ``"regression"``: 2 channels, ab directly
        (the L2 baseline).
    bins : Tensor[Q, 2], optional
        Bin centres for the class head (default: the paper's 313); stored as a buffer so that a checkpoint
        carries them.

    Lecture: 07_colorization
    """

    def __init__(self, *, width: int = 16, head: str = "class", bins: torch.Tensor | None = None):
        super().__init__()
        check_positive_int(width, "width")
        check_choice(head, "head", HEADS)
        self.width, self.head = width, head
        w = width
        self.conv1 = _block(1, w, stride=2)  # 1/2
        self.conv2 = _block(w, 2 * w, stride=2)  # 1/4
        self.conv3 = _block(2 * w, 4 * w, stride=2)  # 1/8
        self.conv4 = _block(4 * w, 4 * w)
        self.conv5 = _block(4 * w, 4 * w, dilation=2)  # dilated: receptive field grows, resolution kept
        self.conv6 = _block(4 * w, 4 * w, dilation=2)
        self.conv7 = _block(4 * w, 4 * w)
        self.conv8 = nn.Sequential(  # back up to 1/4 with a learned (transposed) convolution
            nn.ConvTranspose2d(4 * w, 2 * w, 4, stride=2, padding=1),
            nn.ReLU(inplace=True),
            nn.Conv2d(2 * w, 2 * w, 3, padding=1),
            nn.ReLU(inplace=True),
        )
        if head == "class":
            bins = ab_bins() if bins is None else bins
            check_tensor(bins, "bins", dims="Q 2", shape=(None, 2), dtype="float")
            self.register_buffer("bins", bins.detach().clone().float())
            self.predict = nn.Conv2d(2 * w, bins.shape[0], 1)  # Q logits
        else:
            self.register_buffer("bins", torch.empty(0, 2))
            self.predict = nn.Conv2d(2 * w, 2, 1)  # ab / AB_SCALE

    @property
    def num_bins(self) -> int:
        return int(self.bins.shape[0])

    def features(self, L: torch.Tensor, *, upto: str = "conv7") -> torch.Tensor:
        """The body's activations after block ``upto`` (e.g. "conv5"): Tensor[B, C, H/8, W/8] for conv3-7.

        Used by the linear probe (colorization as a pretext task). ``L`` as in :meth:`forward`.

        Lecture: 07_colorization
        """
        names = ["conv1", "conv2", "conv3", "conv4", "conv5", "conv6", "conv7", "conv8"]
        check_choice(upto, "upto", names)
        x = self._normalise(L)
        for name in names:
            x = getattr(self, name)(x)
            if name == upto:
                return x
        raise AssertionError(f"unreachable: {upto}")

    def _normalise(self, L: torch.Tensor) -> torch.Tensor:
        check_model_input(L, "L", self, dims="B 1 H W", shape=(None, 1, None, None), min_value=0.0, max_value=100.0)
        B, _, H, W = L.shape
        if H % 8 or W % 8:
            raise ValueError(f"L must have H and W divisible by 8 (three stride-2 blocks); got {H}×{W}")
        return (L - NORM_L[0]) / NORM_L[1]

    def forward(self, L: torch.Tensor) -> torch.Tensor:
        """Predict colour at 1/4 resolution.

        Parameters
        ----------
        L : Tensor[B, 1, H, W], float
            Lightness in [0, 100] (normalised inside); H and W divisible by 8.

        Returns
        -------
        Tensor[B, Q, H/4, W/4]
            Logits over the bins (``head="class"``; softmax over dim 1 gives Ẑ), or
        Tensor[B, 2, H/4, W/4]
            ab in ab units (``head="regression"``).

        Lecture: 07_colorization
        """
        x = self.features(L, upto="conv8")  # (B, 2w, H/4, W/4)
        out = self.predict(x)
        return out if self.head == "class" else out * AB_SCALE

    def extra_repr(self) -> str:
        return f"width={self.width}, head={self.head!r}, Q={self.num_bins if self.head == 'class' else 0}"


def predict_ab(model: ColorizationNet, L: torch.Tensor, *, T: float = TEMPERATURE) -> torch.Tensor:
    """The model's ab at 1/4 resolution: annealed mean (class head) or the regression output.

    ``L`` is Tensor[B, 1, H, W] in [0, 100]; returns Tensor[B, 2, H/4, W/4] in ab units.

    Lecture: 07_colorization
    """
    out = model(L)
    if model.head == "regression":
        return out
    return annealed_mean(torch.softmax(out, dim=1), model.bins, T=T)  # (B, 2, H/4, W/4)


@torch.no_grad()
def colorize(model: ColorizationNet, image: torch.Tensor, *, T: float = TEMPERATURE,
             net_size: int | None = None) -> torch.Tensor:
    """Colourise greyscale images: RGB at the input resolution, with the input's own L and predicted ab.

    Parameters
    ----------
    model : ColorizationNet
        Either head; runs in eval mode on its own device.
    image : Tensor[B, 3, H, W] in [0, 1] (greyscale or colour sRGB: only its L is used) or Tensor[B, 1, H, W]
        (L in [0, 100]).
    T : float
        Annealed-mean temperature (class head only).
    net_size : int, optional
        Run the network on an ``net_size × net_size`` resize of L (a multiple of 8), e.g. the size it was
        trained at; default: H and W rounded up to multiples of 8.

    Returns
    -------
    Tensor[B, 3, H, W]
        sRGB in [0, 1] on ``image``'s device.

    Lecture: 07_colorization
    """
    check_tensor(image, "image", dims="B C H W", dtype="float")
    if image.shape[1] not in (1, 3):
        raise ValueError(f"image must have 1 (L) or 3 (RGB) channels; got {image.shape[1]}")
    L = image if image.shape[1] == 1 else rgb_to_lab(image)[:, :1]  # (B, 1, H, W)
    B, _, H, W = L.shape
    if net_size is not None:
        check_positive_int(net_size, "net_size")
        if net_size % 8:
            raise ValueError(f"net_size must be a multiple of 8, but found {net_size}")
        size = (net_size, net_size)
    else:
        size = (-(-H // 8) * 8, -(-W // 8) * 8)  # round up to multiples of 8
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    L_net = L.to(device)
    if size != (H, W):
        L_net = F.interpolate(L_net, size=size, mode="bilinear", align_corners=False)  # (B, 1, h, w)
    ab = predict_ab(model, L_net, T=T)  # (B, 2, h/4, w/4)
    ab = F.interpolate(ab, size=(H, W), mode="bilinear", align_corners=False)  # (B, 2, H, W)
    model.train(was_training)
    return lab_to_rgb(torch.cat([L.to(device), ab], dim=1)).to(image.device)  # (B, 3, H, W)
