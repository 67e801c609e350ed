"""Benchmark for lecture 02 (pose: spatial model and joint training).

Run: ``.venv/bin/python bench/pose.py`` (one to three minutes on a laptop CPU). Writes ``bench/results/pose.json``
and ``.md``.

* Quality: FLIC detection rate per joint at r = 5, 10, 20 % of the torso size for the part detector alone, the
  detector + separately trained spatial model, and the jointly trained model, re-evaluated from
  ``checkpoints/pose-{detector,spatial,joint}.pt`` on the synthetic test split they record. Missing checkpoints
  are reported as missing (make them with ``python -m course_lib.train pose``).
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
from course_lib.pose import JOINTS, SyntheticPose, chain_marginals, direct_conv2d, evaluate_detector, fft_conv2d  # noqa: E402
from course_lib.pose.joint import load_pose_models  # noqa: E402
from course_lib.pose.tasks import RADII  # noqa: E402

VARIANTS = {"detector": "detector alone", "spatial": "+ spatial model", "joint": "joint training"}


def quality(device) -> dict:
    if not all(checkpoint_path(n).is_file() for n in ("pose-detector", "pose-spatial", "pose-joint")):
        return {"missing": "checkpoints/pose-{detector,spatial,joint}.pt; run python -m course_lib.train pose"}
    models = load_pose_models(device=device)
    ckpt = models["checkpoints"]["joint"]
    cfg, seed = ckpt["config"], ckpt["seed"]
    test = SyntheticPose("test", cfg["n_test"], cfg["size"], seed, stride=models["detector"].stride)
    rates = {v: evaluate_detector(models[v], test) for v in VARIANTS}
    return {"n_test": len(test), "command": ckpt["command"], "rates": rates}


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
        gains = {n: q["rates"]["joint"][f"dr10_{n}"] - q["rates"]["detector"][f"dr10_{n}"]
                 for n in ("lelb", "lwri", "relb", "rwri")}
        lines += ["", "Joint training minus detector alone at r = 10 %: "
                  + ", ".join(f"{n} {g:+.1f}" for n, g in gains.items()) + " points."]
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
