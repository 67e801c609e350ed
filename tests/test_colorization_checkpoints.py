"""Lecture 07: each shipped colorization checkpoint reproduces the metrics it records on the synthetic test split."""

import functools

import pytest

from course_lib.colorization import KINDS, SyntheticColorScenes, evaluate, load_or_train
from course_lib.core import checkpoint_path, load_checkpoint


@functools.cache
def _test_set(n_test: int, size: int, seed: int) -> SyntheticColorScenes:
    """The test split the checkpoints were evaluated on, rendered once for all three (they share it)."""
    return SyntheticColorScenes("test", n_test, size, seed)


@pytest.mark.parametrize("kind", KINDS)
def test_shipped_checkpoint_reproduces_its_metrics(kind):
    path = checkpoint_path(f"colorization-{kind}")
    assert path.is_file(), f"{path} not made yet (python -m course_lib.train colorization)"
    assert path.stat().st_size <= 5e6
    model, meta = load_or_train(f"colorization-{kind}", device="cpu")
    assert meta["source"] == "checkpoint"
    cfg = meta["config"]
    got = evaluate(model, _test_set(cfg["n_test"], cfg["size"], meta["seed"]), T=cfg["T"])
    for key in ("auc", "auc_rebal", "chroma_objects", "saturation_objects"):
        assert got[key] == pytest.approx(meta["metrics"][key], abs=2e-3, rel=1e-2), key


def test_rebalanced_model_is_more_colourful_than_l2_with_higher_rebalanced_auc():
    metrics = {}
    for kind in ("l2", "rebal"):
        path = checkpoint_path(f"colorization-{kind}")
        assert path.is_file(), f"{path} not made yet"
        metrics[kind] = load_checkpoint(path)["metrics"]
    assert metrics["rebal"]["chroma_objects"] > 1.3 * metrics["l2"]["chroma_objects"], metrics
    assert metrics["rebal"]["auc_rebal"] > metrics["l2"]["auc_rebal"], metrics


def test_load_or_train_trains_a_missing_model_with_the_settings_given(tmp_path):
    from course_lib import settings

    cfg = settings("colorization", "fast") | {"n_train": 8, "n_test": 4, "size": 32, "epochs": 1, "batch_size": 4,
                                               "width": 4}
    model, info = load_or_train("colorization-rebal", cfg=cfg, directory=tmp_path, device="cpu")
    assert info["source"] == "trained now" and info["command"] is None and info["config"]["kind"] == "rebal"
    assert model.width == 4 and not model.training and 0.0 <= info["metrics"]["auc"] <= 1.0
    with pytest.raises(ValueError, match=r"name must be one of .* but found 'colorization-lab'"):
        load_or_train("colorization-lab")
