"""The training tasks behind lecture 03's checkpoints, and ``load_or_train``.

``python -m course_lib.train localization`` (:func:`train_localization`) trains, for each pooling factor, a
coarse model (E1); the same model trained ``cascade_epochs`` longer with E1 alone (the equal-budget control of
the cascade); its shared-feature cascade and a standard cascade (E2, both started from the coarse model). It
saves ``localization-{coarse,longer,cascade,standard}{p}.pt`` with their test metrics (:mod:`.metrics`).
:func:`load_or_train` loads any of them, or trains it now when it is missing.

Every function takes the settings as :class:`~.config.LocalizationSettings` or as its dict form (a profile row, a
checkpoint's ``config``), converted at the boundary (``as_settings``): a misspelt key fails there, naming it.
``python -m course_lib.train localization-dropout`` (:func:`train_dropout_study`) trains the dropout study (no
dropout, standard dropout, SpatialDropout; several seeds) in a setting that over-fits.

Lecture: 03_localization
"""

from __future__ import annotations

import copy
import dataclasses
import os
import pathlib
import re
import time

import torch

from course_lib.core import (
    LivePlot,
    checkpoint_or_train,
    checkpoint_path,
    fit,
    get_device,
    preset,
    round_to_half,
    save_checkpoint,
    seed_everything,
)
from course_lib.core.keypoints import heatmap_loss
from course_lib.core.people import JOINTS, SyntheticPose
from course_lib.core.profiles import as_settings

from .cascade import Cascade, FineModel, cascade_loss
from .coarse import POOLINGS, CoarseModel
from .config import LocalizationSettings
from .metrics import evaluate


def make_datasets(cfg: LocalizationSettings, seed: int, pooling: int) -> dict[str, SyntheticPose]:
    """The train, val and test splits for one pooling factor (heat-map targets at stride ``pooling``).

    Lecture: 03_localization
    """
    cfg = as_settings(LocalizationSettings, cfg)
    kw = {"stride": pooling}
    return {"train": SyntheticPose("train", cfg.n_train, cfg.size, seed, **kw),
            "val": SyntheticPose("val", cfg.n_val, cfg.size, seed, **kw),
            "test": SyntheticPose("test", cfg.n_test, cfg.size, seed, **kw)}


def with_stride(data: dict[str, SyntheticPose], pooling: int) -> dict[str, SyntheticPose]:
    """The same splits with heat-map targets at another stride (σ = one cell), without drawing the people again.

    ``SyntheticPose`` computes its heat maps on access from ``stride`` and ``sigma``; a shallow copy shares
    the images.
    """
    out = {}
    for name, ds in data.items():
        out[name] = copy.copy(ds)
        out[name].stride, out[name].sigma = pooling, float(pooling)
    return out


def build_coarse(cfg: LocalizationSettings, pooling: int, dropout: str | None = "spatial", *,
                 p: float | None = None) -> CoarseModel:
    """A :class:`CoarseModel` with the widths of the ``localization`` row ``cfg`` (drop probability ``cfg.p``
    unless ``p`` is given)."""
    cfg = as_settings(LocalizationSettings, cfg)
    return CoarseModel(len(JOINTS), pooling=pooling, width=cfg.width, dropout=dropout,
                       p=cfg.p if p is None else p)


def build_cascade(cfg: LocalizationSettings, coarse: CoarseModel, *, shared_features: bool = True) -> Cascade:
    """A :class:`Cascade` around ``coarse`` with the fine model and crop of ``cfg``."""
    cfg = as_settings(LocalizationSettings, cfg)
    fine = FineModel(len(JOINTS), in_channels=2 * coarse.width, width=cfg.fine_width)
    return Cascade(coarse, fine, crop=cfg.crop, samples=cfg.samples, shared_features=shared_features)


