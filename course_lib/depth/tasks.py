"""Training recipes, evaluation and baselines for lecture 05, and ``python -m course_lib.train depth``.

One ``MultiScaleNet`` per scale setting of the slide "Contributions of Scales" (``VARIANTS``: scale 1 only,
scale 2 only, scales 1+2, scales 1+2+3) predicts depth, normals and 4-class labels at once, trained with the sum

    L = L_depth (scale invariant, λ = ½, with gradient term) + w_n · L_normals + w_l · L_labels

on synthetic rooms, with random horizontal flips (the normal's x component flips sign with the image). Every
variant gets the **same budget**: the same rooms, epochs, batch size, learning rate and seed, so the table
compares architectures, not training time.

Baselines a user would try first, with no network at all (:func:`baseline_predictions`): the training set's
mean depth everywhere, and the training set's mean depth of each image row (the "floor at the bottom, wall at
the top" prior of a camera held level); for normals and labels the same per-row statistics (mean normal,
most frequent class).

``train_depth`` writes ``depth-s1.pt``, ``depth-s2.pt``, ``depth-s12.pt``, ``depth-s123.pt`` with the metrics
of :func:`evaluate` on the synthetic test split, measured after rounding the weights to float16 as stored, so
that ``tests/test_depth_checkpoints.py`` can reproduce them.

Lecture: 05_depth
"""

from __future__ import annotations

import pathlib

import torch
from torch.utils.data import DataLoader

from course_lib.core import (
    check_choice,
    check_number,
    check_positive_int,
    check_tensor,
    checkpoint_path,
    fit,
    get_device,
    load_model,
    num_params,
    resolve_device,
    round_to_half,
    save_checkpoint,
    seed_everything,
)

from .losses import labels_loss, normals_loss, scale_invariant_loss
from .metrics import depth_metrics, label_metrics, normal_metrics
from .multiscale import MultiScaleNet
from .rooms import IGNORE_INDEX, SyntheticRooms

VARIANTS = {"s1": (1,), "s2": (2,), "s12": (1, 2), "s123": (1, 2, 3)}
VARIANT_NAMES = {"s1": "scale 1 only", "s2": "scale 2 only", "s12": "scales 1 + 2", "s123": "scales 1 + 2 + 3"}

# Controls for the lecture's explanation of why "scale 2 only" beats "scale 1 only" on 64×48 rooms, each trained at
# the ablation's budget: "s2small" shrinks scale 2's window from 39×39 to 15×15 pixels (1×1 body convolutions), so
# it no longer sees most of the image; "s2wide" widens scale 2 alone until it has as many parameters as scale 1
# alone (:func:`matched_scale2_width`), so that a parameter gap cannot explain the ranking.
CONTROLS = {"s2small": (2,), "s2wide": (2,)}
CONTROL_NAMES = {"s2small": "scale 2, 15×15 window", "s2wide": "scale 2, as many weights as scale 1"}


MODEL_KEYS = ("size", "width", "fc_width", "coarse")


def _scales(name: str) -> tuple[int, ...]:
    return VARIANTS[name] if name in VARIANTS else CONTROLS[name]


