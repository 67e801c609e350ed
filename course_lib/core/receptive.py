"""Convolution arithmetic: output sizes and receptive fields of a conv/pool stack.

The arithmetic behind "why does FCN-32s output 1/32 of the input" and "how much context does a part detector
see". Sizes are in pixels; a layer is ``(kernel, stride, padding, dilation)``.

Reference: V. Dumoulin and F. Visin, "A guide to convolution arithmetic for deep learning", 2016.

Lecture: 00_welcome
"""

from __future__ import annotations

from collections.abc import Sequence

from .checks import check_positive_int


def conv_output_size(size: int, kernel: int, stride: int = 1, padding: int = 0, dilation: int = 1) -> int:
    """Output length of a convolution (or pooling) along one axis.

    ``out = floor((size + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1``, as ``torch.nn.Conv2d``.

    >>> conv_output_size(224, kernel=7, stride=2, padding=3)
    112
    >>> conv_output_size(32, kernel=3, padding=1)
    32
    """
    for value, name in ((size, "size"), (kernel, "kernel"), (stride, "stride"), (dilation, "dilation")):
        check_positive_int(value, name)
    if not isinstance(padding, int) or padding < 0:
        raise ValueError(f"padding must be an int ≥ 0, but found {padding!r}")
    span = dilation * (kernel - 1) + 1
    if size + 2 * padding < span:
        raise ValueError(f"kernel span {span} is larger than the padded input {size + 2 * padding}")
    return (size + 2 * padding - span) // stride + 1


def receptive_field(layers: Sequence[tuple[int, ...]]) -> tuple[int, int]:
    """Receptive field and total stride (jump) of a stack of layers.

    Each layer is ``(kernel, stride)`` or ``(kernel, stride, padding)`` or ``(kernel, stride, padding,
    dilation)``; padding does not change the receptive field. Returns ``(rf, jump)``: one output pixel sees
    ``rf`` input pixels and neighbouring outputs are ``jump`` input pixels apart.

    >>> receptive_field([(3, 1), (3, 1), (2, 2)])
    (6, 2)
    """
    rf, jump = 1, 1
    for i, layer in enumerate(layers):
        if not 2 <= len(layer) <= 4:
            raise ValueError(f"layer {i} must be (kernel, stride[, padding[, dilation]]); got {layer!r}")
        kernel, stride = layer[0], layer[1]
        dilation = layer[3] if len(layer) == 4 else 1
        for value, what in ((kernel, "kernel"), (stride, "stride"), (dilation, "dilation")):
            check_positive_int(value, f"layer {i} {what}")
        if len(layer) >= 3 and (not isinstance(layer[2], int) or layer[2] < 0):
            raise ValueError(f"layer {i} padding must be an int ≥ 0, but found {layer[2]!r}")
        rf += dilation * (kernel - 1) * jump
        jump *= stride
    return rf, jump
