"""Benchmark for lecture 07 (colorization): quality of the three shipped models and the speed of Lab in torch.

Run: ``.venv/bin/python bench/colorization.py`` (about a minute on a laptop CPU). Writes
``bench/results/colorization.json`` and ``.md``.

* Quality: for each checkpoint ``colorization-{l2,class,rebal}.pt``, re-evaluated on the synthetic test split it
  records (AuC plain and class-rebalanced, mean chroma and HSV saturation of the ambiguous objects), next to the
  grey baseline (ab = 0) and the ground truth. Missing checkpoints are reported as missing.
* Intervals: the AuC differences lecture 07 discusses (class − l2, rebal − l2, rebal − class), plain and
  rebalanced, with 95 % paired bootstrap intervals over the test scenes (``per_image_auc`` and ``bootstrap_auc``,
  as in the lecture), on the whole test split the checkpoints were scored on and on its first scenes, which are
  the lecture's own fast-profile test split (a scene depends only on the seed, the split and its index).
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

PAIRS = (("class", "l2"), ("rebal", "l2"), ("rebal", "class"))  # the differences lecture 07 reads, a − b


def intervals(preds: dict, rgb: torch.Tensor, rows: dict) -> dict:
    """AuC differences of ``PAIRS`` with 95 % paired bootstrap intervals over the scenes ``rgb`` (Tensor[N, 3, H, W]).

    The rebalancing weights come from the evaluated scenes' own prior, as in ``color_metrics``; ``rows`` holds
    ``color_metrics`` of the same predictions, which the per-image shares must add up to. Returns
    ``{"auc": [...], "auc_rebal": [...]}``, one ``{"a", "b", "diff", "low", "high"}`` per pair.
    """
    bins = col.ab_bins()
    _, ab = col.split_lab(rgb)  # (N, 2, H, W)
    w = col.inverse_prior_weights(ab, bins, col.empirical_prior(ab, bins))  # (N, H, W)
    out = {}
    for metric, weights in (("auc", None), ("auc_rebal", w)):
        shares = {k: col.per_image_auc(preds[k], ab, weights=weights) for k in col.KINDS}
        for k, (S, W) in shares.items():  # the shares add up to the table's AuC
            assert abs(float(S.sum() / W.sum()) - rows[k][metric]) < 1e-5, (k, metric, float(S.sum() / W.sum()))
        ci = col.bootstrap_auc(shares, PAIRS)  # 2000 resamples, seed 0, 95 %
        out[metric] = [{"a": a, "b": b, "diff": d, "low": lo, "high": hi} for (a, b), (d, lo, hi) in ci.items()]
    return out


def quality() -> dict:
    rows, info, preds = {}, {}, {}
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
        # col.evaluate, with the predictions kept for the intervals
        rgb, mask, _ = test_set.tensors()  # (N, 3, H, W), (N, H, W)
        preds[kind] = col.predict_full(model, rgb, T=cfg["T"]).cpu()  # (N, 2, H, W)
        rows[kind] = col.color_metrics(preds[kind], rgb, mask, col.ab_bins())
        rows[kind]["command"] = meta["command"]
    if test_set is None:
        return {"test_split": info, "models": rows}
    rows["grey"] = col.evaluate(None, test_set)
    out = {"test_split": info, "models": rows, "bootstrap": {"n": 2000, "seed": 0, "level": 0.95, "unit": "scene"}}
    if all(k in preds for k in col.KINDS):
        rgb, mask, _ = test_set.tensors()
        out["intervals"] = {"n_scenes": len(rgb), **intervals(preds, rgb, rows)}
        # Lecture 07's own split: the fast profile's test scenes (seed 0), the first n of ours if seed and size match.
        lec = course_lib.settings("colorization", "fast")
        if info["seed"] == 0 and info["size"] == lec["size"] and lec["n_test"] < len(rgb):
            n = lec["n_test"]
            assert torch.equal(col.SyntheticColorScenes("test", n, lec["size"], 0).rgb8, test_set.rgb8[:n])
            sub = {k: col.color_metrics(preds[k][:n], rgb[:n], mask[:n], col.ab_bins()) for k in col.KINDS}
            out["lecture_split"] = {"n_scenes": n, "models": sub,
                                    **intervals({k: preds[k][:n] for k in col.KINDS}, rgb[:n], sub)}
    return out


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
        if "intervals" in q:
            splits = [("intervals", f"all {q['intervals']['n_scenes']} test scenes")]
            if "lecture_split" in q:
                splits.append(("lecture_split", f"first {q['lecture_split']['n_scenes']}, lecture 07's split"))
            lines += ["", "### AuC differences with 95 % paired bootstrap intervals over the test scenes", "",
                      "Difference a − b [2.5 %, 97.5 %] of 2000 resamples of the scenes (the same resamples for "
                      "every model). Rebalanced AuC weights each pixel by 1 / prior of its true colour bin, the "
                      "prior being that of the scenes evaluated, so it is recomputed on the lecture's subset.", "",
                      "| a − b | " + " | ".join(f"{m} ({label})" for _, label in splits
                                                for m in ("AuC", "rebalanced AuC")) + " |",
                      "|---" * (1 + 2 * len(splits)) + "|"]
            for i, (a, b) in enumerate(PAIRS):
                cells = []
                for key, _ in splits:
                    for metric in ("auc", "auc_rebal"):
                        c = q[key][metric][i]
                        assert (c["a"], c["b"]) == (a, b), (c, a, b)
                        cells.append(f"{c['diff']:+.3f} [{c['low']:+.3f}, {c['high']:+.3f}]")
                lines.append(f"| {a} − {b} | " + " | ".join(cells) + " |")
            if "lecture_split" in q:
                sub = q["lecture_split"]["models"]
                lines += ["", f"On the first {q['lecture_split']['n_scenes']} scenes: AuC "
                          + ", ".join(f"{k} {sub[k]['auc']:.3f}" for k in col.KINDS) + "; rebalanced AuC "
                          + ", ".join(f"{k} {sub[k]['auc_rebal']:.3f}" for k in col.KINDS) + "."]
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
