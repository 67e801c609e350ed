"""Lecture 06: each shipped restoration checkpoint reproduces the metrics it records on the held-out photos, and
the claims the lecture makes from them hold (the budget run's snapshots and the non-blind deblurring net too)."""

import pytest
import torch

from course_lib.core import checkpoint_path, load_checkpoint
from course_lib.restoration import (
    KINDS,
    SNAPSHOT_RUNS,
    baselines,
    budget_steps,
    corrupt_eval,
    eval_images,
    evaluate,
    load_or_train,
    psnr,
)

# The models shipped in checkpoints/ as restoration-<kind>.pt; the budget run ships restoration-budget-<steps>.pt.
SHIPPED = tuple(k for k in KINDS if k not in SNAPSHOT_RUNS)


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
    model, _ = load_or_train(f"restoration-{kind}")
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


def test_load_model_follows_course_device(monkeypatch):
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    model, _ = load_or_train("restoration-window")
    assert next(model.parameters()).device.type == "cpu"
    monkeypatch.setenv("COURSE_DEVICE", "cuda")
    if torch.cuda.is_available():
        model, _ = load_or_train("restoration-window")
        assert next(model.parameters()).device.type == "cuda"
    else:  # asked for, so refused with get_device's message (before, the loader used the CPU regardless)
        with pytest.raises(ValueError, match="COURSE_DEVICE='cuda' but no CUDA GPU"):
            load_or_train("restoration-window")


def test_budget_run_has_snapshots_along_the_way_and_each_reproduces_its_metrics():
    steps = budget_steps()
    assert len(steps) >= 4 and steps[0] <= 500 and steps[-1] >= 4000, steps
    minutes, command = [], None
    for n in steps:
        path = checkpoint_path(f"restoration-budget-{n:05d}")
        assert path.stat().st_size <= 5e6
        model, meta = load_or_train(f"restoration-budget-{n:05d}")
        assert meta["metrics"]["steps"] == n
        assert "models=budget" in meta["command"] and f"{n}" in meta["config"]["snapshots"]
        command = command or meta["command"]
        assert meta["command"] == command, "all snapshots come from one run"
        minutes.append(meta["metrics"]["train_minutes"])
        got = evaluate("budget", model, crop=meta["config"]["eval_crop"])
        for key, value in got.items():
            tol = 2e-3 if key.startswith("ssim") else 0.02
            assert value == pytest.approx(meta["metrics"][key], abs=tol), (n, key)
    assert minutes == sorted(minutes)


def test_budget_curve_rises_from_the_first_to_the_last_snapshot():
    steps = budget_steps()
    first = load_checkpoint(checkpoint_path(f"restoration-budget-{steps[0]:05d}"))["metrics"]["psnr_25"]
    last = load_checkpoint(checkpoint_path(f"restoration-budget-{steps[-1]:05d}"))["metrics"]["psnr_25"]
    assert last > first + 0.5, (first, last)


@pytest.mark.parametrize("kind", ["plain", "nobn"])
def test_dncnn_controls_reproduce_their_metrics_with_the_budget_runs_recipe(kind):
    """Lecture 06's controls: DnCNN(residual=False) ("plain") and DnCNN(batch_norm=False) ("nobn"), each with the
    budget run's recipe and seed and snapshots at the budget run's steps. Each reproduces its metrics and shares
    the budget run's settings but for its kind and snapshot list."""
    steps = budget_steps(kind)
    assert steps and set(steps) <= set(budget_steps()), steps
    for n in steps:
        model, meta = load_or_train(f"restoration-{kind}-{n:05d}")
        assert (model.residual, model.batch_norm) == (kind != "plain", kind != "nobn")
        assert meta["metrics"]["steps"] == n
        budget = load_checkpoint(checkpoint_path(f"restoration-budget-{n:05d}"))
        differs = {k for k in meta["config"] if meta["config"][k] != budget["config"].get(k)}
        assert differs <= {"models", "kind", "snapshots", "device"} and meta["seed"] == budget["seed"], differs
        got = evaluate(kind, model, crop=meta["config"]["eval_crop"])
        for key, value in got.items():
            tol = 2e-3 if key.startswith("ssim") else 0.02
            assert value == pytest.approx(meta["metrics"][key], abs=tol), (n, key)


def test_recorded_control_claims():
    """What lecture 06 says of the controls at σ = 25, step for step: the net that outputs the image is more than
    2 dB behind DnCNN at every snapshot; the one without batch norm is ahead of DnCNN at every snapshot."""
    psnr = {kind: {n: load_checkpoint(checkpoint_path(f"restoration-{kind}-{n:05d}"))["metrics"]["psnr_25"]
                   for n in budget_steps(kind)} for kind in ("budget", "plain", "nobn")}
    for n, value in psnr["plain"].items():
        assert value < psnr["budget"][n] - 2.0, (n, value, psnr["budget"][n])
    for n, value in psnr["nobn"].items():
        assert value > psnr["budget"][n], (n, value, psnr["budget"][n])


def test_nonblind_net_is_ahead_of_richardson_lucy_given_the_same_kernel():
    """The claim of lecture 06 section 7, re-measured: scikit-image's Richardson–Lucy (30 iterations, the true
    kernel) against the net that refines our own RL, on the checkpoint's evaluation crops, photo by photo."""
    model, meta = load_or_train("restoration-nonblind")
    x = eval_images(colour=False, crop=meta["config"]["eval_crop"])
    for cond in ("motion", "defocus"):
        (y, k), _ = corrupt_eval("nonblind", cond, x)
        with torch.no_grad():
            net = psnr(model(y, k).clamp(0, 1), x)
        rl = psnr(baselines.richardson_lucy_deconv(y, k[0], num_iter=30), x)
        assert bool((net > rl).all()), (cond, net.tolist(), rl.tolist())
        assert meta["metrics"][f"psnr_{cond}"] > meta["metrics"][f"psnr_rl_{cond}"], cond


def test_load_or_train_names_the_checkpoints_it_knows():
    for bad in ("restoration-dncnn", "restoration-budget", "restoration-dncnn25-00250", "restoration-budget-250"):
        with pytest.raises(ValueError, match=r"name must be 'restoration-<kind>' with kind in"):
            load_or_train(bad)


def test_load_or_train_trains_a_missing_model_with_the_settings_given(tmp_path):
    from course_lib import settings

    cfg = settings("restoration", "fast") | {"n_patches": 32, "batch_size": 16, "depth": 3, "width": 8,
                                              "eval_crop": 64}
    model, info = load_or_train("restoration-dncnn25", cfg=cfg, directory=tmp_path, device="cpu")
    assert info["source"] == "trained now" and info["command"] is None and info["config"] == cfg
    assert not model.training and info["metrics"]["psnr_25"] > info["metrics"]["psnr_noisy_25"] - 3
