"""Bad-input rows of course_lib.pose: each
``(id, thunk, error type, regex)``; tests/test_bad_inputs.py collects every file here. A new subpackage adds its
own file.
"""

import torch
from bad_input_helpers import (
    nan_at,
    pose,
)

ROWS = [
    # ---- pose
    ("heatmap_argmax/nan", lambda tmp: pose.heatmap_argmax(nan_at((1, 2, 4, 4), (0, 1, 2, 3))), ValueError,
     r"heatmaps must be finite; it contains 1 NaN or inf values \(first at index \(0, 1, 2, 3\)\)"),
    ("heatmap_argmax/rank", lambda tmp: pose.heatmap_argmax(torch.zeros(2, 64, 64)), ValueError,
     r"heatmaps must be \(B, J, H, W\); got \(2, 64, 64\)"),
    ("PartDetector/float64", lambda tmp: pose.PartDetector(9, width=4)(torch.zeros(1, 3, 8, 8, dtype=torch.float64)),
     TypeError, r"images must have the dtype of the model's weights, torch.float32; got torch.float64"),
    ("PartDetector/0-255", lambda tmp: pose.PartDetector(9, width=4)(torch.full((1, 3, 8, 8), 200.0)), ValueError,
     r"images must have values in \[0.0, 1.0\]; got values in \[200, 200\]"),
    ("PartDetector/channels", lambda tmp: pose.PartDetector(9, width=4)(torch.zeros(1, 1, 8, 8)), ValueError,
     r"images must have shape \(B, 3, H, W\); got \(1, 1, 8, 8\)"),
    ("SyntheticPose/float-seed", lambda tmp: pose.SyntheticPose("train", 2, 64, seed=1.7), TypeError,
     r"seed must be an int ≥ 0, but found float \(1.7\)"),
    ("detection_rate/shape", lambda tmp: pose.detection_rate(torch.zeros(2, 9, 2), torch.zeros(2, 9, 3), 10),
     ValueError, r"\(2, 9, 3\)"),
]
