"""Training and evaluating lecture 06's restoration nets; ``python -m course_lib.train restoration``.

One checkpoint per model, ``checkpoints/restoration-<kind>.pt``, each made by its own command
(``--set models=<kind>``) so that each records exactly how it was made:

* ``"dncnn25"``: ``DnCNN`` trained at σ = 25 (DnCNN-S of Zhang et al. 2017, smaller);
* ``"blind"``: the same net trained blind, σ uniform in [0, ``sigma_max``] per patch (DnCNN-B);
* ``"mlp"``: ``PatchMLP`` at σ = 25 (Burger et al. 2012, much smaller);
* ``"deblur"``: ``RestorationNet`` on blurred images, blind to the kernel (Schuler et al. 2014's question);
* ``"nonblind"``: ``NonBlindDeblur``, a ``RestorationNet`` refining Richardson–Lucy with the true kernel
  (Schuler et al. CVPR 2013): the same information as the classical deconvolutions;
* ``"inpaint"``: ``RestorationNet`` with the mask as an extra input (Köhler et al. 2014), colour;
* ``"window"``: ``RestorationNet`` on photos through dirt or rain (Eigen, Krishnan, Fergus 2013), colour;
* ``"budget"``: the ``dncnn25`` recipe as one run that saves a checkpoint after each step count of
  ``snapshots`` (``restoration-budget-<steps>.pt``): the training-budget curve of lecture 06; the run
  ends at the last snapshot, its cosine schedule still planned over all ``epochs``;
* ``"plain"``, ``"nobn"``: the budget run's recipe and snapshots with a DnCNN that predicts the image instead of
  the noise (``residual=False``), or has no batch norm (``batch_norm=False``): ``restoration-plain-<steps>.pt``,
  ``restoration-nobn-<steps>.pt``, the controls for DnCNN's two claims, at the same budget step for step.

Every model trains on random patches of the training photos (``PhotoPatches``), each batch corrupted afresh
by a generator seeded from the run's seed (so a run is reproducible), with Adam and a cosine learning-rate
decay over the epochs, L2 loss on the restored image. :func:`evaluate` measures PSNR and SSIM on the centre
``crop × crop`` of the held-out photos ``TEST_PHOTOS``, corrupted by a fixed generator; the checkpoint records
those numbers and tests/test_restoration_checkpoints.py re-measures them.

Lecture: 06_restoration
"""

from __future__ import annotations

import dataclasses
import math
import os
import pathlib
from collections.abc import Mapping

import torch
from torch.utils.data import DataLoader

from course_lib.core import (
    LivePlot,
    check_choice,
    checkpoint_or_train,
    fit,
    get_device,
    load_checkpoint,
    round_to_half,
    save_checkpoint,
)
from course_lib.core.checkpoints import checkpoint_path
from course_lib.core.profiles import as_settings, preset

from .config import RestorationSettings
from .corruptions import add_gaussian_noise
from .deconv import NonBlindDeblur
from .dncnn import DnCNN, denoise
from .metrics import psnr, ssim
from .nets import RestorationNet, apply_net
from .patch_mlp import PatchMLP
from .photos import TEST_PHOTOS, PhotoPatches, load_photo
from .recipes import CONDITIONS, corrupt_eval, corrupt_train
from .tiling import margin_of, run_tiled

KINDS = ("dncnn25", "blind", "mlp", "deblur", "inpaint", "window", "budget", "nonblind", "plain", "nobn")
SNAPSHOT_RUNS = ("budget", "plain", "nobn")  # kinds saved as restoration-<kind>-<steps>.pt
DENOISERS = ("dncnn25", "blind", "mlp") + SNAPSHOT_RUNS
EVAL_SIGMAS = (15, 25, 50)
EVAL_SEED = 2026  # the corruption of the evaluation crops (never used in training)
RECORDED = ("kind", "device")  # what a checkpoint's config records beside the settings


