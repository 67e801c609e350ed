"""FCN-32s, FCN-16s and FCN-8s: one backbone, three ways of fusing "what" (deep, coarse) with "where"
(shallow, fine).

The backbone is a VGG-style stack of five stages, each ending in a 2×2 max-pool, so that ``pool3``, ``pool4``
and ``pool5`` have strides 8, 16 and 32. ``fc6``/``fc7`` are the convolutionalized classifier layers, and a 1×1
``score_fr`` turns them into K class scores per 32×32 block. Then:

* FCN-32s: upsample ``score_fr`` 32× to pixels.
* FCN-16s: upsample ``score_fr`` 2× (``upscore2``), add ``score_pool4`` (a 1×1 conv of pool4), upsample 16×.
* FCN-8s: as 16s, then upsample 2× again (``upscore_pool4``), add ``score_pool3``, upsample 8×.

Score layers start at zero (so a new skip begins by changing nothing), upsampling starts as bilinear
interpolation; the 2× upsamplings learn, the final one is fixed, as in the original.

Deviations from the paper, and why:

* The paper convolutionalizes ImageNet-trained VGG16 (fc6 = 7×7 conv, 4096 channels) and pads conv1 by 100
  pixels so that any input survives five pools, then crops with computed offsets. Our backbone is small and
  trained from scratch (a lecture has no ImageNet), with group norm so that it trains in a few CPU minutes,
  "same" 3×3 convs and ``ceil_mode`` pools: a stride-s map has ``ceil(H / s)`` rows, pixel ``i`` is centred on
  input pixel ``s·i + (s − 1)/2``, and the crops are fixed offsets (``Upsample``) that keep grids aligned. fc6
  is a 3×3 conv because our pool5 maps are a few pixels wide.
* The three variants are trained separately with the same budget ("at once", as in the PAMI version) rather
  than 16s fine-tuned from 32s and 8s from 16s, so that the comparison is fair.
* ``backbone="vgg11_bn"`` or ``"vgg16_bn"`` takes torchvision's VGG (no downloaded weights) with the same
  heads, for the full profile on a GPU.

Reference: J. Long, E. Shelhamer, T. Darrell, "Fully Convolutional Networks for Semantic Segmentation",
CVPR 2015; E. Shelhamer, J. Long, T. Darrell, PAMI 2016; https://github.com/shelhamer/fcn.berkeleyvision.org.

Lecture: 04_segmentation
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.core import check_choice, check_model_input, check_positive_int, check_tensor

from .upsample import Upsample, crop_like

VARIANTS = ("32s", "16s", "8s")
BACKBONES = ("vgg", "vgg11_bn", "vgg16_bn")


def _norm(channels: int) -> nn.Module:
    # GroupNorm, not BatchNorm: no running statistics, so a net trained for a few dozen steps live in the
    # lecture behaves the same in eval mode as in training (BatchNorm's running averages would still be warming
    # up), and batch size does not matter.
    return nn.GroupNorm(max(1, min(8, channels // 4)), channels)  # ≥ 4 channels per group


def _stage(c_in: int, c_out: int, n_convs: int) -> nn.Sequential:
    layers: list[nn.Module] = []
    for k in range(n_convs):
        layers += [nn.Conv2d(c_in if k == 0 else c_out, c_out, 3, padding=1, bias=False),
                   _norm(c_out), nn.ReLU(inplace=True)]
    layers.append(nn.MaxPool2d(2, stride=2, ceil_mode=True))  # ceil: an odd side keeps its last pixel
    return nn.Sequential(*layers)


class VGGBackbone(nn.Module):
    """A small VGG: five stages of 3×3 conv + BN + ReLU, each ending in a 2×2 max-pool; then fc6 and fc7.

    Channels are ``width × (1, 2, 4, 8, 8)`` for the stages and ``16·width`` for fc6/fc7.
    ``forward`` returns ``{"pool3": Tensor[B, 4w, ⌈H/8⌉, ⌈W/8⌉], "pool4": Tensor[B, 8w, ⌈H/16⌉, ⌈W/16⌉],
    "fc7": Tensor[B, 16w, ⌈H/32⌉, ⌈W/32⌉]}``.

    Lecture: 04_segmentation
    """

    def __init__(self, *, width: int = 16, in_channels: int = 3, dropout: float = 0.1):
        super().__init__()
        check_positive_int(width, "width")
        w = width
        self.width = width
        self.stage1 = _stage(in_channels, w, 1)  # stride 2
        self.stage2 = _stage(w, 2 * w, 1)  # stride 4
        self.stage3 = _stage(2 * w, 4 * w, 2)  # stride 8: pool3
        self.stage4 = _stage(4 * w, 8 * w, 2)  # stride 16: pool4
        self.stage5 = _stage(8 * w, 8 * w, 2)  # stride 32: pool5
        # fc6 / fc7: the classifier of a VGG, convolutionalized (see convolutionalize.py); 2-D dropout as there.
        self.fc = nn.Sequential(
            nn.Conv2d(8 * w, 16 * w, 3, padding=1, bias=False), _norm(16 * w), nn.ReLU(inplace=True),
            nn.Dropout2d(dropout),
            nn.Conv2d(16 * w, 16 * w, 1, bias=False), _norm(16 * w), nn.ReLU(inplace=True),
            nn.Dropout2d(dropout),
        )
        self.channels = {"pool3": 4 * w, "pool4": 8 * w, "fc7": 16 * w}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Tensor[B, 3, H, W] → dict of feature maps at strides 8, 16, 32 (see the class docstring)."""
        pool3 = self.stage3(self.stage2(self.stage1(x)))  # (B, 4w, H/8, W/8)
        pool4 = self.stage4(pool3)  # (B, 8w, H/16, W/16)
        fc7 = self.fc(self.stage5(pool4))  # (B, 16w, H/32, W/32)
        return {"pool3": pool3, "pool4": pool4, "fc7": fc7}

    def extra_repr(self) -> str:
        return f"width={self.width}"