def matched_scale2_width(config: dict) -> int:
    """The scale-2 base width at which a "scale 2 only" net has the parameter count closest to "scale 1 only"'s
    for the settings ``config`` (689k against 101k at the fast profile's width 16: width 42 gives 679k).

    Lecture: 05_depth"""
    size = config["size"]
    kwargs = {"image_size": (3 * size // 4, size), "width": config["width"], "fc_width": config["fc_width"],
              "coarse_features": config["coarse"]}
    target = num_params(MultiScaleNet(scales=(1,), **kwargs))
    best, width = None, config["width"]
    while True:
        n = num_params(MultiScaleNet(scales=(2,), scale2_width=width, **kwargs))
        if best is None or abs(n - target) < abs(best[1] - target):
            best = (width, n)
        if n >= target:
            return best[0]
        width += 1


def variant_options(name: str, config: dict) -> dict:
    """The ``MultiScaleNet`` keyword arguments beyond the scales for the variant or control ``name``."""
    if name == "s2small":
        return {"scale2_kernel": 1}
    if name == "s2wide":
        return {"scale2_width": matched_scale2_width(config)}
    return {}

TRAIN_KEYS = ("n_train", "n_test", "epochs", "batch_size", "lr", "lam", "w_normals", "w_labels")


def check_config(cfg: dict, *, training: bool = True) -> dict:
    """Check a "depth" settings row (the profile's, with any ``--set`` overrides) before anything is rendered or
    trained; return it. ``training=False`` checks only what :func:`build_model` reads.

    ``size`` must be a multiple of 32 (rooms are size × 3·size/4 and the net needs multiples of 8), the counts
    and widths ints ≥ 1, ``lr`` > 0, ``lam`` in [0, 1] (the slide's λ), the loss weights ≥ 0, and ``variants``
    a non-empty comma-separated subset of ``VARIANTS``. Lecture: 05_depth
    """
    if not isinstance(cfg, dict):
        raise TypeError(f"cfg must be the 'depth' settings dict (course_lib.settings('depth')), but found "
                        f"{type(cfg).__name__}")
    keys = MODEL_KEYS + (TRAIN_KEYS if training else ())
    missing = [k for k in keys if k not in cfg]
    if missing:
        raise ValueError(f"cfg lacks {missing}: pass the 'depth' settings row, course_lib.settings('depth')")
    for key in ("size", "width", "fc_width", "coarse") + (("n_train", "n_test", "epochs", "batch_size")
                                                         if training else ()):
        check_positive_int(cfg[key], key)
    if cfg["size"] % 32:
        raise ValueError(f"size must be a multiple of 32 (images are size × 3·size/4 and the net needs multiples "
                         f"of 8), but found {cfg['size']}")
    if training:
        check_number(cfg["lr"], "lr", low=0.0, low_open=True)
        check_number(cfg["lam"], "lam", low=0.0, high=1.0, unit="the scale-invariant loss's λ, 0.5 in the paper")
        check_number(cfg["w_normals"], "w_normals", low=0.0)
        check_number(cfg["w_labels"], "w_labels", low=0.0)
        if "variants" in cfg:
            names = [v.strip() for v in str(cfg["variants"]).split(",") if v.strip()]
            if not names:
                raise ValueError(f"variants must name at least one of {tuple(VARIANTS)}, comma-separated, but found "
                                 f"{cfg['variants']!r}")
            for v in names:
                check_choice(v, "variants", tuple(VARIANTS) + tuple(CONTROLS))
            if len(set(names)) != len(names):
                raise ValueError(f"variants must not repeat a name, but found {cfg['variants']!r}")
    return cfg


def flip_batch(batch: dict, flip: torch.Tensor) -> dict:
    """Mirror the images of ``batch`` (a dict of room tensors) where ``flip`` Tensor[B] bool is True.

    Mirroring x negates the x component of the normals (camera frame, x right). Lecture: 05_depth
    """
    B = next(iter(batch.values())).shape[0] if batch else 0
    check_tensor(flip, "flip", shape=(B,), dtype="bool")
    out = {}
    for key, v in batch.items():
        f = flip.view(-1, *([1] * (v.dim() - 1)))  # (B, 1, ...)
        mirrored = v.flip(-1)
        if key == "normals":
            mirrored = mirrored * torch.tensor([-1.0, 1.0, 1.0], device=v.device).view(1, 3, 1, 1)
        out[key] = torch.where(f, mirrored, v)
    return out


def multitask_loss(model: MultiScaleNet, batch: dict, *, lam: float = 0.5, w_normals: float = 1.0,
                   w_labels: float = 1.0, flip: bool = True) -> torch.Tensor:
    """The training loss of one batch of rooms (``rgb``, ``depth``, ``normals``, ``labels``, ``valid``).

    Lecture: 05_depth
    """
    if flip and model.training:
        batch = flip_batch(batch, torch.rand(batch["rgb"].shape[0], device=batch["rgb"].device) < 0.5)
    out = model(batch["rgb"])
    valid = batch["valid"]
    loss = torch.zeros((), device=batch["rgb"].device)
    if "depth" in out:
        loss = loss + scale_invariant_loss(out["depth"].float(), batch["depth"].clamp_min(1e-3).log(), valid,
                                           lam=lam)
    if "normals" in out:
        loss = loss + w_normals * normals_loss(out["normals"].float(), batch["normals"], valid)
    if "labels" in out:
        loss = loss + w_labels * labels_loss(out["labels"].float(), batch["labels"], ignore_index=IGNORE_INDEX)
    return loss


def build_model(config: dict, scales: tuple[int, ...], **options) -> MultiScaleNet:
    """A fresh ``MultiScaleNet`` for the settings ``config`` (a "depth" profile row) and ``scales``; ``options``
    are further ``MultiScaleNet`` keywords (``scale2_width``, ``scale2_kernel``: see :func:`variant_options`).

    Lecture: 05_depth
    """
    check_config(config, training=False)
    size = config["size"]
    return MultiScaleNet(scales=tuple(scales), image_size=(3 * size // 4, size), width=config["width"],
                         fc_width=config["fc_width"], coarse_features=config["coarse"], **options)


def train_model(scales: tuple[int, ...], train_set: SyntheticRooms, *, cfg: dict, seed: int = 0,
                device: torch.device | str = "cpu", options: dict | None = None,
                **fit_kwargs) -> tuple[MultiScaleNet, dict]:
    """Train one scale setting on ``train_set`` with ``cfg`` (epochs, batch_size, lr, lam, w_normals, w_labels);
    return ``(model, history)``. Same seed, same data order, same schedule for every setting (Adam; the learning
    rate drops 10× for the last quarter of the epochs). Lecture: 05_depth"""
    check_config(cfg)
    seed_everything(seed)
    model = build_model(cfg, scales, **(options or {})).to(device)
    loader = DataLoader(train_set, batch_size=cfg["batch_size"], shuffle=True,
                        generator=torch.Generator().manual_seed(seed))

    def loss_fn(m, batch):
        return multitask_loss(m, batch, lam=cfg["lam"], w_normals=cfg["w_normals"], w_labels=cfg["w_labels"])

    # Adam at lr, then lr / 10 for the last quarter of the epochs (when there are at least 4): a step decay
    # settles the weights, as the paper's schedule does.
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg["lr"])
    drop_after = cfg["epochs"] - cfg["epochs"] // 4 if cfg["epochs"] >= 4 else None

    def decay(epoch, history):
        if drop_after is not None and epoch + 1 == drop_after:
            for group in optimizer.param_groups:
                group["lr"] = cfg["lr"] / 10

    history = fit(model, loader, loss_fn, epochs=cfg["epochs"], lr=cfg["lr"], optimizer=optimizer, device=device,
                  callback=decay, **fit_kwargs)
    return model, history


@torch.no_grad()
def predict(model: MultiScaleNet, rgb: torch.Tensor, *, batch_size: int = 64) -> dict:
    """Run ``model`` on Tensor[N, 3, H, W] and return CPU tensors: ``depth`` Tensor[N, 1, H, W] metres (exp of the
    predicted log depth), ``normals`` Tensor[N, 3, H, W] unit, ``labels`` Tensor[N, H, W] int64 (argmax).

    Lecture: 05_depth
    """
    check_positive_int(batch_size, "batch_size")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    parts: dict = {t: [] for t in model.tasks}
    for chunk in rgb.split(batch_size):
        out = model(chunk.to(device))
        for t in model.tasks:
            v = out[t].float().cpu()
            parts[t].append(v.exp() if t == "depth" else v.argmax(1) if t == "labels" else v)
    model.train(was_training)
    return {t: torch.cat(v) for t, v in parts.items()}


def evaluate_predictions(pred: dict, test_set: SyntheticRooms) -> dict:
    """Flat float metrics of predictions (as from :func:`predict`) on ``test_set``: the depth measures of
    :func:`depth_metrics`, ``normals_mean``, ``normals_median``, ``normals_within_11_25`` ... , and the label
    measures ``pixel_acc``, ``mean_acc``, ``mean_iou`` (percent). Tasks missing from ``pred`` are skipped.

    Lecture: 05_depth
    """
    out = {}
    if "depth" in pred:
        out.update(depth_metrics(pred["depth"], test_set.depth, test_set.valid))
    if "normals" in pred:
        out.update({f"normals_{k}": v for k, v in normal_metrics(pred["normals"], test_set.normals,
                                                                  test_set.valid).items()})
    if "labels" in pred:
        out.update(label_metrics(pred["labels"], test_set.labels, test_set.num_classes))
    return out


def evaluate(model: MultiScaleNet, test_set: SyntheticRooms) -> dict:
    """:func:`evaluate_predictions` of ``model``'s predictions on ``test_set``. Lecture: 05_depth"""
    return evaluate_predictions(predict(model, test_set.rgb), test_set)


def baseline_predictions(train_set: SyntheticRooms, n: int) -> dict:
    """Predictions of the two no-network baselines for ``n`` test images, from training-set statistics.

    Returns ``{"mean depth": pred, "per-row mean": pred}`` where each ``pred`` has ``depth`` Tensor[n, 1, H, W]
    (metres), ``normals`` Tensor[n, 3, H, W] and ``labels`` Tensor[n, H, W]. "mean depth" predicts the mean of
    all valid training depths everywhere, the mean normal (normalised) and the most frequent class; "per-row
    mean" does the same per image row.

    Lecture: 05_depth
    """
    check_positive_int(n, "n")
    H, W = train_set.H, train_set.W
    v = train_set.valid.float()  # (N, 1, H, W)
    d, nrm, lab = train_set.depth, train_set.normals, train_set.labels
    counts = torch.stack([((lab == k) & (lab != IGNORE_INDEX)).sum((0, 2)) for k in range(4)])  # (4, H) per row
    row_depth = (d * v).sum((0, 1, 3)) / v.sum((0, 1, 3))  # (H,)
    row_normal = torch.nn.functional.normalize((nrm * v).sum((0, 3)), dim=0)  # (3, H)
    glob_depth = (d * v).sum() / v.sum()
    glob_normal = torch.nn.functional.normalize((nrm * v).sum((0, 2, 3)), dim=0)  # (3,)
    return {
        "mean depth": {"depth": glob_depth.expand(n, 1, H, W).clone(),
                       "normals": glob_normal.view(1, 3, 1, 1).expand(n, 3, H, W).clone(),
                       "labels": counts.sum(1).argmax().expand(n, H, W).clone()},
        "per-row mean": {"depth": row_depth.view(1, 1, H, 1).expand(n, 1, H, W).clone(),
                         "normals": row_normal.view(1, 3, H, 1).expand(n, 3, H, W).clone(),
                         "labels": counts.argmax(0).view(1, H, 1).expand(n, H, W).clone()},
    }


def load_or_train(name: str, *, cfg: dict, seed: int = 0, device: torch.device | str | None = None,
                  progress: bool = False) -> tuple[MultiScaleNet, dict]:
    """Load the shipped checkpoint ``depth-<variant>`` if present, else train that variant now with ``cfg``.

    Parameters
    ----------
    name : {"depth-s1", "depth-s2", "depth-s12", "depth-s123", "depth-s2small", "depth-s2wide"}
    cfg : dict
        The "depth" profile row, used only when the checkpoint is missing.

    Returns
    -------
    model : MultiScaleNet
        In eval mode, on ``device`` (default: :func:`course_lib.get_device`, which honours ``COURSE_DEVICE``).
    info : dict
        ``source`` ("checkpoint" or "trained now"), ``config`` (the settings it was trained with: build the
        matching test split from ``n_test``, ``size`` and ``seed``), ``metrics``, ``command``, ``seed``.

    Lecture: 05_depth
    """
    check_choice(name, "name", tuple(f"depth-{v}" for v in (*VARIANTS, *CONTROLS)))
    variant = name.split("-")[1]
    scales = _scales(variant)
    device = resolve_device(device) if device is not None else get_device()
    path = checkpoint_path(name)
    if path.is_file():
        model, meta = load_model(path, lambda config: build_model(config, scales, **variant_options(variant, config)),
                                 task=name, device=device)
        info = {"source": "checkpoint", "config": meta["config"], "metrics": meta["metrics"],
                "command": meta["command"], "seed": meta["seed"]}
        return model, info
    train_set = SyntheticRooms("train", cfg["n_train"], cfg["size"], seed)
    test_set = SyntheticRooms("test", cfg["n_test"], cfg["size"], seed)
    model, history = train_model(scales, train_set, cfg=cfg, seed=seed, device=device, progress=progress,
                                 options=variant_options(variant, cfg))
    info = {"source": "trained now", "config": dict(cfg), "metrics": evaluate(model, test_set), "command": None,
            "seed": seed}
    return model.eval(), info


def train_depth(*, cfg: dict, profile: str, seed: int, out_dir: pathlib.Path, command: str) -> list[pathlib.Path]:
    """``python -m course_lib.train depth``: train the variants named in ``cfg["variants"]`` (comma-separated
    subset of ``VARIANTS`` and ``CONTROLS``) at equal budget, evaluate them on the synthetic test split, and save
    ``depth-<variant>.pt`` in ``out_dir``. Lecture: 05_depth"""
    check_config(cfg)
    device = get_device()
    names = [v.strip() for v in cfg["variants"].split(",") if v.strip()]
    train_set = SyntheticRooms("train", cfg["n_train"], cfg["size"], seed, device=device)
    test_set = SyntheticRooms("test", cfg["n_test"], cfg["size"], seed, device=device)
    paths = []
    for v in names:
        options = variant_options(v, cfg)
        model, history = train_model(_scales(v), train_set, cfg=cfg, seed=seed, device=device, desc=v, options=options)
        model = round_to_half(model.cpu())
        metrics = evaluate(model, test_set)
        metrics["train_seconds"] = history["seconds"]
        metrics["final_loss"] = history["epoch_loss"][-1]
        print(f"depth-{v}: " + ", ".join(f"{k}={x:.4f}" for k, x in metrics.items()), flush=True)
        paths.append(save_checkpoint(pathlib.Path(out_dir) / f"depth-{v}.pt", model, task=f"depth-{v}",
                                     command=command, profile=profile, seed=seed, metrics=metrics, half=True,
                                     config={**cfg, "scales": list(_scales(v)), **options}))
    return paths