def restoration_settings(cfg=None) -> RestorationSettings:
    """``cfg`` as the typed ``restoration`` settings: ``None`` is the active profile's preset; a dict (a settings
    row, or a checkpoint's ``config``, whose ``kind`` and ``device`` are records, not settings) is checked field by
    field, so a misspelt key fails here, naming the fields, instead of deep inside a run. Lecture: 06_restoration"""
    if cfg is None:
        return preset("restoration")
    if isinstance(cfg, Mapping):
        cfg = {k: v for k, v in cfg.items() if k not in RECORDED}
    return as_settings(RestorationSettings, cfg)


def is_colour(kind: str) -> bool:
    """Inpainting and window nets work on colour photos; the denoisers and the deblurrer on grey ones."""
    return kind in ("inpaint", "window")


def build_model(kind: str, *, cfg: RestorationSettings | dict) -> torch.nn.Module:
    """A fresh model for ``kind`` with the widths of ``cfg`` (the profile row). Lecture: 06_restoration"""
    check_choice(kind, "kind", KINDS)
    cfg = restoration_settings(cfg)
    if kind in ("dncnn25", "blind", "budget", "plain", "nobn"):
        return DnCNN(channels=1, depth=cfg.depth, width=cfg.width, residual=kind != "plain",
                     batch_norm=kind != "nobn")
    if kind == "mlp":
        return PatchMLP(patch=cfg.mlp_patch, hidden=cfg.mlp_hidden, layers=cfg.mlp_layers)
    if kind == "nonblind":
        return NonBlindDeblur(channels=1, depth=cfg.depth, width=cfg.width)
    channels = 3 if is_colour(kind) else 1
    return RestorationNet(channels=channels, extra=1 if kind == "inpaint" else 0, depth=cfg.depth,
                          width=cfg.width)


def make_corrupt(kind: str, *, cfg: RestorationSettings | dict):
    """The training corruption of ``kind``: ``corrupt(x, generator) -> (inputs, target)`` where ``inputs`` is
    what the model is called with (a tensor, or a tuple for the inpainting net). Lecture: 06_restoration"""
    check_choice(kind, "kind", KINDS)
    cfg = restoration_settings(cfg)
    if kind in ("dncnn25", "mlp") + SNAPSHOT_RUNS:
        return lambda x, g: (add_gaussian_noise(x, cfg.sigma, generator=g), x)
    if kind == "blind":
        def corrupt_blind(x, g):
            sigma = torch.rand(x.shape[0], generator=g) * cfg.sigma_max  # (N,) one σ per patch
            return add_gaussian_noise(x, sigma.to(x.device), generator=g), x
        return corrupt_blind
    return lambda x, g: corrupt_train(kind, x, g)


def train_model(kind: str, *, cfg: RestorationSettings | dict, seed: int = 0, device: torch.device | str = "cpu",
                progress: bool = True, live_plot: bool = False, on_epoch=None, stop_after: int | None = None):
    """Train one model of ``KINDS`` as described in the module docstring; return ``(model, history)``.

    ``cfg`` holds ``n_patches, patch, epochs, batch_size, lr, width, depth, sigma, sigma_max``, the PatchMLP
    sizes (the profile row) and ``init``: a kind whose shipped checkpoint the model starts from ("" = scratch).
    ``on_epoch(model, epoch, history)``, optional, is called after every epoch (the budget run's snapshots).
    ``stop_after``, optional: train only that many epochs of a schedule still planned over ``cfg.epochs``.

    Lecture: 06_restoration
    """
    cfg = restoration_settings(cfg)
    torch.manual_seed(seed)
    model = build_model(kind, cfg=cfg)
    if cfg.init:  # fine-tune from a shipped checkpoint of the same architecture (e.g. blind from dncnn25)
        load_checkpoint(checkpoint_path(f"restoration-{cfg.init}"), model)
    model = model.to(device)
    patch = cfg.mlp_patch if kind == "mlp" else cfg.patch
    data = PhotoPatches(cfg.n_patches, patch, grey=not is_colour(kind), seed=seed)
    loader = DataLoader(data, batch_size=cfg.batch_size, shuffle=True, drop_last=True,
                        generator=torch.Generator().manual_seed(seed))
    corrupt = make_corrupt(kind, cfg=cfg)
    g = torch.Generator().manual_seed(seed + 1)  # corruptions are drawn on the CPU, then moved

    def loss_fn(model, x):
        inputs, target = corrupt(x, g)
        out = model(*inputs) if isinstance(inputs, tuple) else model(inputs)
        return torch.mean((out - target) ** 2)

    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    epochs = cfg.epochs
    # cosine decay from lr to lr/100 over the epochs, stepped once per epoch
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimizer, lambda e: 0.01 + 0.99 * 0.5 * (1 + math.cos(math.pi * min(e, epochs) / epochs)))
    def after_epoch(net, h):  # fit's callback: step the schedule, then the caller's hook (the budget run's snapshots)
        schedule.step()
        if on_epoch is not None:
            on_epoch(model, len(h["epoch_loss"]) - 1, h)

    history = fit(model, loader, loss_fn, epochs=epochs if stop_after is None else stop_after, optimizer=optimizer,
                  device=device, progress=progress, desc=kind,
                  callback=LivePlot(after_epoch) if live_plot else after_epoch)
    return model, history


