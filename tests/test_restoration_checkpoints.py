"""Lecture 06: each shipped restoration checkpoint reproduces the metrics it records on the held-out photos, and
the claims the lecture makes from them hold."""

import pytest

from course_lib.core import checkpoint_path, load_checkpoint
from course_lib.restoration import KINDS, evaluate, load_model

# The models shipped in checkpoints/ (all of course_lib.restoration.KINDS once every one is trained).
SHIPPED = KINDS


def _meta(kind):
    path = checkpoint_path(f"restoration-{kind}")
    assert path.is_file(), f"{path} not made yet (python -m course_lib.train restoration --set models={kind})"
    assert path.stat().st_size <= 5e6
    return load_checkpoint(path, task=f"restoration-{kind}")


@pytest.mark.parametrize("kind", SHIPPED)
def test_shipped_checkpoint_reproduces_its_metrics(kind):
    meta = _meta(kind)
    assert meta["command"].startswith("python -m course_lib.train restoration") and f"models={kind}" in meta["command"]
    assert meta["metrics"]["train_minutes"] > 0
    model, _ = load_model(kind)
    got = evaluate(kind, model, crop=meta["config"]["eval_crop"])
    for key, value in got.items():
        tol = 2e-3 if key.startswith("ssim") else 0.02
        assert value == pytest.approx(meta["metrics"][key], abs=tol), key


def test_every_net_improves_on_its_corrupted_input():
    for kind in SHIPPED:
        m = _meta(kind)["metrics"]
        inputs = [k for k in m if k.startswith(("psnr_noisy_", "psnr_input_"))]
        assert inputs, kind
        for k in inputs:
            out = k.replace("noisy_", "").replace("input_", "")
            assert m[out] > m[k], (kind, out, m[out], m[k])


def test_sigma_mismatch_the_blind_model_wins_away_from_25_and_the_specialist_at_25():
    spec, blind = _meta("dncnn25")["metrics"], _meta("blind")["metrics"]
    assert spec["psnr_25"] > blind["psnr_25"], (spec["psnr_25"], blind["psnr_25"])
    for s in (15, 50):
        assert blind[f"psnr_{s}"] > spec[f"psnr_{s}"], (s, blind[f"psnr_{s}"], spec[f"psnr_{s}"])