class TorchvisionVGG(nn.Module):
    """torchvision's ``vgg11_bn``/``vgg16_bn`` features (random init, nothing downloaded) with conv fc6/fc7.

    Pools are switched to ``ceil_mode`` so that any input size works; same output contract as
    :class:`VGGBackbone`, with pool3/pool4 channels 256/512 and fc7 ``fc_width``.

    Lecture: 04_segmentation
    """

    def __init__(self, name: str = "vgg16_bn", *, fc_width: int = 1024, dropout: float = 0.5):
        super().__init__()
        import torchvision

        check_choice(name, "backbone", BACKBONES[1:])
        features = getattr(torchvision.models, name)(weights=None).features
        pools = [i for i, m in enumerate(features) if isinstance(m, nn.MaxPool2d)]
        for i in pools:
            features[i].ceil_mode = True
        self.to_pool3 = features[: pools[2] + 1]
        self.to_pool4 = features[pools[2] + 1: pools[3] + 1]
        self.to_pool5 = features[pools[3] + 1: pools[4] + 1]
        self.fc = nn.Sequential(
            nn.Conv2d(512, fc_width, 3, padding=1), nn.ReLU(inplace=True), nn.Dropout2d(dropout),
            nn.Conv2d(fc_width, fc_width, 1), nn.ReLU(inplace=True), nn.Dropout2d(dropout),
        )
        self.channels = {"pool3": 256, "pool4": 512, "fc7": fc_width}

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Tensor[B, 3, H, W] → dict of feature maps at strides 8, 16, 32 (see the class docstring)."""
        pool3 = self.to_pool3(x)  # (B, 256, H/8, W/8)
        pool4 = self.to_pool4(pool3)  # (B, 512, H/16, W/16)
        fc7 = self.fc(self.to_pool5(pool4))  # (B, fc_width, H/32, W/32)
        return {"pool3": pool3, "pool4": pool4, "fc7": fc7}


def make_backbone(name: str = "vgg", *, width: int = 16) -> nn.Module:
    """Build a backbone by name: ``"vgg"`` (small, :class:`VGGBackbone`) or ``"vgg11_bn"``/``"vgg16_bn"``.

    ``width`` is the base width of ``"vgg"``; for the torchvision ones it sets fc6/fc7 to ``16·width``.

    Lecture: 04_segmentation
    """
    check_choice(name, "backbone", BACKBONES)
    if name == "vgg":
        return VGGBackbone(width=width)
    return TorchvisionVGG(name, fc_width=16 * width)


def fuse_skip(upscored: torch.Tensor, skip_score: torch.Tensor, *, offset: int) -> torch.Tensor:
    """One skip fusion: crop the upsampled coarse scores onto the finer grid and add the skip's scores.

    Parameters
    ----------
    upscored : Tensor[B, K, H', W']
        Coarse scores after the 2× transposed convolution, *before* cropping (H' ≥ offset + H).
    skip_score : Tensor[B, K, H, W]
        Scores from the shallower layer (``score_pool4`` or ``score_pool3``).
    offset : int
        Pixels to crop at the start (1 for a 2× upsampling, see ``upsample.py``).

    Returns
    -------
    Tensor[B, K, H, W]
        ``upscored[..., offset:offset + H, offset:offset + W] + skip_score``.

    Lecture: 04_segmentation
    """
    B, K, H, W = check_tensor(skip_score, "skip_score", dims="B K H W").shape
    check_tensor(upscored, "upscored", dims="B K H W", shape=(B, K, None, None))
    return crop_like(upscored, (H, W), offset) + skip_score  # (B, K, H, W)


class FCN(nn.Module):
    """Fully convolutional network for semantic segmentation: FCN-32s, FCN-16s or FCN-8s.

    Parameters
    ----------
    num_classes : int
        K, including the background.
    variant : {"32s", "16s", "8s"}
        Stride of the finest layer fused in: no skip, pool4, pool4 + pool3.
    backbone : {"vgg", "vgg11_bn", "vgg16_bn"} or nn.Module
        A name for :func:`make_backbone`, or a module with the same output contract and a ``channels`` dict.
    width : int
        Base width of the named backbone.

    ``forward(images Tensor[B, 3, H, W]) -> Tensor[B, K, H, W]``: class scores (logits) at every pixel, for
    any H and W. :meth:`intermediates` returns the score maps on the way.

    Examples
    --------
    >>> FCN(5, variant="8s", width=4)(torch.zeros(1, 3, 37, 50)).shape
    torch.Size([1, 5, 37, 50])

    Lecture: 04_segmentation
    """

    def __init__(self, num_classes: int, variant: str = "8s", backbone: str | nn.Module = "vgg", *,
                 width: int = 16):
        super().__init__()
        check_positive_int(num_classes, "num_classes")
        check_choice(variant, "variant", VARIANTS)
        self.num_classes, self.variant = num_classes, variant
        self.backbone_name = backbone if isinstance(backbone, str) else type(backbone).__name__
        self.backbone = make_backbone(backbone, width=width) if isinstance(backbone, str) else backbone
        ch, K = self.backbone.channels, num_classes
        self.score_fr = nn.Conv2d(ch["fc7"], K, 1)
        if variant in ("16s", "8s"):
            self.score_pool4 = nn.Conv2d(ch["pool4"], K, 1)
            self.upscore2 = Upsample(K, 2)
        if variant == "8s":
            self.score_pool3 = nn.Conv2d(ch["pool3"], K, 1)
            self.upscore_pool4 = Upsample(K, 2)
        self.upscore_final = Upsample(K, int(variant[:-1]), learnable=False)
        for name in ("score_fr", "score_pool4", "score_pool3"):
            if hasattr(self, name):  # score layers start at zero: a new skip begins by changing nothing
                nn.init.zeros_(getattr(self, name).weight)
                nn.init.zeros_(getattr(self, name).bias)

    @property
    def stride(self) -> int:
        """Output stride before the final upsampling: 32, 16 or 8."""
        return int(self.variant[:-1])

    def intermediates(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every score map on the way, for figures and widgets.

        Returns a dict with ``"score_fr"`` (B, K, ⌈H/32⌉, ⌈W/32⌉); for 16s/8s ``"score_pool4"`` and
        ``"fuse_pool4"`` (B, K, ⌈H/16⌉, ⌈W/16⌉); for 8s ``"score_pool3"`` and ``"fuse_pool3"``
        (B, K, ⌈H/8⌉, ⌈W/8⌉); and ``"out"`` (B, K, H, W), the logits ``forward`` returns.

        Lecture: 04_segmentation
        """
        B, _, H, W = check_model_input(images, "images", self, dims="B C H W", shape=(None, 3, None, None),
                                       min_value=0.0, max_value=1.0).shape
        feats = self.backbone(images)
        maps = {"score_fr": self.score_fr(feats["fc7"])}  # (B, K, H/32, W/32)
        coarse = maps["score_fr"]
        if self.variant in ("16s", "8s"):
            maps["score_pool4"] = self.score_pool4(feats["pool4"])  # (B, K, H/16, W/16)
            up = self.upscore2.deconv(coarse)  # (B, K, 2·(H/32 + 1), ...): crop inside fuse_skip
            coarse = maps["fuse_pool4"] = fuse_skip(up, maps["score_pool4"], offset=1)
        if self.variant == "8s":
            maps["score_pool3"] = self.score_pool3(feats["pool3"])  # (B, K, H/8, W/8)
            up = self.upscore_pool4.deconv(coarse)
            coarse = maps["fuse_pool3"] = fuse_skip(up, maps["score_pool3"], offset=1)
        maps["out"] = self.upscore_final(coarse, size=(H, W))  # (B, K, H, W)
        return maps

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Tensor[B, 3, H, W] float → Tensor[B, K, H, W] class logits, for any H, W ≥ 1.

        Lecture: 04_segmentation
        """
        return self.intermediates(images)["out"]

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, variant={self.variant!r}, backbone={self.backbone_name!r}"