def eval_images(*, colour: bool, crop: int) -> torch.Tensor:
    """Centre ``crop × crop`` of each held-out photo: Tensor[len(TEST_PHOTOS), C, crop, crop].

    Lecture: 06_restoration
    """
    return torch.stack([load_photo(name, grey=not colour, size=crop) for name in TEST_PHOTOS])


def noisy_eval(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """The evaluation noise at σ (0-255 units): fixed by ``EVAL_SEED`` and σ. Lecture: 06_restoration"""
    g = torch.Generator().manual_seed(EVAL_SEED + int(round(sigma)))
    return add_gaussian_noise(x, sigma, generator=g)


def restore(kind: str, model: torch.nn.Module, inputs, *, tile: int | None = None) -> torch.Tensor:
    """Run a trained model of ``kind`` on ``inputs`` (as made by its corruption) in eval mode; clipped to [0, 1].
    Images over a megapixel run in overlapping tiles, with the same result (``tiling.run_tiled``).

    Lecture: 06_restoration
    """
    if kind in ("dncnn25", "blind") + SNAPSHOT_RUNS:
        return denoise(model, inputs, tile=tile)
    if kind == "mlp":
        return run_tiled(model.denoise, inputs, tile=tile, **margin_of(model))
    return apply_net(model, inputs, tile=tile)


def evaluate(kind: str, model: torch.nn.Module, *, crop: int) -> dict:
    """PSNR / SSIM (means over ``TEST_PHOTOS``' centre crops) of ``model`` and of its corrupted input.

    Denoisers: keys ``psnr_<σ>``, ``ssim_<σ>``, ``psnr_noisy_<σ>`` for σ in ``EVAL_SIGMAS``. Other kinds:
    ``psnr_<c>``, ``ssim_<c>``, ``psnr_input_<c>``, ``ssim_input_<c>`` for each evaluation condition c of
    ``recipes.CONDITIONS[kind]``.

    Lecture: 06_restoration
    """
    check_choice(kind, "kind", KINDS)
    x = eval_images(colour=is_colour(kind), crop=crop)
    out = {}
    if kind in DENOISERS:
        for s in EVAL_SIGMAS:
            y = noisy_eval(x, s)
            xh = restore(kind, model, y)
            out[f"psnr_{s}"] = float(psnr(xh, x).mean())
            out[f"ssim_{s}"] = float(ssim(xh, x).mean())
            out[f"psnr_noisy_{s}"] = float(psnr(y.clamp(0, 1), x).mean())
        return out
    for cond in CONDITIONS[kind]:
        inputs, shown = corrupt_eval(kind, cond, x)
        xh = restore(kind, model, inputs)
        out[f"psnr_{cond}"] = float(psnr(xh, x).mean())
        out[f"ssim_{cond}"] = float(ssim(xh, x).mean())
        out[f"psnr_input_{cond}"] = float(psnr(shown, x).mean())
        out[f"ssim_input_{cond}"] = float(ssim(shown, x).mean())
        if kind == "nonblind":  # the net's starting point: its own Richardson–Lucy
            out[f"psnr_rl_{cond}"] = float(psnr(model.deconvolve(*inputs).clamp(0, 1), x).mean())
    return out


def load_or_train(name: str, *, cfg: RestorationSettings | dict | None = None, seed: int = 0,
                  device: torch.device | str | None = None,
                  directory: str | os.PathLike | None = None, progress: bool = False) -> tuple[torch.nn.Module, dict]:
    """Load the checkpoint ``name`` if present, else train that model now with ``cfg``.

    Parameters
    ----------
    name : str
        ``restoration-<kind>`` for ``kind`` in :data:`KINDS`, or a snapshot of a budget run,
        ``restoration-<kind>-<steps>`` (kind in ``SNAPSHOT_RUNS``, steps as five digits, e.g.
        ``restoration-budget-00250``; :func:`budget_steps` lists the shipped ones).
    cfg : RestorationSettings or dict, optional
        The ``restoration`` settings to train with when the checkpoint is missing (default: the active
        profile's); a missing snapshot is trained for ``cfg.epochs``, not stopped at its step count.
    seed, device, directory, progress
        Seed of a run made here, where the model goes (default ``course_lib.get_device()``, which honours
        ``COURSE_DEVICE``), the folder of the checkpoints (default ``checkpoints/``), progress bars.

    Returns
    -------
    (model, info)
        The model in eval mode; ``info``: ``source``, ``config``, ``metrics``, ``command``, ``seed``, ``profile``
        (see :func:`course_lib.core.checkpoint_or_train`).

    Lecture: 06_restoration
    """
    kind, _, steps = name[len("restoration-"):].partition("-") if isinstance(name, str) else ("", "", "")
    if not (isinstance(name, str) and name.startswith("restoration-") and kind in KINDS
            and (kind in SNAPSHOT_RUNS) == bool(steps) and (not steps or (steps.isdigit() and len(steps) == 5))):
        raise ValueError(f"name must be 'restoration-<kind>' with kind in {KINDS}, or 'restoration-<kind>-<steps>' "
                         f"(five digits) with kind in {SNAPSHOT_RUNS}; but found {name!r}")
    cfg = restoration_settings(cfg)

    def train():
        model, _ = train_model(kind, cfg=cfg, seed=seed, device=get_device() if device is None else device,
                               progress=progress)
        return model, dataclasses.asdict(cfg), evaluate(kind, model, crop=cfg.eval_crop)

    return checkpoint_or_train(name, lambda config: build_model(kind, cfg=config), train, seed=seed,
                               directory=directory, device=device)


def budget_steps(kind: str = "budget") -> list[int]:
    """Step counts of the shipped snapshots of run ``kind`` (``checkpoints/restoration-<kind>-*.pt``), sorted.

    Lecture: 06_restoration
    """
    check_choice(kind, "kind", SNAPSHOT_RUNS)
    return sorted(int(p.stem.rsplit("-", 1)[1])
                  for p in checkpoint_path("x").parent.glob(f"restoration-{kind}-[0-9]*.pt"))


def check_config(cfg: RestorationSettings | dict) -> None:
    """Checked by ``python -m course_lib.train restoration`` before any training: every name in ``models`` is one
    of ``KINDS``, and the budget run's ``snapshots`` fit its epochs (:func:`snapshot_steps`). Lecture: 06_restoration"""
    cfg = restoration_settings(cfg)
    kinds = [k.strip() for k in str(cfg.models).split(",") if k.strip()]
    for k in kinds:
        check_choice(k, "models", KINDS)
    if any(k in SNAPSHOT_RUNS for k in kinds):
        snapshot_steps(cfg)


def train_restoration(*, cfg: RestorationSettings | dict, profile: str, seed: int, out_dir: pathlib.Path,
                      command: str) -> list[pathlib.Path]:
    """``python -m course_lib.train restoration``: train the models named in ``cfg.models`` (comma-separated
    subset of ``KINDS``), evaluate them on the held-out crops, save ``restoration-<kind>.pt`` in ``out_dir``.

    Lecture: 06_restoration
    """
    cfg = restoration_settings(cfg)
    device = get_device()
    kinds = [k.strip() for k in cfg.models.split(",") if k.strip()]
    for k in kinds:
        check_choice(k, "models", KINDS)
    paths = []
    for kind in kinds:
        if kind in SNAPSHOT_RUNS:
            paths += train_budget(cfg=cfg, profile=profile, seed=seed, out_dir=out_dir, command=command, kind=kind)
            continue
        model, history = train_model(kind, cfg=cfg, seed=seed, device=device)
        round_to_half(model.cpu().eval())  # evaluate the weights exactly as the float16 checkpoint will store them
        metrics = evaluate(kind, model, crop=cfg.eval_crop)
        metrics["final_loss"] = history["epoch_loss"][-1]
        metrics["train_minutes"] = history["seconds"] / 60
        print(kind, {k: round(v, 4) for k, v in metrics.items()}, flush=True)
        paths.append(save_checkpoint(pathlib.Path(out_dir) / f"restoration-{kind}.pt", model,
                                     task=f"restoration-{kind}", command=command, profile=profile, seed=seed,
                                     metrics=metrics, half=True,
                                     config={**dataclasses.asdict(cfg), "kind": kind, "device": str(device)}))
    return paths


def snapshot_steps(cfg: RestorationSettings | dict) -> list[int]:
    """The step counts at which the budget run saves a checkpoint: ``cfg.snapshots``, comma-separated, each a
    multiple of the steps per epoch (``n_patches // batch_size``) and at most the run's length.

    Lecture: 06_restoration
    """
    cfg = restoration_settings(cfg)
    per_epoch = cfg.n_patches // cfg.batch_size
    try:
        steps = sorted({int(s) for s in str(cfg.snapshots).split(",") if s.strip()})
    except ValueError:
        raise ValueError(f"snapshots must be comma-separated step counts, but found {cfg.snapshots!r}") from None
    bad = [s for s in steps if s <= 0 or s % per_epoch or s > per_epoch * cfg.epochs]
    if not steps or bad:
        raise ValueError(f"snapshots must be multiples of the {per_epoch} steps per epoch, up to "
                         f"{per_epoch * cfg.epochs} steps; got {cfg.snapshots!r}")
    return steps


def train_budget(*, cfg: RestorationSettings | dict, profile: str, seed: int, out_dir: pathlib.Path, command: str,
                 kind: str = "budget") -> list[pathlib.Path]:
    """The training-budget curve: one ``dncnn25``-recipe run (cosine decay planned over all ``epochs``) that
    evaluates and saves ``restoration-<kind>-<steps>.pt`` after each step count of :func:`snapshot_steps`, and
    ends at the last one. Each file records its ``steps`` and the minutes trained so far. ``kind`` in
    ``SNAPSHOT_RUNS``: "budget" (DnCNN), or its controls "plain" and "nobn". Lecture: 06_restoration"""
    import copy
    import time

    cfg = restoration_settings(cfg)
    device = get_device()
    steps = snapshot_steps(cfg)
    per_epoch = cfg.n_patches // cfg.batch_size
    paths: list[pathlib.Path] = []
    start = time.perf_counter()

    def on_epoch(model, epoch, history):
        done = (epoch + 1) * per_epoch
        if done not in steps:
            return
        minutes = (time.perf_counter() - start) / 60  # training so far (earlier snapshots' evaluations included)
        snap = round_to_half(copy.deepcopy(model).cpu().eval())
        metrics = evaluate(kind, snap, crop=cfg.eval_crop)
        metrics.update(steps=done, final_loss=history["epoch_loss"][-1], train_minutes=minutes)
        print(kind, {k: round(v, 4) for k, v in metrics.items()}, flush=True)
        paths.append(save_checkpoint(pathlib.Path(out_dir) / f"restoration-{kind}-{done:05d}.pt", snap,
                                     task=f"restoration-{kind}-{done:05d}", command=command, profile=profile,
                                     seed=seed, metrics=metrics, half=True,
                                     config={**dataclasses.asdict(cfg), "kind": kind, "device": str(device)}))
        model.train()

    train_model(kind, cfg=cfg, seed=seed, device=device, progress=False, on_epoch=on_epoch,
                stop_after=steps[-1] // per_epoch)
    return paths
