"""Benchmark for lecture 05 (depth, normals, labels): renderer throughput and the "Contributions of Scales" table.

Run: ``.venv/bin/python bench/depth.py`` (under a minute on a 2-core CPU). Writes ``bench/results/depth.json``
and ``.md``.

* Renderer: ``SyntheticRooms`` (vectorised torch ray caster) rendering 1,000 rooms at the fast profile's size
  (64×48) and 200 at the full profile's (128×96), median of 3 runs, on the CPU (and on the GPU when present).
* Ablation: the four shipped checkpoints ``depth-{s1,s2,s12,s123}.pt`` (scales 1 only, 2 only, 1+2, 1+2+3, all
  trained with the same rooms, epochs, batch size, learning rate and seed) re-evaluated on the synthetic test
  split they record, next to the no-network baselines (training-set mean depth; per-row mean depth, mean
  normal and most frequent class). Paired differences between settings carry 95 % bootstrap intervals over
  test rooms.
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

import course_lib  # noqa: E402
import course_lib.depth as dp  # noqa: E402
from course_lib.core import checkpoint_path, load_checkpoint  # noqa: E402

# The paper's sc-inv., mean normal angle, and 4-class accuracy of its labels network with the true depth and normals
# as extra input, then from RGB only (the one our RGB-only labels head matches; scale 1 sees RGB in both).
PAPER = {"s1": (0.218, 29.7, 71.5, 71.5), "s2": (0.290, 31.8, 77.4, 67.2), "s12": (0.216, 26.1, 80.1, 74.4),
         "s123": (0.198, 25.9, 80.6, 75.3)}


def renderer_speed(device: torch.device) -> dict:
    out = {}
    devices = [torch.device("cpu")] + ([device] if device.type != "cpu" else [])
    for dev in devices:
        for n, size in ((1000, 64), (200, 128)):
            dp.SyntheticRooms("train", 8, size, seed=1, device=dev)  # warm-up
            times = []
            for _ in range(3):
                start = time.perf_counter()
                dp.SyntheticRooms("train", n, size, seed=0, device=dev)
                if dev.type == "cuda":
                    torch.cuda.synchronize()
                times.append(time.perf_counter() - start)
            t = statistics.median(times)
            out[f"{dev.type} {n} rooms {size}x{3 * size // 4}"] = {"seconds": t, "rooms_per_s": n / t}
    return out


def per_room(pred: dict, test: dp.SyntheticRooms) -> dict:
    known = test.labels != 255
    acc = ((pred["labels"] == test.labels) & known).flatten(1).sum(1) / known.flatten(1).sum(1)
    return {"si_log": dp.per_image_si_log(pred["depth"], test.depth, test.valid),
            "normals_mean": dp.per_image_normal_mean(pred["normals"], test.normals, test.valid),
            "pixel_acc": 100 * acc.double()}


def ablation() -> dict:
    if not all(checkpoint_path(f"depth-{v}").is_file() for v in dp.VARIANTS):
        return {"missing": [v for v in dp.VARIANTS if not checkpoint_path(f"depth-{v}").is_file()]}
    meta = load_checkpoint(checkpoint_path("depth-s123"))
    cfg, seed = meta["config"], meta["seed"]
    train = dp.SyntheticRooms("train", cfg["n_train"], cfg["size"], seed)
    test = dp.SyntheticRooms("test", cfg["n_test"], cfg["size"], seed)
    preds, rows = {}, {}
    for v in dp.VARIANTS:
        model, info = dp.load_or_train(f"depth-{v}", cfg=cfg)
        preds[v] = dp.predict(model, test.rgb)
        rows[v] = dp.evaluate_predictions(preds[v], test)
        rows[v].update(params=dp.num_params(model), train_minutes=info["metrics"]["train_seconds"] / 60,
                       command=info["command"])
    for name, p in dp.baseline_predictions(train, len(test)).items():
        preds[name] = p
        rows[name] = dp.evaluate_predictions(p, test)
    rooms = {name: per_room(p, test) for name, p in preds.items()}
    diffs = {}
    for a, b in (("s123", "s1"), ("s123", "s2"), ("s12", "s1"), ("s12", "s2"), ("s1", "s2"), ("s123", "s12"),
                 ("s2", "per-row mean"), ("s1", "per-row mean")):
        diffs[f"{a} - {b}"] = {k: dict(zip(("mean", "low", "high"), dp.bootstrap_difference(rooms[a][k], rooms[b][k])))
                               for k in rooms[a]}
    return {"config": {k: cfg[k] for k in ("n_train", "n_test", "size", "epochs", "batch_size", "lr", "width",
                                           "fc_width", "coarse", "lam", "w_normals", "w_labels")},
            "seed": seed, "rows": rows, "paired_differences": diffs}


def main() -> None:
    torch.manual_seed(0)
    device = course_lib.get_device()
    speed = renderer_speed(device)
    abl = ablation()
    lines = ["## Renderer throughput (`SyntheticRooms`, vectorised torch ray caster)", "",
             "| setting | seconds (median of 3) | rooms / s |", "|---|---|---|"]
    lines += [f"| {k} | {v['seconds']:.2f} | {v['rooms_per_s']:.0f} |" for k, v in speed.items()]
    if "missing" in abl:
        lines += ["", f"Checkpoints missing: {abl['missing']}; make them with `python -m course_lib.train depth`."]
    else:
        c = abl["config"]
        lines += ["", "## Contributions of scales, equal budget (synthetic rooms)", "",
                  f"Each setting trained on {c['n_train']} rooms of {c['size']}×{3 * c['size'] // 4} px for "
                  f"{c['epochs']} epochs (batch {c['batch_size']}, Adam lr {c['lr']}, seed {abl['seed']}); "
                  f"evaluated on {c['n_test']} held-out rooms. Paper: NYU Depth v2 (not comparable in value, only "
                  "in ranking). The budget is equal in steps; training minutes are wall-clock on a 2-core CPU that "
                  "other jobs shared for part of the run, so they compare compute only loosely.", "",
                  "| model | sc-inv ↓ | δ<1.25 ↑ | abs rel ↓ | RMS (m) ↓ | normals mean (°) ↓ "
                  "| 4-class pixel acc (%) ↑ | params | train min (wall) "
                  "| paper sc-inv / normals / pix acc with true D & N / pix acc RGB only |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for name, r in abl["rows"].items():
            label = dp.VARIANT_NAMES.get(name, f"baseline: {name}")
            extra = (f"{r['params']:,} | {r['train_minutes']:.1f} | {' / '.join(str(x) for x in PAPER[name])}"
                     if name in PAPER else "– | – | –")
            lines.append(f"| {label} | {r['si_log']:.3f} | {r['delta1']:.3f} | {r['abs_rel']:.3f} | {r['rmse']:.3f} "
                         f"| {r['normals_mean']:.1f} | {r['pixel_acc']:.1f} | {extra} |")
        lines += ["", "Paired differences over test rooms, mean [95 % bootstrap interval] (negative sc-inv and "
                  "normals = first is better; positive pixel acc = first is better):", "",
                  "| a − b | sc-inv | normals mean (°) | pixel acc (%) |", "|---|---|---|---|"]
        for k, d in abl["paired_differences"].items():
            cells = [f"{d[m]['mean']:+.3f} [{d[m]['low']:+.3f}, {d[m]['high']:+.3f}]"
                     for m in ("si_log", "normals_mean", "pixel_acc")]
            lines.append(f"| {k} | " + " | ".join(cells) + " |")
    write_results("depth", {"renderer": speed, "ablation": abl}, "\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
