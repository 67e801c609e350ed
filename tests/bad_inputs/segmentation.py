"""Bad-input rows of course_lib.segmentation: each
``(id, thunk, error type, regex)``; tests/test_bad_inputs.py collects every file here. A new subpackage adds its
own file.
"""

import torch
from bad_input_helpers import (
    NAN,
    seg,
)

ROWS = [
    # ---- segmentation
    ("FCN/float64", lambda tmp: seg.FCN(3, "32s", width=2)(torch.zeros(1, 3, 32, 32, dtype=torch.float64)),
     TypeError, r"images must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("FCN/channels", lambda tmp: seg.FCN(3, "32s", width=2)(torch.zeros(1, 4, 32, 32)), ValueError,
     r"images must have shape \(B, 3, H, W\); got \(1, 4, 32, 32\)"),
    ("FCN/0-255", lambda tmp: seg.FCN(3, "32s", width=2)(torch.full((1, 3, 32, 32), 255.0)), ValueError,
     r"images must have values in \[0.0, 1.0\]; got values in \[255, 255\]"),
    ("Upsample/float64", lambda tmp: seg.Upsample(3, 2)(torch.zeros(1, 3, 4, 4, dtype=torch.float64)), TypeError,
     r"x must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("crop_like/negative-offset", lambda tmp: seg.crop_like(torch.zeros(1, 1, 8, 8), (4, 4), -1), ValueError,
     r"offset must be an int ≥ 0, but found -1"),
    ("crop_like/too-small", lambda tmp: seg.crop_like(torch.zeros(1, 1, 4, 4), (4, 4), 1), ValueError,
     r"cannot crop \(4, 4\) to \(4, 4\) at offset 1"),
    ("SyntheticScenes/negative-seed", lambda tmp: seg.SyntheticScenes("train", 2, 32, seed=-1), ValueError,
     r"seed must be an int ≥ 0, but found -1"),
    ("segmentation_scores/nan", lambda tmp: seg.segmentation_scores(torch.tensor([[NAN, 1.0], [0.0, 1.0]])),
     ValueError, r"NaN"),
    ("confusion_matrix/label-out-of-range",
     lambda tmp: seg.confusion_matrix(torch.tensor([0, 1]), torch.tensor([0, 7]), 2), ValueError, r"found \[7\]"),
]
