"""Benchmark for lecture 03 (efficient localization): the pooling / accuracy / time tradeoff.

Writes bench/results/localization.json and localization.md: for each pooling factor (4, 8, 16), the mean and
median localization error per joint (input pixels of the 64×64 synthetic test split the shipped checkpoints
were scored on) of the coarse model, the shared-feature cascade and the standard (RGB) cascade, next to the
simulated annotators' label noise; and forward times (median ms) of coarse, fine (crop + fine net) and cascade at
batch 1 and 32 on the CPU, and on the GPU when there is one.

Run: ``.venv/bin/python bench/localization.py`` (about a minute on 2 CPU cores; needs the shipped
``checkpoints/localization-*.pt``, made by ``python -m course_lib.train localization``).
"""

from __future__ import annotations

import sys

import torch

sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _common import write_results  # noqa: E402

from course_lib.core import time_fn  # noqa: E402
from course_lib.pose import (  # noqa: E402
    JOINTS,
    SyntheticPose,
    crop_features,
    label_noise,
    load_localization,
    localization_error,
)
from course_lib.pose.localization import GROUPS, group_errors, predict  # noqa: E402

POOLINGS = (4, 8, 16)
KINDS = ("coarse", "cascade", "standard")


def times(cascade, coarse, images: torch.Tensor, device: torch.device, repeats: int) -> dict:
    """Median ms of coarse, fine (crop + fine network on given centres) and the whole cascade."""
    cascade, coarse, x = cascade.to(device), coarse.to(device), images.to(device)
    with torch.no_grad():
        centres = cascade(x)["centres"]
        sources = cascade.coarse.features(x) if cascade.shared_features else [x - 0.5]
    strides = cascade.coarse.feature_strides if cascade.shared_features else (1,)

    def fine():
        crops = crop_features(sources, strides, centres, crop=cascade.crop, size=cascade.samples)
        return cascade.fine(crops, joints_per_image=len(JOINTS))

    fns = {"coarse": lambda: coarse(x), "fine": fine, "cascade": lambda: cascade(x)}
    return {k: round(time_fn(f, warmup=2, repeats=repeats, device=device)["median_ms"], 3) for k, f in fns.items()}


def main() -> None:
    torch.set_num_threads(max(1, torch.get_num_threads()))
    cpu = torch.device("cpu")
    models, ckpts = {}, {}
    for p in POOLINGS:
        for kind in KINDS:
            models[kind, p], ckpts[kind, p] = load_localization(p, kind, device=cpu)
    conf, seed = ckpts["coarse", 4]["config"], ckpts["coarse", 4]["seed"]
    test = SyntheticPose("test", conf["n_test"], conf["size"], seed)
    images, joints = test.images.float() / 255, test.joints
    noise = label_noise(joints, n_annotators=5, seed=0)
    data = {"test_images": len(test), "image_size": conf["size"], "command": ckpts["coarse", 4]["command"],
            "units": "error: input pixels of the synthetic test images; time: median ms per forward pass",
            "label_noise": {n: round(float(v), 3) for n, v in zip(JOINTS, noise)}, "pooling": {}}
    devices = [cpu] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for p in POOLINGS:
        entry = {}
        for kind in KINDS:
            pred = predict(models[kind, p], images)
            entry[kind] = {
                "mean_error": {n: round(float(v), 3) for n, v in zip(JOINTS, localization_error(pred, joints))},
                "median_error": {n: round(float(v), 3) for n, v in
                                 zip(JOINTS, localization_error(pred, joints, reduction="median"))},
            }
        for dev in devices:
            for batch, repeats in ((1, 20), (32, 5)):
                x = images[:batch]
                for kind in ("cascade", "standard"):
                    entry[kind][f"time_ms_{dev.type}_b{batch}"] = times(models[kind, p], models["coarse", p], x, dev,
                                                                        repeats)
        data["pooling"][str(p)] = entry
        print(f"{p}x done")

    def grp(err):
        return group_errors(torch.tensor([err[n] for n in JOINTS]))

    lines = ["Localization error (px on 64×64 images; left/right averaged), mean | median:", "",
             "| model | " + " | ".join(GROUPS) + " | all 9 |", "|---" * (len(GROUPS) + 2) + "|",
             "| label noise (5 simulated annotators) | " + " | ".join(f"{v:.2f}" for v in group_errors(noise).values())
             + f" | {float(noise.mean()):.2f} |"]
    for kind in KINDS:
        for p in POOLINGS:
            e = data["pooling"][str(p)][kind]
            mean, med = grp(e["mean_error"]), grp(e["median_error"])
            cells = " | ".join(f"{mean[g]:.2f} / {med[g]:.2f}" for g in GROUPS)
            lines.append(f"| {kind} {p}x | {cells} | {sum(e['mean_error'].values()) / 9:.2f} / "
                         f"{sum(e['median_error'].values()) / 9:.2f} |")
    lines += ["", "Forward time (median ms): coarse / fine (crop + fine net) / cascade:", "",
              "| setting | " + " | ".join(f"{p}x" for p in POOLINGS) + " |", "|---" * (len(POOLINGS) + 1) + "|"]
    for dev in devices:
        for batch in (1, 32):
            for kind in ("cascade", "standard"):
                key = f"time_ms_{dev.type}_b{batch}"
                fmt = "{coarse:.1f} / {fine:.1f} / {cascade:.1f}"
                cells = " | ".join(fmt.format(**data["pooling"][str(p)][kind][key]) for p in POOLINGS)
                lines.append(f"| {dev.type}, batch {batch}, {kind} | {cells} |")
    lines += ["", f"Checkpoints: `{data['command']}`."]
    path = write_results("localization", data, "\n".join(lines))
    print("\n".join(lines))
    print("wrote", path)


if __name__ == "__main__":
    main()
