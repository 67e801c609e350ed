"""Bad-input rows of course_lib.localization: each ``(id, thunk, error type, regex)``; tests/test_bad_inputs.py
collects every file here. A new subpackage adds its own file.
"""

import torch

import course_lib.localization as loc
from course_lib import settings

ROWS = [
    # ---- localization
    ("localization.load_or_train/unknown-name", lambda tmp: loc.load_or_train("localization-fine8"), ValueError,
     r"name must be 'localization-<kind><pooling>' .* but found 'localization-fine8'"),
    ("localization.make_datasets/misspelt-setting",
     lambda tmp: loc.make_datasets({**settings("localization", "fast"), "n_trian": 8}, 0, 4), ValueError,
     r"cfg has settings \['n_trian'\] that LocalizationSettings does not define"),
    ("localization_error/shapes", lambda tmp: loc.localization_error(torch.zeros(2, 9, 2), torch.zeros(2, 8, 2)),
     ValueError, r"\(2, 9, 2\).*\(2, 8, 2\)|\(2, 8, 2\).*\(2, 9, 2\)"),
    ("dropout_seeds/missing-folder", lambda tmp: loc.dropout_seeds(tmp / "ckpts"), FileNotFoundError,
     r"directory must be a folder of checkpoints, but '.*ckpts' is not a folder"),
    ("CoarseModel/pooling", lambda tmp: loc.CoarseModel(9, pooling=3), ValueError, r"pooling must be one of"),
]
