"""Input checks for public boundaries: one clear error naming what was expected and what came.

Every topic package validates its public inputs with these helpers, so that a wrong shape gives

    ValueError: heatmaps must be (B, J, H, W); got (2, 64, 64)

rather than a stack trace from deep inside torch.

Lecture: 00_welcome
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch


def check_tensor(
    x,
    name: str,
    *,
    dims: str | None = None,
    shape: Sequence[int | None] | None = None,
    dtype: str | torch.dtype | Iterable[torch.dtype] | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
    finite: bool | None = None,
    nonempty: bool = False,
) -> torch.Tensor:
    """Check that ``x`` is a tensor of the expected layout, dtype and value range; return it unchanged.

    Parameters
    ----------
    x : Tensor
        The value to check.
    name : str
        The argument's name, used in the message.
    dims : str, optional
        Layout letters such as ``"B J H W"`` (one letter or word per dimension); fixes the number of
        dimensions and names them in the message.
    shape : sequence of int or None, optional
        Exact sizes, ``None`` for "any size", e.g. ``(None, 3, None, None)``.
    dtype : {"float", "int", "bool"} or torch.dtype or iterable of dtypes, optional
        ``"float"`` accepts any floating dtype, ``"int"`` any integer dtype.
    min_value, max_value : float, optional
        Inclusive bounds on the values. A range check also refuses NaN (NaN compares False with every bound,
        so without this it would pass any range silently); infinities fail the bound they cross.
    finite : bool, optional
        ``True``: refuse NaN and infinity. ``False``: accept them, even with a range (a function that documents
        NaN as meaningful input). ``None`` (default): refuse NaN exactly when a range is given.
    nonempty : bool
        Refuse a tensor with a zero-sized dimension (an empty batch, a 0-pixel image): a mean over nothing is
        NaN, and the caller would get it without a word.

    Examples
    --------
    >>> check_tensor(torch.zeros(2, 3, 8, 8), "images", dims="B C H W", shape=(None, 3, None, None)).shape
    torch.Size([2, 3, 8, 8])
    """
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, but found {type(x).__name__}")
    letters = dims.split() if dims else None
    layout = f"({', '.join(letters)})" if letters else None
    if letters is not None and x.dim() != len(letters):
        raise ValueError(f"{name} must be {layout}; got {tuple(x.shape)}")
    if nonempty and x.numel() == 0:
        raise ValueError(f"{name} must not be empty{' ' + layout if layout else ''}; got {tuple(x.shape)}")
    if shape is not None:
        if x.dim() != len(shape) or any(s is not None and s != n for s, n in zip(shape, x.shape)):
            want = "(" + ", ".join(
                str(s) if s is not None else (letters[i] if letters else "*") for i, s in enumerate(shape)
            ) + ")"
            raise ValueError(f"{name} must have shape {want}; got {tuple(x.shape)}")
    if dtype is not None:
        _check_dtype(x, name, dtype)
    ranged = min_value is not None or max_value is not None
    if x.is_floating_point() or x.is_complex():
        if finite and not torch.isfinite(x).all():
            bad = ~torch.isfinite(x)
            raise ValueError(f"{name} must be finite; it contains {int(bad.sum())} NaN or inf values "
                             f"(first at index {_first_index(bad)})")
        if finite is None and ranged and torch.isnan(x).any():
            bad = torch.isnan(x)
            raise ValueError(f"{name} must not contain NaN; it contains {int(bad.sum())} NaN values "
                             f"(first at index {_first_index(bad)})")
    if ranged and x.numel() > 0:
        lo, hi = float(x.min()), float(x.max())
        if (min_value is not None and lo < min_value) or (max_value is not None and hi > max_value):
            want = f"[{'-inf' if min_value is None else min_value}, {'inf' if max_value is None else max_value}]"
            raise ValueError(f"{name} must have values in {want}; got values in [{lo:.4g}, {hi:.4g}]")
    return x


def check_model_input(
    x,
    name: str,
    model: torch.nn.Module,
    *,
    dims: str,
    shape: Sequence[int | None] | None = None,
    min_value: float | None = None,
    max_value: float | None = None,
) -> torch.Tensor:
    """:func:`check_tensor` for the input of a network, plus the two mistakes torch reports badly.

    * dtype: the input must have the dtype of the model's weights (float64 images into a float32 net fail deep
      in torch with "Input type (double) and bias type (float) should be the same"); the message says how to
      convert. Under autocast the weights stay float32, so float32 input is what is expected there too.
    * units: ``min_value``/``max_value`` catch images in 0..255 given to a net that expects 0..1 (they would run
      silently and give nonsense), and NaN.

    >>> net = torch.nn.Conv2d(3, 1, 1)
    >>> check_model_input(torch.zeros(1, 3, 4, 4), "images", net, dims="B C H W", max_value=1.0).shape
    torch.Size([1, 3, 4, 4])
    """
    check_tensor(x, name, dims=dims, shape=shape, dtype="float", min_value=min_value, max_value=max_value)
    weight = next((p for p in model.parameters() if p.is_floating_point()), None)
    if weight is not None and x.dtype != weight.dtype:
        raise TypeError(f"{name} must have the dtype of the model's weights, {weight.dtype}; got {x.dtype} "
                        f"(convert with {name}.to({weight.dtype}))")
    return x


def _first_index(mask: torch.Tensor) -> tuple[int, ...]:
    """The index of the first True element of ``mask``, as a tuple (for messages)."""
    return tuple(int(i) for i in torch.nonzero(mask)[0])


def _check_dtype(x: torch.Tensor, name: str, dtype) -> None:
    if dtype == "float":
        ok, want = x.is_floating_point(), "a floating dtype"
    elif dtype == "int":
        ok, want = (not x.is_floating_point() and not x.is_complex() and x.dtype != torch.bool), "an integer dtype"
    elif dtype == "bool":
        ok, want = x.dtype == torch.bool, "torch.bool"
    elif isinstance(dtype, torch.dtype):
        ok, want = x.dtype == dtype, str(dtype)
    else:
        allowed = tuple(dtype)
        ok, want = x.dtype in allowed, "one of " + ", ".join(str(d) for d in allowed)
    if not ok:
        raise TypeError(f"{name} must have {want}; got {x.dtype}")


def check_choice(value, name: str, allowed: Iterable) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``allowed``.

    >>> check_choice(8, "pooling", (4, 8, 16))
    """
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {allowed}, but found {value!r}")


