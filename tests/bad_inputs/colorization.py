"""Bad-input rows of course_lib.colorization: each
``(id, thunk, error type, regex)``; tests/test_bad_inputs.py collects every file here. A new subpackage adds its
own file.
"""

import torch
from bad_input_helpers import (
    col,
    nan_at,
)

ROWS = [
    # ---- colorization
    ("rgb_to_lab/nan", lambda tmp: col.rgb_to_lab(nan_at((1, 3, 2, 2), (0, 0, 1, 1))), ValueError,
     r"rgb must not contain NaN; it contains 1 NaN values \(first at index \(0, 0, 1, 1\)\)"),
    ("rgb_to_lab/0-255", lambda tmp: col.rgb_to_lab(torch.full((1, 3, 2, 2), 255.0)), ValueError,
     r"got values in \[255, 255\]"),
    ("annealed_mean/nan", lambda tmp: col.annealed_mean(nan_at((1, 313, 1, 1), (0, 5, 0, 0), 1 / 313), col.ab_bins()),
     ValueError, r"NaN"),
    ("encode_nearest/nan", lambda tmp: col.encode_nearest(nan_at((1, 2, 2, 2), (0, 1, 0, 1)), col.ab_bins()),
     ValueError, r"ab must be finite; it contains 1 NaN or inf values \(first at index \(0, 1, 0, 1\)\)"),
    ("ColorizationNet/float64",
     lambda tmp: col.ColorizationNet(width=4)(torch.zeros(1, 1, 8, 8, dtype=torch.float64)), TypeError,
     r"L must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("ColorizationNet/L-in-0-1-range-ok-but-255-not",
     lambda tmp: col.ColorizationNet(width=4)(torch.full((1, 1, 8, 8), 255.0)), ValueError,
     r"L must have values in \[0.0, 100.0\]; got values in \[255, 255\]"),
    ("SyntheticColorScenes/negative-seed", lambda tmp: col.SyntheticColorScenes("train", 2, 16, seed=-1), ValueError,
     r"seed must be an int ≥ 0, but found -1"),
]
