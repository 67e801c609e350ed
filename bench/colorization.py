"""Benchmark for lecture 07 (colorization): quality of the three shipped models and the speed of Lab in torch.

Run: ``.venv/bin/python bench/colorization.py`` (about a minute on a laptop CPU). Writes
``bench/results/colorization.json`` and ``.md``.

* Quality: for each checkpoint ``colorization-{l2,class,rebal}.pt``, re-evaluated on the synthetic test split it
  records (AuC plain and class-rebalanced, mean chroma and HSV saturation of the ambiguous objects), next to the
  grey baseline (ab = 0) and the ground truth. Missing checkpoints are reported as missing.
* Speed: ``course_lib.colorization.rgb_to_lab`` on a batch of fast-profile scenes and on a real photo, against
  scikit-image's ``rgb2lab`` on the same pixels (float32 for both); ratio = scikit-image time / torch time. On a
  CUDA machine the torch timing runs on the GPU as well.
"""

from __future__ import annotations

import sys

import numpy as np
import torch
from skimage.color import rgb2lab

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

import course_lib  # noqa: E402
import course_lib.colorization as col  # noqa: E402
from course_lib.core import checkpoint_path, load_checkpoint, time_fn  # noqa: E402


def quality() -> dict:
    rows, info = {}, {}
    test_set = None
    for kind in col.KINDS:
        path = checkpoint_path(f"colorization-{kind}")
        if not path.is_file():
            rows[kind] = None
            continue
        meta = load_checkpoint(path)
        cfg = meta["config"]
        model = col.build_model(kind, width=cfg["width"])
        load_checkpoint(path, model, task=f"colorization-{kind}")
        if test_set is None:
            test_set = col.SyntheticColorScenes("test", cfg["n_test"], cfg["size"], meta["seed"])
            info = {"n_test": cfg["n_test"], "size": cfg["size"], "seed": meta["seed"], "T": cfg["T"]}
        rows[kind] = col.evaluate(model, test_set, T=cfg["T"])
        rows[kind]["command"] = meta["command"]
    if test_set is not None:
        rows["grey"] = col.evaluate(None, test_set)
    return {"test_split": info, "models": rows}


def lab_speed(device: torch.device) -> dict:
    cfg = course_lib.settings("colorization", "fast")
    scenes = col.SyntheticColorScenes("test", cfg["n_test"], cfg["size"], seed=0).tensors()[0]  # (N, 3, S, S)
    photo = col.load_photo("astronaut")[None]  # (1, 3, 512, 512)
    out = {}
    inputs = [(f"{cfg['n_test']} scenes of {cfg['size']}x{cfg['size']}", scenes), ("astronaut 512x512", photo)]
    for name, batch in inputs:
        hwc = batch.permute(0, 2, 3, 1).numpy().astype(np.float32)  # (N, H, W, 3) for scikit-image
        t_sk = time_fn(lambda hwc=hwc: rgb2lab(hwc), warmup=1, repeats=5)["median_ms"]
        x = batch.to(device)
        t_torch = time_fn(lambda x=x: col.rgb_to_lab(x), warmup=2, repeats=10, device=device)["median_ms"]
        px = batch.shape[0] * batch.shape[2] * batch.shape[3]
        out[name] = {"pixels": px, "skimage_ms": t_sk, "torch_ms": t_torch, "device": str(device),
                     "ratio_skimage_over_torch": t_sk / t_torch,
                     "torch_mpix_per_s": px / t_torch / 1e3}
    return out


def main() -> None:
    torch.manual_seed(0)
    device = course_lib.get_device()
    q = quality()
    s = lab_speed(device)
    lines = ["## Quality on the synthetic test split", ""]
    if q["test_split"]:
        t = q["test_split"]
        lines += [f"{t['n_test']} test scenes of {t['size']} px (seed {t['seed']}), annealed mean T = {t['T']}.", "",
                  "| model | AuC | rebalanced AuC | chroma (ambiguous objects) | HSV saturation (objects) |",
                  "|---|---|---|---|---|"]
        for name in ("grey", *col.KINDS):
            m = q["models"].get(name)
            if m is None:
                lines.append(f"| {name} | missing | | | |")
                continue
            lines.append(f"| {name} | {m['auc']:.3f} | {m['auc_rebal']:.3f} | {m['chroma_objects']:.1f} | "
                         f"{m['saturation_objects']:.2f} |")
        gt = q["models"]["grey"]
        lines.append(f"| truth | 1 | 1 | {gt['gt_chroma_objects']:.1f} | {gt['gt_saturation_objects']:.2f} |")
        r, l2 = q["models"].get("rebal"), q["models"].get("l2")
        if r and l2:
            ratio = r["chroma_objects"] / l2["chroma_objects"]
            lines += ["", f"Rebalanced vs L2: chroma of the ambiguous objects ×{ratio:.2f}, "
                      f"rebalanced AuC {r['auc_rebal'] - l2['auc_rebal']:+.3f}, plain AuC {r['auc'] - l2['auc']:+.3f}."]
    else:
        lines.append("No checkpoints found: run `python -m course_lib.train colorization` first.")
    lines += ["", "## rgb_to_lab (torch) vs scikit-image rgb2lab", "",
              "| input | pixels | scikit-image ms | torch ms | device | ratio |", "|---|---|---|---|---|---|"]
    for name, v in s.items():
        lines.append(f"| {name} | {v['pixels']} | {v['skimage_ms']:.2f} | {v['torch_ms']:.2f} | {v['device']} | "
                     f"{v['ratio_skimage_over_torch']:.1f}× |")
    path = write_results("colorization", {"quality": q, "lab_speed": s}, "\n".join(lines))
    print("\n".join(lines))
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
