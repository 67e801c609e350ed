"""Training recipes for lecture 04 and ``python -m course_lib.train fcn``: FCN-32s/16s/8s and the patch classifier.

The three FCN variants are trained "at once" from scratch with the same data, epochs and seed, so that the
table compares architectures, not budgets (the paper fine-tunes 16s from 32s and 8s from 16s). Loss: pixel-wise
cross-entropy over K classes, ignoring the 255 border, averaged over pixels (the paper sums; with Adam only the
scale of the learning rate changes). Augmentation: random horizontal flips.

Lecture: 04_segmentation
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import torch
import torch.nn.functional as F
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_lib.core import (
    check_choice,
    checkpoint_or_train,
    fit,
    get_device,
    preset,
    resolve_device,
    round_to_half,
    save_checkpoint,
    seed_everything,
)
from course_lib.core.profiles import as_settings

from .config import FCNSettings
from .convolutionalize import PatchClassifier
from .data import SyntheticScenes
from .fcn import FCN, VARIANTS
from .metrics import evaluate_segmentation
from .sliding import sample_patches


def segmentation_loss(model: nn.Module, batch, *, ignore_index: int = 255, flip: bool = True) -> torch.Tensor:
    """Pixel-wise cross-entropy of ``model(images)`` (B, K, H, W) against ``labels`` (B, H, W), 255 ignored.

    ``flip=True`` mirrors a random half of the batch left-right (image and labels together) while training.

    Lecture: 04_segmentation
    """
    images, labels = batch
    if flip and model.training:
        mask = torch.rand(images.shape[0], device=images.device) < 0.5  # (B,)
        images = torch.where(mask[:, None, None, None], images.flip(-1), images)
        labels = torch.where(mask[:, None, None], labels.flip(-1), labels)
    return F.cross_entropy(model(images), labels, ignore_index=ignore_index)


def train_segmenter(model: nn.Module, train: SyntheticScenes, *, epochs: int, batch_size: int, lr: float = 1e-3,
                    seed: int = 0, test: SyntheticScenes | None = None, **fit_kwargs) -> dict:
    """Train an FCN on a scene data set with :func:`course_lib.core.fit`; return fit's history.

    With ``test`` given, mean IU on it is recorded after every epoch (``history["eval"]``).

    Lecture: 04_segmentation
    """
    loader = DataLoader(train, batch_size=batch_size, shuffle=True, generator=torch.Generator().manual_seed(seed))
    validate = None
    if test is not None:
        def validate(m, history):
            return {"mean_iou": evaluate_segmentation(m, test.images, test.labels, train.num_classes)["mean_iou"]}
    return fit(model, loader, segmentation_loss, epochs=epochs, lr=lr, callback=validate, **fit_kwargs)


def patch_loss(model: nn.Module, batch) -> torch.Tensor:
    """Cross-entropy of a patch classifier's (B, K) logits against the centre-pixel classes (B,).

    Lecture: 04_segmentation
    """
    patches, targets = batch
    return F.cross_entropy(model(patches), targets)


def train_patch_classifier(model: PatchClassifier, train: SyntheticScenes, *, n_patches: int, epochs: int,
                           batch_size: int = 128, lr: float = 2e-3, seed: int = 0, **fit_kwargs) -> dict:
    """Train the patch classifier on ``n_patches`` random patches of ``train`` (centre-pixel labels).

    Lecture: 04_segmentation
    """
    gen = torch.Generator().manual_seed(seed)
    patches, targets = sample_patches(train.images, train.labels, n_patches, patch=model.patch, generator=gen)
    loader = DataLoader(TensorDataset(patches, targets), batch_size=batch_size, shuffle=True, generator=gen)
    return fit(model, loader, patch_loss, epochs=epochs, lr=lr, **fit_kwargs)


def scene_metrics(model: nn.Module, test: SyntheticScenes) -> dict:
    """Flat float metrics of ``model`` on ``test``: the four scores, boundary accuracy and per-class IU."""
    s = evaluate_segmentation(model, test.images, test.labels, test.num_classes)
    out = {k: s[k] for k in ("pixel_acc", "mean_acc", "mean_iou", "fw_iou", "boundary_acc")}
    out.update({f"iou_{name}": v for name, v in zip(test.classes, s["per_class_iou"])})
    return out


def patch_metrics(model: PatchClassifier, test: SyntheticScenes, *, seed: int = 0, n: int = 4096) -> dict:
    """Accuracy of the patch classifier on ``n`` patches drawn from ``test``."""
    gen = torch.Generator().manual_seed(seed)
    patches, targets = sample_patches(test.images, test.labels, n, patch=model.patch, generator=gen)
    model.eval()
    with torch.no_grad():
        acc = (model(patches).argmax(1) == targets).float().mean()
    return {"patch_acc": float(acc)}


def load_or_train(name: str, *, cfg: dict | None = None, seed: int = 0, device: torch.device | str | None = None,
                  directory: str | os.PathLike | None = None, progress: bool = False) -> tuple[nn.Module, dict]:
    """Load the checkpoint ``name`` if present, else train that model now with ``cfg``.

    Parameters
    ----------
    name : {"fcn-32s", "fcn-16s", "fcn-8s", "fcn-patch"}
    cfg : dict, optional
        The ``fcn`` settings to train with when the checkpoint is missing (default: the active profile's).
    seed, device, directory, progress
        Seed of a run made here, where the model goes (default :func:`course_lib.get_device`, which honours
        ``COURSE_DEVICE``), the folder of the checkpoints (default ``checkpoints/``), progress bars.

    Returns
    -------
    model : nn.Module
        In eval mode, on ``device``.
    info : dict
        ``source`` ("checkpoint" or "trained now"), ``config`` (the settings the model was trained with: build
        the matching test split from its ``n_test``, ``size``), ``metrics`` (as recorded, or measured now),
        ``command``, ``seed``, ``profile`` (see :func:`course_lib.core.checkpoint_or_train`).

    Lecture: 04_segmentation
    """
    check_choice(name, "name", ("fcn-32s", "fcn-16s", "fcn-8s", "fcn-patch"))
    cfg = as_settings(FCNSettings, preset("fcn") if cfg is None else cfg)

    def train():
        seed_everything(seed)
        train_set = SyntheticScenes("train", cfg.n_train, cfg.size, seed)
        test = SyntheticScenes("test", cfg.n_test, cfg.size, seed)
        config = {**dataclasses.asdict(cfg), "num_classes": train_set.num_classes, "variant": name.split("-")[1]}
        model = _build(name, config).to(resolve_device(device) if device is not None else get_device())
        if name == "fcn-patch":
            train_patch_classifier(model, train_set, n_patches=cfg.n_patches, epochs=cfg.patch_epochs,
                                   seed=seed, progress=progress)
            return model, config, patch_metrics(model.cpu(), test, seed=seed)
        train_segmenter(model, train_set, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                        seed=seed, progress=progress)
        return model, config, scene_metrics(model, test)

    return checkpoint_or_train(name, lambda config: _build(name, config), train, seed=seed, directory=directory,
                               device=device)


def _build(name: str, config: dict) -> nn.Module:
    if name == "fcn-patch":
        return PatchClassifier(config["num_classes"], patch=config["patch"], width=config["width"])
    return FCN(config["num_classes"], config["variant"], config["backbone"], width=config["width"])


def train_fcn(*, cfg: FCNSettings, profile: str, seed: int, out_dir: pathlib.Path, command: str) -> list[pathlib.Path]:
    """Train FCN-32s, 16s, 8s and the patch classifier; save ``fcn-32s.pt`` … ``fcn-patch.pt`` in ``out_dir``.

    ``cfg`` is the "fcn" row of the profile table (with ``--set`` overrides). Metrics are measured on the
    synthetic test split after rounding the weights to float16, so the stored numbers are reproducible from
    the stored weights (``tests/test_segmentation_checkpoints.py`` checks them).

    Lecture: 04_segmentation
    """
    cfg = as_settings(FCNSettings, cfg)
    out_dir = pathlib.Path(out_dir)
    train = SyntheticScenes("train", cfg.n_train, cfg.size, seed)
    test = SyntheticScenes("test", cfg.n_test, cfg.size, seed)
    K = train.num_classes
    paths = []
    for variant in VARIANTS:
        seed_everything(seed)
        model = FCN(K, variant, cfg.backbone, width=cfg.width)
        history = train_segmenter(model, train, epochs=cfg.epochs, batch_size=cfg.batch_size, lr=cfg.lr,
                                  seed=seed, desc=f"fcn-{variant}")
        metrics = scene_metrics(round_to_half(model), test)
        metrics["train_seconds"] = history["seconds"]
        print(f"fcn-{variant}: " + ", ".join(f"{k}={v:.4f}" for k, v in metrics.items()))
        paths.append(save_checkpoint(out_dir / f"fcn-{variant}.pt", model, task=f"fcn-{variant}", command=command,
                                     profile=profile, seed=seed, metrics=metrics, half=True,
                                     config={**dataclasses.asdict(cfg), "variant": variant, "num_classes": K}))
    seed_everything(seed)
    patch_model = PatchClassifier(K, patch=cfg.patch, width=cfg.width)
    history = train_patch_classifier(patch_model, train, n_patches=cfg.n_patches, epochs=cfg.patch_epochs,
                                     seed=seed, desc="patch")
    metrics = {**patch_metrics(round_to_half(patch_model), test, seed=seed), "train_seconds": history["seconds"]}
    print(f"fcn-patch: patch_acc={metrics['patch_acc']:.4f}")
    paths.append(save_checkpoint(out_dir / "fcn-patch.pt", patch_model, task="fcn-patch", command=command,
                                 profile=profile, seed=seed, metrics=metrics, half=True,
                                 config={**dataclasses.asdict(cfg), "num_classes": K}))
    return paths
