"""Benchmark for lecture 02 (pose: spatial model and joint training).

Run: ``.venv/bin/python bench/pose.py`` (one to three minutes on a laptop CPU). Writes ``bench/results/pose.json``
and ``.md``.

* Quality: FLIC detection rate per joint at r = 5, 10, 20 % of the torso size for the part detector alone, the
  equal-budget control (the detector trained alone for the joint model's ``joint_epochs`` extra epochs), the
  detector + separately trained spatial model, and the jointly trained model, re-evaluated from
  ``checkpoints/pose-{detector,detector-extra,spatial,joint}.pt`` on the synthetic test split they record.
  Missing checkpoints are reported as missing (make them with ``python -m course_lib.train pose`` and
  ``pose-control``).
* Intervals: the change in detection rate of each variant against the detector alone, and of joint training
  against the control, per joint group (all joints, arms, wrists), with a 95 % paired bootstrap interval over the
  test images (``course_lib.core.stats.paired_bootstrap``): the same computation as lecture 02's table cell.
* Speed: depthwise ``fft_conv2d`` vs direct convolution for kernels of 32, 64 and 128 (9 maps of 64x64, batch 8),
  and exact chain belief propagation (``chain_marginals``) for N = 64x64 locations, J = 4 and 8.
"""

from __future__ import annotations

import sys

import torch

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

import course_lib  # noqa: E402
from course_lib.core import checkpoint_path, time_fn  # noqa: E402
from course_lib.core.stats import paired_bootstrap  # noqa: E402
from course_lib.pose import (  # noqa: E402
    JOINTS,
    SyntheticPose,
    chain_marginals,
    direct_conv2d,
    evaluate_detector,
    fft_conv2d,
    load_or_train,  # noqa: E402
    predict_joints,
)
from course_lib.pose.joint import CONTROL_TASK  # noqa: E402
from course_lib.pose.tasks import RADII  # noqa: E402

VARIANTS = {"detector": "detector alone", "extra": "+ extra epochs (control)", "spatial": "+ spatial model",
            "joint": "joint training"}
CHECKPOINTS = ("pose-detector", CONTROL_TASK, "pose-spatial", "pose-joint")
# Joint groups of lecture 02's interval table (column indices into JOINTS).
GROUPS = {"all joints": list(range(len(JOINTS))),
          "arms": [JOINTS.index(n) for n in ("lelb", "lwri", "relb", "rwri")],
          "wrists": [JOINTS.index("lwri"), JOINTS.index("rwri")]}
# (a, b): the differences a − b reported with intervals; joint − control is the one that says whether the gain is
# the spatial model's or the extra epochs'.
COMPARISONS = (("extra", "detector"), ("spatial", "detector"), ("joint", "detector"), ("joint", "extra"))
SHORT = {"detector": "detector", "extra": "control", "spatial": "+ spatial", "joint": "joint"}  # difference rows


def differences(err: dict) -> list[dict]:
    """Paired bootstrap over test images of the change in detection rate, per comparison, radius and joint group.

    ``err[v]`` is Tensor[N, J], each joint's error in % of the torso size. Per image, a variant's score in a group
    is the percentage of the group's joints within r; the difference of two variants on the same images goes to
    ``paired_bootstrap`` (2000 resamples, seed 0, 95 %), as in lecture 02.
    """
    rows = []
    for a, b in COMPARISONS:
        for r in RADII:
            for group, cols in GROUPS.items():
                hit_a, hit_b = (100 * (err[v][:, cols] <= r).float().mean(1) for v in (a, b))  # (N,) per image
                d, lo, hi = paired_bootstrap(hit_a, hit_b)
                rows.append({"a": a, "b": b, "r": r, "group": group, "diff": d, "low": lo, "high": hi})
    return rows


def quality(device) -> dict:
    if not all(checkpoint_path(n).is_file() for n in CHECKPOINTS):
        return {"missing": "checkpoints/pose-{detector,detector-extra,spatial,joint}.pt; run python -m "
                           "course_lib.train pose, then pose-control with the same --set overrides"}
    loaded = {v: load_or_train(name, device=device) for v, name in
              (("detector", "pose-detector"), ("extra", CONTROL_TASK), ("spatial", "pose-spatial"),
               ("joint", "pose-joint"))}
    models = {v: model for v, (model, _) in loaded.items()}
    extra_ckpt, ckpt = loaded["extra"][1], loaded["joint"][1]
    cfg, seed = ckpt["config"], ckpt["seed"]
    if extra_ckpt["config"] != cfg or extra_ckpt["seed"] != seed:
        raise SystemExit(f"{CONTROL_TASK}.pt was made with other settings than pose-joint.pt: "
                         f"{extra_ckpt['command']!r} vs {ckpt['command']!r}")
    test = SyntheticPose("test", cfg["n_test"], cfg["size"], seed, stride=models["detector"].stride)
    rates = {v: evaluate_detector(models[v], test) for v in VARIANTS}
    # Per-image errors for the intervals, decoded exactly as evaluate_detector decodes them.
    images, target, torso = test.images.float() / 255.0, test.joints, test.torso
    err = {v: 100 * (predict_joints(models[v], images) - target).norm(dim=-1) / torso[:, None]
           for v in VARIANTS}  # (N, J) in % of the torso size
    # The per-image hits must average to the table's mean; the two roundings (d <= r/100 * torso in pck, here
    # 100 d / torso <= r) may disagree on a joint exactly at the radius, so allow three joints of N x J.
    tol = 100 * 3 / err["detector"].numel()
    for v in VARIANTS:
        for r in RADII:
            mean = float(100 * (err[v] <= r).float().mean())
            assert abs(mean - rates[v][f"dr{r}_mean"]) <= tol, (v, r, mean, rates[v][f"dr{r}_mean"])
    return {"n_test": len(test), "command": ckpt["command"], "control_command": extra_ckpt["command"],
            "joint_epochs": cfg["joint_epochs"], "rates": rates, "differences": differences(err),
            "bootstrap": {"n_boot": 2000, "seed": 0, "level": 0.95, "unit": "test image"}}


