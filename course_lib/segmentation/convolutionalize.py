"""Convolutionalization: a classifier becomes a fully convolutional net with the same weights.

A classification net ends in fully connected layers over a fixed-size feature map (C, h, w). A ``Linear``
layer with weight ``W ∈ R^{D × C·h·w}`` applied to the flattened map computes exactly what a ``Conv2d`` with
``D`` filters of size ``C × h × w`` computes at one position:

.. math::

    y_d = \\sum_{c, i, j} W_{d,\\, c h w + i w + j}\\; x_{c, i, j} + b_d
        = (\\mathcal{W}_d \\star x)_{0, 0} + b_d, \\qquad \\mathcal{W} = W.\\text{view}(D, C, h, w)

and every later ``Linear`` is a 1×1 convolution. The converted net gives *identical* outputs on an input of
the training size, and on a larger input it slides the classifier over every position at once: a score map,
one class-score vector per window, with the net's total stride between windows. The windows overlap, and the
convolutions share the work that a sliding-window loop (``sliding.py``) does again for every window.

The course's :class:`PatchClassifier` uses unpadded ("valid") convolutions, so that the score map of a large
image is *exactly* the sliding-window result at the net's stride; padded convs (as in VGG) agree in the
interior of the image only.

Reference: J. Long, E. Shelhamer, T. Darrell, CVPR 2015, section 3.1 ("Adapting classifiers for dense
prediction"); P. Sermanet et al., "OverFeat", ICLR 2014.

Lecture: 04_segmentation
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from course_lib.core import check_positive_int, check_tensor

# Layers that act per element or per channel: the same module works on a vector and on a map.
_POINTWISE = (nn.ReLU, nn.LeakyReLU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Identity)


class PatchClassifier(nn.Module):
    """A small classifier of ``patch × patch`` RGB patches into K classes (the class of the centre pixel).

    ``features``: three unpadded 3×3 convs with ReLU, max-pools after the first two (total stride 4);
    ``classifier``: Flatten, Linear(C·h·w → hidden), ReLU, Dropout, Linear(hidden → K). The names follow
    torchvision's VGG, the net FCN convolutionalized.

    Parameters
    ----------
    num_classes : int
        K.
    patch : int
        Side of the input patch in pixels (default 26: feature map 3×3).
    width : int
        Channels of the first conv (then 2·width, 4·width).
    hidden : int
        Width of the hidden fully connected layer.

    ``forward(patches Tensor[B, 3, patch, patch]) -> Tensor[B, K]`` logits.

    Lecture: 04_segmentation
    """

    stride = 4

    def __init__(self, num_classes: int, *, patch: int = 26, width: int = 16, hidden: int = 128,
                 dropout: float = 0.2):
        super().__init__()
        for value, name in ((num_classes, "num_classes"), (patch, "patch"), (width, "width"),
                            (hidden, "hidden")):
            check_positive_int(value, name)
        w = width
        self.num_classes, self.patch = num_classes, patch
        self.features = nn.Sequential(
            nn.Conv2d(3, w, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(w, 2 * w, 3), nn.ReLU(inplace=True), nn.MaxPool2d(2),
            nn.Conv2d(2 * w, 4 * w, 3), nn.ReLU(inplace=True),
        )
        with torch.no_grad():
            self.feature_shape = tuple(self.features(torch.zeros(1, 3, patch, patch)).shape[1:])  # (C, h, w)
        if min(self.feature_shape[1:]) < 1:
            raise ValueError(f"patch={patch} is too small for three 3×3 convs and two pools; use patch ≥ 18")
        self.classifier = nn.Sequential(
            nn.Flatten(),  # (B, C, h, w) -> (B, C·h·w)
            nn.Linear(math.prod(self.feature_shape), hidden), nn.ReLU(inplace=True), nn.Dropout(dropout),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, patches: torch.Tensor) -> torch.Tensor:
        """Tensor[B, 3, P, P] float → Tensor[B, K] logits.

        Lecture: 04_segmentation
        """
        P = self.patch
        check_tensor(patches, "patches", dims="B C H W", shape=(None, 3, P, P), dtype="float")
        return self.classifier(self.features(patches))

    def extra_repr(self) -> str:
        return f"num_classes={self.num_classes}, patch={self.patch}, feature_shape={self.feature_shape}"


def convolutionalize(classifier: nn.Module, *, feature_shape: tuple[int, int, int] | None = None) -> nn.Sequential:
    """Turn ``features`` + a ``classifier`` of Linear layers into the equivalent fully convolutional net.

    Parameters
    ----------
    classifier : nn.Module
        Has ``.features`` (any module mapping images to a (B, C, h, w) map) and ``.classifier``, an
        ``nn.Sequential`` of ``Flatten``, ``Linear``, pointwise activations and ``Dropout``.
    feature_shape : (C, h, w), optional
        Shape of the feature map the first Linear reads; default ``classifier.feature_shape``, else a square
        map inferred from the Linear's ``in_features`` and the last conv's channels.

    Returns
    -------
    nn.Sequential
        ``features`` (deep-copied), then a ``Conv2d(C, D, (h, w))`` holding the first Linear's weights, 1×1
        convs for the later Linears, the same activations (Dropout becomes Dropout2d). On an input of the
        training size it returns (B, K, 1, 1) equal to the classifier's (B, K); on an (H, W) input a
        (B, K, H', W') score map.

    Raises
    ------
    TypeError
        For a layer in the head that has no convolutional equivalent here.

    Lecture: 04_segmentation
    """
    if not hasattr(classifier, "features") or not isinstance(getattr(classifier, "classifier", None),
                                                              nn.Sequential):
        raise TypeError("classifier must have .features and an nn.Sequential .classifier, but found "
                        f"{type(classifier).__name__}")
    head = list(classifier.classifier)
    linears = [m for m in head if isinstance(m, nn.Linear)]
    if not linears:
        raise TypeError("classifier.classifier has no nn.Linear layer to convolutionalize")
    shape = feature_shape or getattr(classifier, "feature_shape", None)
    if shape is None:
        convs = [m for m in classifier.features.modules() if isinstance(m, nn.Conv2d)]
        C = convs[-1].out_channels
        side = math.isqrt(linears[0].in_features // C)
        shape = (C, side, side)
    C, h, w = shape
    if C * h * w != linears[0].in_features:
        raise ValueError(f"feature_shape {tuple(shape)} has {C * h * w} values but the first Linear expects "
                         f"{linears[0].in_features}")

    layers: list[nn.Module] = [copy.deepcopy(classifier.features)]
    first = True
    for m in head:
        if isinstance(m, nn.Flatten):
            continue  # the conv reads the (C, h, w) map directly
        if isinstance(m, nn.Linear):
            D = m.out_features
            conv = nn.Conv2d(C if first else m.in_features, D, (h, w) if first else 1, bias=m.bias is not None)
            with torch.no_grad():
                # Linear weight (D, C·h·w) in Flatten's order c·h·w + i·w + j  →  conv weight (D, C, h, w).
                conv.weight.copy_(m.weight.view(D, -1, h, w) if first else m.weight.view(D, m.in_features, 1, 1))
                if m.bias is not None:
                    conv.bias.copy_(m.bias)
            layers.append(conv)
            first = False
        elif isinstance(m, nn.Dropout):
            layers.append(nn.Dropout2d(m.p))  # acts only in training; identity in eval, like Dropout
        elif isinstance(m, _POINTWISE):
            layers.append(copy.deepcopy(m))
        else:
            raise TypeError(f"cannot convolutionalize a {type(m).__name__}; permitted head layers are Flatten, "
                            f"Linear, Dropout and {[t.__name__ for t in _POINTWISE]}")
    return nn.Sequential(*layers)


def score_map_size(size: int, *, patch: int, stride: int) -> int:
    """Positions along one axis at which a ``patch``-wide window with step ``stride`` fits in ``size`` pixels.

    ``(size − patch) // stride + 1``: the score-map side of a convolutionalized valid-conv classifier.

    >>> score_map_size(64, patch=26, stride=4)
    10

    Lecture: 04_segmentation
    """
    for value, name in ((size, "size"), (patch, "patch"), (stride, "stride")):
        check_positive_int(value, name)
    if size < patch:
        raise ValueError(f"size {size} is smaller than the patch {patch}")
    return (size - patch) // stride + 1
