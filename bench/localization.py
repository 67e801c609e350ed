"""Benchmark for lecture 03 (efficient localization): pooling / accuracy / time, with the controls.

Writes bench/results/localization.json and localization.md:

- for each pooling factor (4, 8, 16): mean and median localization error per joint group (input pixels of the
  64×64 synthetic test split the shipped checkpoints were scored on) of the coarse model, the same model trained
  for the cascade's extra epochs with E1 alone (the equal-budget control), the shared-feature cascade and the
  standard cascade (own early layers on the RGB crop), next to the quantisation floor (the perfect target
  decoded by argmax and by the sub-pixel fit);
- paired differences per test image (cascade − control, cascade − standard) with 95 % bootstrap intervals, and
  the same differences for further training seeds when ``--seeds`` asks for them (each extra seed retrains the
  whole ``localization`` task with the shipped command's settings into a temporary folder: about 10 minutes on 2
  CPU cores);
- the dropout study (no dropout / standard / SpatialDropout, several seeds, over-fitting setting): test and
  training error per seed, differences with intervals, mean ± sd over seeds;
- forward times (median ms) of coarse, fine (crop + fine net) and cascade at batch 1 and 32 on the CPU, and on
  the GPU when there is one.

Run: ``.venv/bin/python bench/localization.py [--seeds 0,1,2]`` (about a minute for the shipped seed; needs
``checkpoints/localization-*.pt``, made by ``python -m course_lib.train localization`` and
``python -m course_lib.train localization-dropout``).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile

import torch

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

from course_lib.core import time_fn  # noqa: E402
from course_lib.core.stats import paired_bootstrap  # noqa: E402
from course_lib.localization import (  # noqa: E402
    GROUPS,
    JOINTS,
    SyntheticPose,
    group_errors,
    heatmap_argmax,
    joint_distances,
    load_or_train,
    localization_error,
    predict,
    train_localization,
    with_stride,
)
from course_lib.localization.tasks import DROPOUT_KINDS, KINDS  # noqa: E402

POOLINGS = (4, 8, 16)


def times(cascade, coarse, images: torch.Tensor, device: torch.device, repeats: int) -> dict:
    """Median ms of coarse, fine (crop + fine network on given centres) and the whole cascade."""
    cascade, coarse, x = cascade.to(device), coarse.to(device), images.to(device)
    with torch.no_grad():
        centres = cascade(x)["centres"]
        feats = cascade.coarse.features(x)

    def fine():
        return cascade.fine(cascade.crops(x, centres, feats), joints_per_image=len(JOINTS))

    fns = {"coarse": lambda: coarse(x), "fine": fine, "cascade": lambda: cascade(x)}
    return {k: round(time_fn(f, warmup=2, repeats=repeats, device=device)["median_ms"], 3) for k, f in fns.items()}


def per_joint(err: torch.Tensor) -> dict:
    return {n: round(float(v), 3) for n, v in zip(JOINTS, err)}


def interval(a: torch.Tensor, b: torch.Tensor) -> list[float]:
    return [round(v, 3) for v in paired_bootstrap(a, b)]


def score_seed(models: dict, test: SyntheticPose) -> dict:
    """Errors of every model on ``test`` and the paired differences of the cascade with its controls."""
    images, joints = test.images.float() / 255, test.joints
    preds = {key: predict(m, images) for key, m in models.items()}
    entry = {"pooling": {}}
    for p in POOLINGS:
        e = {kind: {"mean_error": per_joint(localization_error(preds[kind, p], joints)),
                    "median_error": per_joint(localization_error(preds[kind, p], joints, reduction="median"))}
             for kind in KINDS}
        img = {kind: joint_distances(preds[kind, p], joints).mean(1) for kind in KINDS}  # (N,) px
        e["cascade_minus_longer"] = interval(img["cascade"], img["longer"])
        e["cascade_minus_standard"] = interval(img["cascade"], img["standard"])
        e["standard_minus_longer"] = interval(img["standard"], img["longer"])
        entry["pooling"][str(p)] = e
    return entry


def floors(test: SyntheticPose) -> dict:
    out = {}
    for p in POOLINGS:
        targets = torch.stack([s["heatmaps"] for s in with_stride({"t": test}, p)["t"]])  # (N, J, h, w)
        out[str(p)] = {name: per_joint(localization_error(heatmap_argmax(targets, stride=p, subpixel=sub),
                                                          test.joints))
                       for name, sub in (("argmax", False), ("subpixel", True))}
    return out


def dropout_study() -> dict:
    first = load_or_train("localization-dropout-none-s0", device="cpu")[1]
    conf = first["config"]
    out = {"setting": {k: conf[k] for k in ("drop_pooling", "drop_n_train", "drop_epochs", "drop_p", "drop_seeds",
                                            "n_test", "width")},
           "command": first["command"], "seeds": {}}
    for s in range(conf["drop_seeds"]):
        test = SyntheticPose("test", conf["n_test"], conf["size"], s)
        seen = SyntheticPose("train", conf["drop_n_train"], conf["size"], s)
        err, entry = {}, {}
        for k in DROPOUT_KINDS:
            model, ckpt = load_or_train(f"localization-dropout-{k}-s{s}", device="cpu")
            err[k] = joint_distances(predict(model, test.images.float() / 255), test.joints).mean(1)
            train = joint_distances(predict(model, seen.images.float() / 255), seen.joints).mean(1)
            entry[k] = {"test_mean": round(float(err[k].mean()), 3), "train_mean": round(float(train.mean()), 3),
                        "train_minutes": round(ckpt["metrics"]["train_seconds"] / 60, 2)}
        entry["spatial_minus_standard"] = interval(err["spatial"], err["standard"])
        entry["spatial_minus_none"] = interval(err["spatial"], err["none"])
        entry["standard_minus_none"] = interval(err["standard"], err["none"])
        out["seeds"][str(s)] = entry
    for k in DROPOUT_KINDS:
        t = torch.tensor([out["seeds"][str(s)][k]["test_mean"] for s in range(conf["drop_seeds"])])
        out[f"{k}_test_mean_sd"] = [round(float(t.mean()), 3), round(float(t.std()), 3)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="", help="comma-separated training seeds to add to the shipped one "
                        "(each retrains the localization task into a temporary folder)")
    args = parser.parse_args()
    cpu = torch.device("cpu")
    models, ckpts = {}, {}
    for p in POOLINGS:
        for kind in KINDS:
            models[kind, p], ckpts[kind, p] = load_or_train(f"localization-{kind}{p}", device=cpu)
    conf, seed = ckpts["coarse", 4]["config"], ckpts["coarse", 4]["seed"]
    test = SyntheticPose("test", conf["n_test"], conf["size"], seed)
    data = {"test_images": len(test), "image_size": conf["size"], "command": ckpts["coarse", 4]["command"],
            "train_minutes": {f"{k}{p}": round(ckpts[k, p]["metrics"]["train_seconds"] / 60, 2)
                              for k in KINDS for p in POOLINGS},
            "units": "error: input pixels of the synthetic test images; time: median ms per forward pass; "
                     "differences: mean per-image error (mean over joints) and its 95 % bootstrap interval",
            "floor": floors(test), "seeds": {str(seed): score_seed(models, test)}}
    for extra in [int(s) for s in args.seeds.split(",") if s and int(s) != seed]:
        with tempfile.TemporaryDirectory() as out:
            train_localization(cfg=conf, profile=ckpts["coarse", 4]["profile"], seed=extra, out_dir=out,
                               command="bench/localization.py --seeds")
            other = {(k, p): load_or_train(f"localization-{k}{p}", device=cpu, directory=out)[0]
                     for k in KINDS for p in POOLINGS}
            data["seeds"][str(extra)] = score_seed(other, SyntheticPose("test", conf["n_test"], conf["size"], extra))
        print(f"seed {extra} done")
    data["dropout"] = dropout_study()
    devices = [cpu] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    images = test.images.float() / 255
    data["time_ms"] = {}
    for p in POOLINGS:
        for dev in devices:
            for batch, repeats in ((1, 20), (32, 5)):
                for kind in ("cascade", "standard"):
                    data["time_ms"][f"{kind}{p}_{dev.type}_b{batch}"] = times(
                        models[kind, p], models["coarse", p], images[:batch], dev, repeats)

    def grp(err):
        return group_errors(torch.tensor([err[n] for n in JOINTS]))

    s0 = data["seeds"][str(seed)]["pooling"]
    lines = [f"{len(test)} test images of {conf['size']}×{conf['size']} px (seed {seed}). Error in px, left/right "
             "averaged, mean / median. `longer` = the coarse model trained the cascade's extra epochs with E1 "
             "alone (equal-budget control); `standard` = a cascade with its own early layers on the RGB crop.", "",
             "| model | " + " | ".join(GROUPS) + " | all 9 |", "|---" * (len(GROUPS) + 2) + "|"]
    for p in POOLINGS:
        for name in ("argmax", "subpixel"):
            f = grp(data["floor"][str(p)][name])
            lines.append(f"| {p}x perfect map, {name} | " + " | ".join(f"{f[g]:.2f}" for g in GROUPS)
                         + f" | {sum(data['floor'][str(p)][name].values()) / 9:.2f} |")
        for kind in KINDS:
            e = s0[str(p)][kind]
            mean, med = grp(e["mean_error"]), grp(e["median_error"])
            lines.append(f"| {kind} {p}x | " + " | ".join(f"{mean[g]:.2f} / {med[g]:.2f}" for g in GROUPS)
                         + f" | {sum(e['mean_error'].values()) / 9:.2f} / {sum(e['median_error'].values()) / 9:.2f} |")
    lines += ["", "Paired per-image differences (px, mean [95 % bootstrap interval]; negative: the first is better):",
              "", "| seed | pooling | cascade − longer | cascade − standard | standard − longer |",
              "|---|---|---|---|---|"]
    fmt = "{:+.2f} [{:+.2f}, {:+.2f}]"
    for s, entry in data["seeds"].items():
        for p in POOLINGS:
            e = entry["pooling"][str(p)]
            lines.append(f"| {s} | {p}x | " + " | ".join(fmt.format(*e[k]) for k in (
                "cascade_minus_longer", "cascade_minus_standard", "standard_minus_longer")) + " |")
    d = data["dropout"]
    st = d["setting"]
    lines += ["", f"Dropout study: {st['drop_pooling']}x coarse model, {st['drop_n_train']} training images, "
              f"{st['drop_epochs']} epochs, p = {st['drop_p']}, {st['drop_seeds']} seeds; mean error over joints "
              f"(px), training / test ({st['n_test']} test images per seed):", "",
              "| seed | none | standard | spatial | spatial − standard | spatial − none | standard − none |",
              "|---|---|---|---|---|---|---|"]
    for s, e in d["seeds"].items():
        lines.append(f"| {s} | " + " | ".join(f"{e[k]['train_mean']:.2f} / {e[k]['test_mean']:.2f}"
                                             for k in DROPOUT_KINDS) + " | "
                     + " | ".join(fmt.format(*e[k]) for k in ("spatial_minus_standard", "spatial_minus_none",
                                                              "standard_minus_none")) + " |")
    lines.append("| mean ± sd (test) | " + " | ".join("{:.2f} ± {:.2f}".format(*d[f"{k}_test_mean_sd"])
                                                     for k in DROPOUT_KINDS) + " | | | |")
    lines += ["", "Forward time (median ms): coarse / fine (crop + fine net) / cascade:", "",
              "| setting | " + " | ".join(f"{p}x" for p in POOLINGS) + " |", "|---" * (len(POOLINGS) + 1) + "|"]
    for dev in devices:
        for batch in (1, 32):
            for kind in ("cascade", "standard"):
                cells = " | ".join("{coarse:.1f} / {fine:.1f} / {cascade:.1f}".format(
                    **data["time_ms"][f"{kind}{p}_{dev.type}_b{batch}"]) for p in POOLINGS)
                lines.append(f"| {dev.type}, batch {batch}, {kind} | {cells} |")
    lines += ["", f"Checkpoints: `{data['command']}` and `{d['command']}`."]
    path = write_results("localization", data, "\n".join(lines))
    print("\n".join(lines))
    print("wrote", path)


if __name__ == "__main__":
    main()
