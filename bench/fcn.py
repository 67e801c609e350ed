"""Benchmark for lecture 04 (FCN): quality of FCN-32s/16s/8s and the dense vs sliding-window speed ratio.

Writes bench/results/fcn.json and fcn.md:

* the four FCN metrics (pixel acc, mean acc, mean IU, f.w. IU), boundary accuracy (pixel accuracy within 3 px
  of a class edge) and per-class IU of each variant, on the synthetic test split the shipped checkpoints were
  scored on (checkpoints missing: each variant is trained now with the fast profile);
* the speed of labelling images with the patch classifier: sliding windows vs its convolutionalized form, at the
  net's stride (identical scores) and per pixel (stride 1, a window per pixel, vs dense + nearest upsampling);
  and the time of a full-resolution FCN-8s forward pass on the same images.

Run: ``.venv/bin/python bench/fcn.py`` (about a minute on 2 CPU cores).
"""

from __future__ import annotations

import sys

import torch

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

import course_lib  # noqa: E402
import course_lib.segmentation as seg  # noqa: E402
from course_lib.core import time_fn  # noqa: E402


def quality(cfg: dict) -> tuple[dict, dict]:
    rows, sources = {}, {}
    for variant in seg.VARIANTS:
        model, info = seg.load_or_train(f"fcn-{variant}", cfg=cfg)
        ck = info["config"]
        test = seg.SyntheticScenes("test", ck["n_test"], ck["size"], seed=0)
        rows[variant] = seg.scene_metrics(model, test)
        sources[variant] = {"source": info["source"], "command": info["command"], "n_test": ck["n_test"],
                            "size": ck["size"]}
    return rows, sources


def speed(cfg: dict, n_images: int = 2) -> dict:
    patch_model, _ = seg.load_or_train("fcn-patch", cfg=cfg)
    fcn8, info = seg.load_or_train("fcn-8s", cfg=cfg)
    conv = seg.convolutionalize(patch_model).eval()
    size = info["config"]["size"]
    images = seg.SyntheticScenes("test", n_images, size, seed=0).images
    P, s = patch_model.patch, patch_model.stride
    with torch.no_grad():
        same = torch.allclose(seg.patch_segment(conv, images, patch=P, stride=s),
                              seg.patch_segment(patch_model, images, patch=P, stride=s, dense=False), atol=1e-5)
    dense = time_fn(lambda: seg.patch_segment(conv, images, patch=P, stride=s), repeats=10)
    slide = time_fn(lambda: seg.patch_segment(patch_model, images, patch=P, stride=s, dense=False), warmup=1,
                    repeats=3)
    slide1 = time_fn(lambda: seg.patch_segment(patch_model, images, patch=P, stride=1, dense=False), warmup=0,
                     repeats=1)
    fcn_t = time_fn(lambda: fcn8(images), repeats=10)
    return {
        "images": n_images, "size": size, "patch": P, "net_stride": s, "same_scores_at_net_stride": bool(same),
        "dense_ms": dense["median_ms"], "sliding_ms_at_net_stride": slide["median_ms"],
        "sliding_ms_every_pixel": slide1["median_ms"], "fcn8s_forward_ms": fcn_t["median_ms"],
        "ratio_at_net_stride": slide["median_ms"] / dense["median_ms"],
        "ratio_every_pixel_vs_dense": slide1["median_ms"] / dense["median_ms"],
        "ratio_every_pixel_vs_fcn8s": slide1["median_ms"] / fcn_t["median_ms"],
    }


def main() -> None:
    course_lib.seed_everything(0)
    torch.set_grad_enabled(False)
    cfg = course_lib.settings("fcn", "fast")
    rows, sources = quality(cfg)
    timing = speed(cfg)
    gain_iou = rows["8s"]["mean_iou"] - rows["32s"]["mean_iou"]
    gain_boundary = rows["8s"]["boundary_acc"] - rows["32s"]["boundary_acc"]
    data = {"metrics": rows, "sources": sources, "speed": timing,
            "fcn8s_minus_fcn32s": {"mean_iou": gain_iou, "boundary_acc": gain_boundary},
            "paper_mean_iou_voc2011_val": {"32s": 59.4, "16s": 62.4, "8s": 62.7},
            "paper_speedup_vs_sds": 286}
    keys = ("pixel_acc", "mean_acc", "mean_iou", "fw_iou", "boundary_acc")
    lines = ["## Quality on the synthetic test split (%)", "",
             "| variant | pixel acc | mean acc | mean IU | f.w. IU | boundary acc (3 px) | paper mean IU (VOC) |",
             "|---|---|---|---|---|---|---|"]
    for v, r in rows.items():
        lines.append(f"| FCN-{v} | " + " | ".join(f"{100 * r[k]:.1f}" for k in keys)
                     + f" | {data['paper_mean_iou_voc2011_val'][v]} |")
    src = sources["8s"]
    lines += ["", f"FCN-8s vs FCN-32s: mean IU {100 * gain_iou:+.1f} points, boundary accuracy "
              f"{100 * gain_boundary:+.1f} points. Models: {src['source']} (`{src['command']}`), "
              f"{src['n_test']} test scenes of {src['size']}×{src['size']} px.", "",
              "## Dense vs sliding-window inference (patch classifier)", "",
              f"{timing['images']} images of {timing['size']} px, patch {timing['patch']}, net stride "
              f"{timing['net_stride']}; identical scores at the net stride: {timing['same_scores_at_net_stride']}.",
              "", "| what | time (ms) | ratio |", "|---|---|---|",
              f"| convolutionalized (dense) | {timing['dense_ms']:.1f} | 1 |",
              f"| sliding windows at the net stride | {timing['sliding_ms_at_net_stride']:.1f} | "
              f"{timing['ratio_at_net_stride']:.0f}× |",
              f"| sliding windows at every pixel | {timing['sliding_ms_every_pixel']:.1f} | "
              f"{timing['ratio_every_pixel_vs_dense']:.0f}× |",
              f"| FCN-8s forward (full resolution) | {timing['fcn8s_forward_ms']:.1f} | "
              f"(every-pixel windows / FCN-8s = {timing['ratio_every_pixel_vs_fcn8s']:.0f}×) |",
              "", "The paper's 286× is FCN vs SDS (region proposals + classification), not vs sliding windows."]
    path = write_results("fcn", data, "\n".join(lines))
    print("\n".join(lines))
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