def check_positive_int(value, name: str) -> int:
    """Return ``value`` if it is an int ≥ 1, else raise a ``ValueError``/``TypeError`` naming it."""
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int, but found {type(value).__name__} ({value!r})")
    if value < 1:
        raise ValueError(f"{name} must be ≥ 1, but found {value}")
    return value


def check_number(value, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, unit: str = "") -> float:
    """Return ``value`` as a float if it is a real, finite number in the given range; else raise naming it.

    ``bool`` and strings are refused (``"0.5"`` would compare as a string, ``True`` as 1); NaN and infinity are
    refused (NaN passes every comparison silently). ``low_open``/``high_open`` exclude the bound. ``unit`` is
    added to the message, e.g. ``"in 0-255 units, e.g. 25"``.

    >>> check_number(0.5, "lam", low=0, high=1)
    0.5
    """
    import math
    import numbers

    note = f" ({unit})" if unit else ""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name} must be a number{note}, but found {type(value).__name__} ({value!r})")
    value = float(value)
    lo = "-inf" if low is None else f"{low:g}"
    hi = "inf" if high is None else f"{high:g}"
    want = f"{'(' if low_open or low is None else '['}{lo}, {hi}{')' if high_open or high is None else ']'}"
    if (not math.isfinite(value) or (low is not None and (value < low or (low_open and value == low)))
            or (high is not None and (value > high or (high_open and value == high)))):
        raise ValueError(f"{name} must be a finite number in {want}{note}, but found {value}")
    return value


def memory_limit() -> int:
    """Bytes a single array may take before :func:`check_memory` refuses: half of this machine's memory."""
    import os

    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")) // 2
    except (ValueError, OSError, AttributeError):  # not available on this platform
        return 8 * 2**30


def _bytes(n: float) -> str:
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{n:.0f} bytes"


def check_memory(nbytes: float, what: str, hint: str) -> None:
    """A memory guard: refuse work whose largest array would need more than :func:`memory_limit`.

    The message gives the estimate and what to change, rather than an allocator failure (or the machine
    swapping) deep inside torch: ``gaussian_kernel(sigma=1000000.0) needs about 288 TB (a 6000001 × 6000001
    kernel); this machine allows 8 GB: use a smaller sigma``.
    """
    limit = memory_limit()
    if nbytes > limit:
        raise ValueError(f"{what} needs about {_bytes(nbytes)}; this machine allows {_bytes(limit)} for one "
                         f"array: {hint}")


def check_seed(value, name: str = "seed") -> int:
    """Return ``value`` if it is an int ≥ 0 (the one seed rule of every data generator), else raise naming it.

    ``True``/``False`` and floats such as ``1.7`` are refused rather than silently truncated.

    >>> check_seed(3)
    3
    """
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError(f"{name} must be an int ≥ 0, but found {type(value).__name__} ({value!r})")
    if value < 0:
        raise ValueError(f"{name} must be an int ≥ 0, but found {value}")
    if value >= 2**63:
        raise ValueError(f"{name} must be below 2**63 (torch's largest seed), but found {value}")
    return value


def check_same_shape(a: torch.Tensor, b: torch.Tensor, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` when two tensors that must match in shape do not."""
    if a.shape != b.shape:
        raise ValueError(f"{name_a} and {name_b} must have the same shape; got {tuple(a.shape)} and {tuple(b.shape)}")