def conv_speed(device) -> list[dict]:
    x = torch.rand(8, 9, 64, 64, device=device)
    rows = []
    for k in (32, 64, 128):
        w = torch.rand(9, 1, k, k, device=device) / k**2
        err = float((fft_conv2d(x, w, groups=9) - direct_conv2d(x, w, groups=9)).abs().max())
        direct = time_fn(lambda w=w: direct_conv2d(x, w, groups=9), repeats=5, device=device)["median_ms"]
        fft = time_fn(lambda w=w: fft_conv2d(x, w, groups=9), repeats=5, device=device)["median_ms"]
        rows.append({"kernel": k, "direct_ms": direct, "fft_ms": fft, "ratio": direct / fft, "max_abs_diff": err})
    return rows


def bp_speed(device) -> list[dict]:
    g = torch.Generator().manual_seed(0)
    rows = []
    for J in (4, 8):
        unary = torch.rand(J, 64 * 64, generator=g).to(device)
        pairwise = torch.rand(J - 1, 64 * 64, 64 * 64, generator=g).to(device)
        t = time_fn(lambda u=unary, p=pairwise: chain_marginals(u, p), warmup=1, repeats=3, device=device)["median_ms"]
        rows.append({"J": J, "N": 64 * 64, "ms": t})
    return rows


def main() -> None:
    device = course_lib.get_device()
    torch.manual_seed(0)
    q, conv, bp = quality(device), conv_speed(device), bp_speed(device)
    lines = ["## Detection rate (% of joints within r % of the torso), synthetic test split", ""]
    if "missing" in q:
        lines.append(f"Missing: {q['missing']}")
    else:
        lines.append(f"{q['n_test']} test images; checkpoints made by `{q['command']}`.")
        for r in RADII:
            lines += ["", f"r = {r} %", "", "| model | " + " | ".join(JOINTS) + " | mean |",
                      "|---" * (len(JOINTS) + 2) + "|"]
            for v, label in VARIANTS.items():
                row = q["rates"][v]
                lines.append(f"| {label} | " + " | ".join(f"{row[f'dr{r}_{n}']:.1f}" for n in JOINTS)
                             + f" | {row[f'dr{r}_mean']:.1f} |")
        lines += ["", f"Control: `{q['control_command']}` (the detector alone, trained for the joint model's "
                  f"{q['joint_epochs']} extra epochs on the same images and batches)."]
        for b in ("detector", "extra"):
            gains = {n: q["rates"]["joint"][f"dr10_{n}"] - q["rates"][b][f"dr10_{n}"]
                     for n in ("lelb", "lwri", "relb", "rwri")}
            lines += ["", f"Joint training minus {'the control' if b == 'extra' else VARIANTS[b]} at r = 10 %: "
                      + ", ".join(f"{n} {g:+.1f}" for n, g in gains.items()) + " points."]
        lines += ["", "### Paired differences with 95 % bootstrap intervals over the test images", "",
                  f"Change in detection rate (points) of a over b on the same {q['n_test']} images, per joint group "
                  "(share of the group's joints within r, per image), [2.5 %, 97.5 %] of 2000 resamples of the "
                  "images. control = the detector trained alone for the same extra epochs.", "",
                  "| a − b | r | " + " | ".join(GROUPS) + " |", "|---|---" + "|---" * len(GROUPS) + "|"]
        for a, b in COMPARISONS:
            for r in RADII:
                cells = {d["group"]: d for d in q["differences"] if (d["a"], d["b"], d["r"]) == (a, b, r)}
                lines.append(f"| {SHORT[a]} − {SHORT[b]} | {r} % | " + " | ".join(
                    f"{c['diff']:+.1f} [{c['low']:+.1f}, {c['high']:+.1f}]" for c in cells.values()) + " |")
    lines += ["", "## FFT vs direct depthwise convolution (8 x 9 maps of 64x64)", "",
              "| kernel | direct (ms) | FFT (ms) | direct / FFT | max abs diff |", "|---|---|---|---|---|"]
    lines += [f"| {c['kernel']} | {c['direct_ms']:.1f} | {c['fft_ms']:.1f} | {c['ratio']:.1f}x | "
              f"{c['max_abs_diff']:.1e} |" for c in conv]
    lines += ["", "## Exact chain belief propagation (log domain), N = 64x64 locations", "", "| J | time (ms) |",
              "|---|---|"]
    lines += [f"| {b['J']} | {b['ms']:.0f} |" for b in bp]
    write_results("pose", {"device": str(device), "quality": q, "fft_conv": conv, "chain_bp": bp}, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