def train_coarse(cfg: LocalizationSettings, seed: int, pooling: int, *, data: dict | None = None,
                 dropout: str | None = "spatial", epochs: int | None = None, init: CoarseModel | None = None,
                 p: float | None = None, progress: bool = True, live_plot: bool = False) -> tuple[CoarseModel, dict]:
    """Train a coarse model with E1 (weighted heat-map MSE); validate the localization error after every epoch.

    ``init``: start from a copy of these weights (to train a model longer: the cascade's equal-budget control);
    ``p``: drop probability (default ``cfg.p``).

    Returns ``(model, history)``; ``history["eval"][k]["err_mean"]`` is the validation error after epoch k+1.

    Lecture: 03_localization
    """
    cfg = as_settings(LocalizationSettings, cfg)
    seed_everything(seed)
    data = data or make_datasets(cfg, seed, pooling)
    model = build_coarse(cfg, pooling, dropout, p=p)
    if init is not None:
        model.load_state_dict(init.state_dict())
    loader = torch.utils.data.DataLoader(data["train"], batch_size=cfg.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))

    def loss_fn(net, batch):
        return heatmap_loss(net(batch["image"]), batch["heatmaps"])

    def validate(net, history):  # the validation error after each epoch: history["eval"]
        return {"err_mean": evaluate(net, data["val"])["err_mean"]}

    history = fit(model, loader, loss_fn, epochs=epochs or cfg.epochs, lr=cfg.lr, device=get_device(),
                  callback=LivePlot(validate) if live_plot else validate, progress=progress,
                  desc=f"coarse {pooling}x {dropout}")
    return model, history


def train_cascade(cfg: LocalizationSettings, seed: int, coarse: CoarseModel, *, data: dict,
                  shared_features: bool = True, epochs: int | None = None, progress: bool = True
                  ) -> tuple[Cascade, dict]:
    """Train a cascade around (a copy of) a trained coarse model with E2 = E1 + λ·E_fine, coarse and fine jointly.

    Lecture: 03_localization
    """
    cfg = as_settings(LocalizationSettings, cfg)
    seed_everything(seed)
    copy = build_coarse(cfg, coarse.pooling, coarse.dropout)
    copy.load_state_dict(coarse.state_dict())
    model = build_cascade(cfg, copy, shared_features=shared_features)
    loader = torch.utils.data.DataLoader(data["train"], batch_size=cfg.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))

    def loss_fn(net, batch):
        out = net(batch["image"])
        fine_target = net.fine_targets(batch["joints"], out["centres"])  # (B, J, R, R)
        return cascade_loss(out["coarse"], batch["heatmaps"], out["fine"], fine_target, lam=cfg.lam,
                            pos_weight=20.0)

    history = fit(model, loader, loss_fn, epochs=epochs or cfg.cascade_epochs, lr=cfg.lr,
                  device=get_device(), progress=progress, desc=f"cascade {coarse.pooling}x shared={shared_features}")
    return model, history


KINDS = ("coarse", "longer", "cascade", "standard")
"""Shipped models per pooling factor: the coarse model (E1, ``epochs``), the same model trained ``cascade_epochs``
longer with E1 alone (the cascade's equal-budget control), the shared-feature cascade and the standard cascade
(both E2 for ``cascade_epochs``, started from the coarse model)."""
DROPOUT_KINDS = ("none", "standard", "spatial")


def dropout_seeds(directory: str | os.PathLike | None = None) -> list[int]:
    """The training seeds of the dropout study on disk: every ``k`` with all three
    ``localization-dropout-{none,standard,spatial}-s<k>.pt`` in ``directory`` (default ``checkpoints/``), sorted.
    A run ``--seed S --set drop_seeds=N`` adds seeds S to S + N - 1, so several runs make one study.

    Lecture: 03_localization
    """
    folder = pathlib.Path(directory) if directory is not None else checkpoint_path("x").parent
    if directory is not None and not folder.is_dir():
        raise FileNotFoundError(f"directory must be a folder of checkpoints, but {str(folder)!r} is not a folder")
    found = {kind: {int(m.group(1)) for p in folder.glob(f"localization-dropout-{kind}-s*.pt")
                    if (m := re.fullmatch(rf"localization-dropout-{kind}-s(\d+)", p.stem))} for kind in DROPOUT_KINDS}
    return sorted(set.intersection(*found.values()))


