"""The ab output space, quantised: Q bins on a grid of 10 that cover the colours a photo can have.

Zhang, Isola, Efros, ECCV 2016, section 2.1 and Fig. 3(a): "We quantize the ab output space into bins with grid
size 10 and keep the Q = 313 values which are in-gamut." Colorization then becomes classification over Q classes.

``ab_bins()`` returns the paper's 313 bin centres. They ship with this package as ``data/pts_in_hull_313.txt``,
copied from the file the authors released with their code (``resources/pts_in_hull.npy`` in
github.com/richzhang/colorization; the course keeps a plain-text copy in ``reference/colorization-ab-bins-313.txt``),
one "a b" pair per line, sorted by a then b; bin (0, 0) is row 120.

``in_gamut_bins()`` derives such a set from first principles: take every sRGB colour on a fine grid of the RGB
cube, convert it to Lab, round its ab to the nearest multiple of 10, and keep the grid points that were hit. That
gives 261 bins with 64 samples per RGB axis (262 with 128 or more), every one of them in the paper's set; the
paper's 51-52 extra bins lie on the rim of the gamut (its set was made with a looser in-gamut test; the paper
does not say which). Both sets satisfy what the lecture
needs: the ab of every sRGB colour lies within half a grid diagonal, 5·√2, of a bin centre.

Lecture: 07_colorization
"""

from __future__ import annotations

import functools
import pathlib

import torch

from course_lib.core import check_choice, check_positive_int

from .lab import rgb_to_lab

DATA = pathlib.Path(__file__).resolve().parent / "data"
PAPER_BINS_FILE = DATA / "pts_in_hull_313.txt"
GRID = 10.0


@functools.lru_cache(maxsize=1)
def _paper_bins() -> torch.Tensor:
    rows = [line.split() for line in PAPER_BINS_FILE.read_text().splitlines() if line.strip()]
    bins = torch.tensor([[float(a), float(b)] for a, b in rows])  # (313, 2)
    assert bins.shape == (313, 2), f"expected 313 bins in {PAPER_BINS_FILE}, found {tuple(bins.shape)}"
    return bins


@functools.lru_cache(maxsize=4)
def _derived_bins(steps: int, grid: float) -> torch.Tensor:
    g = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)
    r, gg, b = torch.meshgrid(g, g, g, indexing="ij")  # each (S, S, S)
    rgb = torch.stack([r, gg, b]).reshape(1, 3, -1, 1)  # (1, 3, S^3, 1): every colour as a pixel
    ab = rgb_to_lab(rgb)[0, 1:, :, 0].T  # (S^3, 2)
    cells = torch.unique(torch.round(ab / grid), dim=0)  # (Q, 2) grid indices, sorted by a then b
    return (cells * grid).float()


def in_gamut_bins(*, steps: int = 64, grid: float = GRID) -> torch.Tensor:
    """Derive in-gamut ab bins: grid points that are the nearest grid point of some sRGB colour.

    Parameters
    ----------
    steps : int
        Samples per RGB axis (``steps**3`` colours are converted). 64 finds all but one or two of the bins a
        finer sampling finds; 256 is exhaustive for 8-bit colour.
    grid : float
        Grid spacing in ab units (10 in the paper).

    Returns
    -------
    Tensor[Q, 2], float32
        Bin centres (a, b), sorted by a then b. Q is 261-262 for ``grid=10``.

    Lecture: 07_colorization
    """
    check_positive_int(steps, "steps")
    if not grid > 0:
        raise ValueError(f"grid must be > 0, but found {grid}")
    return _derived_bins(steps, float(grid)).clone()


def ab_bins(source: str = "paper") -> torch.Tensor:
    """The ab bin centres: the paper's Q = 313 (default) or the set derived by :func:`in_gamut_bins`.

    Parameters
    ----------
    source : {"paper", "derived"}
        ``"paper"``: the 313 bins released with the paper (package data). ``"derived"``: ``in_gamut_bins()``.

    Returns
    -------
    Tensor[Q, 2], float32 on the CPU
        Bin centres (a, b) in ab units, on the grid of 10. Move them with ``.to(device)``.

    Examples
    --------
    >>> bins = ab_bins()
    >>> bins.shape, bins[120].tolist()
    (torch.Size([313, 2]), [0.0, 0.0])

    Lecture: 07_colorization
    """
    check_choice(source, "source", ("paper", "derived"))
    return _paper_bins().clone() if source == "paper" else in_gamut_bins()


def bin_rgb(bins: torch.Tensor, *, L: float = 65.0) -> torch.Tensor:
    """The colour of each bin at lightness ``L``, for drawing the bins: Tensor[Q, 2] → Tensor[Q, 3] in [0, 1].

    Lecture: 07_colorization
    """
    from .lab import lab_to_rgb

    Q = bins.shape[0]
    lab = torch.cat([torch.full((Q, 1), float(L), dtype=bins.dtype, device=bins.device), bins], dim=1)  # (Q, 3)
    return lab_to_rgb(lab.T.reshape(1, 3, Q, 1))[0, :, :, 0].T  # (Q, 3)