def load_or_train(name: str, *, cfg: dict | None = None, seed: int = 0, device: torch.device | str | None = None,
                  directory: str | os.PathLike | None = None, progress: bool = False) -> tuple[torch.nn.Module, dict]:
    """Load the checkpoint ``name`` if present, else train that model now with ``cfg``.

    Parameters
    ----------
    name : str
        ``localization-<kind><pooling>`` with ``kind`` ∈ :data:`KINDS` and ``pooling`` ∈ {4, 8, 16} (a
        :class:`CoarseModel` or a :class:`Cascade`), or ``localization-dropout-<dropout>-s<k>`` with ``dropout`` ∈
        {"none", "standard", "spatial"} (the dropout study's model of training seed ``k``; its training images are
        ``SyntheticPose("train", cfg.drop_n_train, cfg.size, k)``, and ``k`` replaces ``seed``).
    cfg : LocalizationSettings or dict, optional
        The ``localization`` settings to train with when the checkpoint is missing (default: the active profile's).
    seed : int
        Seed of a training run made here.
    device, directory, progress
        Where the model goes, the folder of the checkpoints (default ``checkpoints/``), progress bars.

    Returns
    -------
    (model, info)
        The model in eval mode; ``info``: ``source``, ``config``, ``metrics``, ``command``, ``seed``, ``profile``
        (see :func:`course_lib.core.checkpoint_or_train`).

    Lecture: 03_localization
    """
    cfg = as_settings(LocalizationSettings, preset("localization") if cfg is None else cfg)
    found = re.fullmatch(r"localization-(\w+?)(\d+)", name) if isinstance(name, str) else None
    dropped = re.fullmatch(r"localization-dropout-(\w+)-s(\d+)", name) if isinstance(name, str) else None
    if dropped and dropped[1] in DROPOUT_KINDS:
        dropout, seed = dropped[1], int(dropped[2])
        pooling, kind = cfg.drop_pooling, "coarse"
    elif found and found[1] in KINDS and int(found[2]) in POOLINGS:
        kind, pooling, dropout = found[1], int(found[2]), "spatial"
    else:
        raise ValueError(f"name must be 'localization-<kind><pooling>' (kind in {KINDS}, pooling in {POOLINGS}) or "
                         f"'localization-dropout-<dropout>-s<seed>' (dropout in {DROPOUT_KINDS}), but found {name!r}")
    mode = None if dropout == "none" else dropout

    def build(config: dict) -> torch.nn.Module:
        config = as_settings(LocalizationSettings, config)
        if dropped:
            return build_coarse(config, config.drop_pooling, mode, p=config.drop_p)
        model = build_coarse(config, pooling)
        if kind in ("coarse", "longer"):
            return model
        return build_cascade(config, model, shared_features=kind == "cascade")

    def train():
        if dropped:  # the study's setting: few images, many epochs
            study = dataclasses.replace(cfg, n_train=cfg.drop_n_train, epochs=cfg.drop_epochs)
            data = make_datasets(study, seed, pooling)
            model, _ = train_coarse(study, seed, pooling, data=data, dropout=mode, p=cfg.drop_p, progress=progress)
            return model, dataclasses.asdict(cfg), evaluate(model, data["test"])
        data = make_datasets(cfg, seed, pooling)
        model, _ = train_coarse(cfg, seed, pooling, data=data, progress=progress)
        if kind == "longer":
            model, _ = train_coarse(cfg, seed, pooling, data=data, init=model, epochs=cfg.cascade_epochs,
                                    progress=progress)
        elif kind in ("cascade", "standard"):
            model, _ = train_cascade(cfg, seed, model, data=data, shared_features=kind == "cascade",
                                     progress=progress)
        return model, dataclasses.asdict(cfg), evaluate(model, data["test"])

    return checkpoint_or_train(name, build, train, seed=seed, directory=directory, device=device)


def _save(out_dir, name, model, metrics, **kw) -> pathlib.Path:
    round_to_half(model)
    return save_checkpoint(pathlib.Path(out_dir) / f"{name}.pt", model, task=name, half=True, metrics=metrics, **kw)


def train_localization(*, cfg: LocalizationSettings, profile: str, seed: int, out_dir: pathlib.Path, command: str
                       ) -> list[pathlib.Path]:
    """The ``localization`` task: for 4×, 8×, 16× pooling, the coarse model, its equal-budget control (trained
    ``cascade_epochs`` longer with E1), the shared-feature cascade and the standard cascade.

    Every model sees the same training images in the same order (one seed); the control and both cascades start
    from the same coarse weights and train for the same number of epochs.

    Lecture: 03_localization
    """
    cfg = as_settings(LocalizationSettings, cfg)
    paths = []
    drawn = make_datasets(cfg, seed, POOLINGS[0])
    meta = {"command": command, "profile": profile, "seed": seed, "config": dataclasses.asdict(cfg)}
    for pooling in POOLINGS:
        data = with_stride(drawn, pooling)
        start = time.perf_counter()
        coarse, _ = train_coarse(cfg, seed, pooling, data=data, progress=False)
        coarse_seconds = time.perf_counter() - start
        round_to_half(coarse)  # every model below starts from exactly the weights that are shipped
        metrics = dict(evaluate(coarse, data["test"]), train_seconds=coarse_seconds)
        print(f"coarse {pooling}x: mean error {metrics['err_mean']:.2f} px, median {metrics['med_mean']:.2f}")
        paths.append(_save(out_dir, f"localization-coarse{pooling}", coarse, metrics, **meta))
        start = time.perf_counter()
        longer, _ = train_coarse(cfg, seed, pooling, data=data, init=coarse, epochs=cfg.cascade_epochs,
                                 progress=False)
        metrics = dict(evaluate(longer, data["test"]), train_seconds=time.perf_counter() - start)
        print(f"longer {pooling}x: mean error {metrics['err_mean']:.2f} px, median {metrics['med_mean']:.2f}")
        paths.append(_save(out_dir, f"localization-longer{pooling}", longer, metrics, **meta))
        for kind, shared in (("cascade", True), ("standard", False)):
            start = time.perf_counter()
            cascade, _ = train_cascade(cfg, seed, coarse, data=data, shared_features=shared, progress=False)
            metrics = dict(evaluate(cascade, data["test"]), train_seconds=time.perf_counter() - start)
            print(f"{kind} {pooling}x: mean error {metrics['err_mean']:.2f} px, median {metrics['med_mean']:.2f}")
            paths.append(_save(out_dir, f"localization-{kind}{pooling}", cascade, metrics, **meta))
    return paths


def train_dropout_study(*, cfg: LocalizationSettings, profile: str, seed: int, out_dir: pathlib.Path, command: str
                        ) -> list[pathlib.Path]:
    """The ``localization-dropout`` task: does SpatialDropout regularise where per-pixel dropout does not?

    A setting where regularisation matters: the ``drop_pooling``× coarse model (dropout before its 1×1 layers,
    on maps of ``size / drop_pooling`` cells whose neighbours are correlated) trained for ``drop_epochs`` on only
    ``drop_n_train`` images, with drop probability ``drop_p``: no dropout, standard dropout and SpatialDropout,
    for ``drop_seeds`` seeds (``seed``, ``seed + 1``, ...). A seed fixes the training images, the initial weights
    and the batch order, so the three variants of a seed differ only in their dropout. Saves
    ``localization-dropout-{none,standard,spatial}-s{k}.pt`` with the validation curve, the training error (on
    the first 200 training images) and the test error.

    Lecture: 03_localization
    """
    cfg = as_settings(LocalizationSettings, cfg)
    paths = []
    pooling = cfg.drop_pooling
    study = dataclasses.replace(cfg, n_train=cfg.drop_n_train, epochs=cfg.drop_epochs)
    for k in range(cfg.drop_seeds):
        s = seed + k
        data = make_datasets(study, s, pooling)
        seen = copy.copy(data["train"])
        seen.images, seen.joints = seen.images[:200], seen.joints[:200]
        for kind in DROPOUT_KINDS:
            start = time.perf_counter()
            model, hist = train_coarse(study, s, pooling, data=data, dropout=None if kind == "none" else kind,
                                       p=cfg.drop_p, progress=False)
            metrics = {"train_seconds": time.perf_counter() - start}
            metrics.update({f"curve_e{e + 1}": h["err_mean"] for e, h in enumerate(hist["eval"])})
            round_to_half(model)
            metrics.update(evaluate(model, data["test"]))
            metrics.update({f"train_{k2}": v for k2, v in evaluate(model, seen).items()
                            if k2 in ("err_mean", "med_mean")})
            print(f"seed {s} dropout {kind}: test {metrics['err_mean']:.2f} px (median {metrics['med_mean']:.2f}), "
                  f"train {metrics['train_err_mean']:.2f} px")
            paths.append(_save(out_dir, f"localization-dropout-{kind}-s{s}", model, metrics, command=command,
                               profile=profile, seed=s, config=dataclasses.asdict(cfg)))
    return paths
