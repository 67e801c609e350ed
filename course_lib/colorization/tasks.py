"""Training and evaluating the three colorization models of the slides: L2, classification, rebalanced.

Zhang, Isola, Efros, ECCV 2016, sections 2-3. The three models share ``ColorizationNet``'s body and differ only
in head and loss:

* ``"l2"``: regression head, ``l2_loss`` against the true ab;
* ``"class"``: Q-bin head, ``multinomial_cross_entropy`` against soft-encoded targets (k = 5, σ = 5);
* ``"rebal"``: the same, with every pixel weighted by ``rebalance_weights`` of the training prior (λ = 1/2).

Targets live at the prediction's 1/4 resolution (the true ab average-pooled by 4, as the released code
downsamples the ab it encodes); evaluation is at full resolution (prediction upsampled, the input's L kept).

``python -m course_lib.train colorization`` runs :func:`train_colorization`, which writes the shipped
checkpoints ``colorization-l2.pt``, ``colorization-class.pt`` and ``colorization-rebal.pt`` with the metrics
of :func:`evaluate` on the synthetic test split.

Lecture: 07_colorization
"""

from __future__ import annotations

import dataclasses
import os
import pathlib

import torch
import torch.nn.functional as F
from torch.utils.data import DataLoader

from course_lib.core import (
    LivePlot,
    check_choice,
    check_seed,
    checkpoint_or_train,
    fit,
    get_device,
    preset,
    round_to_half,
    save_checkpoint,
)
from course_lib.core.profiles import as_settings

from .bins import ab_bins
from .config import ColorizationSettings
from .data import SyntheticColorScenes
from .decode import TEMPERATURE
from .encoding import soft_encode
from .lab import lab_to_rgb, rgb_to_lab
from .losses import l2_loss, multinomial_cross_entropy
from .metrics import accuracy_auc, hsv_saturation, inverse_prior_weights, mean_chroma
from .net import STRIDE, ColorizationNet, predict_ab
from .rebalance import empirical_prior, pixel_weights, rebalance_weights

KINDS = ("l2", "class", "rebal")


def split_lab(rgb: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """sRGB batch → (L Tensor[B, 1, H, W] in [0, 100], ab Tensor[B, 2, H, W]). Lecture: 07_colorization"""
    lab = rgb_to_lab(rgb)  # (B, 3, H, W)
    return lab[:, :1], lab[:, 1:]


def pooled_ab(ab: torch.Tensor) -> torch.Tensor:
    """The true ab at the prediction's resolution: Tensor[B, 2, H, W] → Tensor[B, 2, H/4, W/4] (box average).

    Lecture: 07_colorization
    """
    return F.avg_pool2d(ab, STRIDE)


def training_prior(dataset: SyntheticColorScenes, bins: torch.Tensor, *, sigma: float = 5.0) -> torch.Tensor:
    """The smoothed empirical prior p̃ over bins of the training set's ab at 1/4 resolution: Tensor[Q].

    Lecture: 07_colorization
    """
    rgb, _, _ = dataset.tensors()
    return empirical_prior((pooled_ab(split_lab(chunk)[1]) for chunk in rgb.split(256)), bins, sigma=sigma)


def make_loss(kind: str, *, bins: torch.Tensor, weights: torch.Tensor | None = None, k: int = 5,
              sigma: float = 5.0):
    """The ``loss_fn(model, batch)`` that ``fit`` calls for one of ``KINDS``.

    ``weights`` (Tensor[Q], from ``rebalance_weights``) is required for ``"rebal"`` and ignored otherwise.

    Lecture: 07_colorization
    """
    check_choice(kind, "kind", KINDS)
    if kind == "rebal" and weights is None:
        raise ValueError("kind 'rebal' needs weights (Tensor[Q] from rebalance_weights); got None")

    def loss_fn(model, batch):
        L, ab = split_lab(batch["rgb"])  # (B, 1, H, W), (B, 2, H, W)
        ab_q = pooled_ab(ab)  # (B, 2, H/4, W/4)
        out = model(L)
        if kind == "l2":
            return l2_loss(out, ab_q)
        target = soft_encode(ab_q, bins, k=k, sigma=sigma)  # (B, Q, H/4, W/4)
        v = pixel_weights(ab_q, bins, weights) if kind == "rebal" else None  # (B, H/4, W/4)
        return multinomial_cross_entropy(out, target, v)

    return loss_fn


def build_model(kind: str, *, width: int) -> ColorizationNet:
    """A fresh ``ColorizationNet`` for ``kind``: regression head for ``"l2"``, class head otherwise.

    Lecture: 07_colorization
    """
    check_choice(kind, "kind", KINDS)
    return ColorizationNet(width=width, head="regression" if kind == "l2" else "class")


def train_model(kind: str, train_set: SyntheticColorScenes, *, cfg: ColorizationSettings,
                device: torch.device | str | None = None, prior: torch.Tensor | None = None, progress: bool = True,
                live_plot: bool = False, seed: int = 0):
    """Train one model of ``KINDS`` on ``train_set`` with ``fit``; return ``(model, history)``.

    ``cfg`` holds ``width, epochs, batch_size, lr, k, sigma, lam`` (the profile row); ``prior`` is the
    training prior (computed from ``train_set`` when needed and not given). ``device`` defaults to
    :func:`course_lib.get_device` (which honours ``COURSE_DEVICE``); ``seed`` fixes the order of the shuffled
    batches (the weights' initialisation follows torch's global seed).

    Lecture: 07_colorization
    """
    cfg = as_settings(ColorizationSettings, cfg)
    device = torch.device(device) if device is not None else get_device()
    bins = ab_bins().to(device)
    weights = None
    if kind == "rebal":
        prior = training_prior(train_set, bins, sigma=cfg.sigma) if prior is None else prior
        weights = rebalance_weights(prior.to(device), lam=cfg.lam)
    model = build_model(kind, width=cfg.width).to(device)
    loader = DataLoader(train_set, batch_size=cfg.batch_size, shuffle=True,
                        generator=torch.Generator().manual_seed(check_seed(seed)))
    loss_fn = make_loss(kind, bins=bins, weights=weights, k=cfg.k, sigma=cfg.sigma)
    history = fit(model, loader, loss_fn, epochs=cfg.epochs, lr=cfg.lr, device=device, progress=progress,
                  callback=LivePlot() if live_plot else None, desc=kind)
    return model, history


@torch.no_grad()
def predict_full(model: ColorizationNet, rgb: torch.Tensor, *, T: float = TEMPERATURE,
                 batch_size: int = 64) -> torch.Tensor:
    """Predicted ab at the input's resolution for a batch of (colour or grey) sRGB images.

    ``rgb`` is Tensor[B, 3, H, W] in [0, 1] (only its L is used); returns Tensor[B, 2, H, W] on ``rgb``'s device.

    Lecture: 07_colorization
    """
    device = next(model.parameters()).device
    model.eval()
    out = []
    for chunk in rgb.split(batch_size):
        L = rgb_to_lab(chunk.to(device))[:, :1]  # (b, 1, H, W)
        ab = predict_ab(model, L, T=T)  # (b, 2, H/4, W/4)
        out.append(F.interpolate(ab, size=L.shape[-2:], mode="bilinear", align_corners=False).to(rgb.device))
    return torch.cat(out)  # (B, 2, H, W)


def color_metrics(pred_ab: torch.Tensor, rgb: torch.Tensor, mask: torch.Tensor, bins: torch.Tensor) -> dict:
    """The lecture's numbers for predictions ``pred_ab`` (Tensor[B, 2, H, W]) of the images ``rgb``.

    Returns a dict of floats: ``auc`` and ``auc_rebal`` (accuracy AuC, plain and class-rebalanced with the
    evaluation set's own smoothed prior), ``chroma`` and ``chroma_objects`` (mean chroma of the prediction over
    all pixels and over the ambiguous objects), ``saturation_objects`` (HSV saturation of the colourised
    objects), and the same three for the ground truth (``gt_*``).

    Lecture: 07_colorization
    """
    L, ab = split_lab(rgb)
    prior = empirical_prior(ab, bins)
    w = inverse_prior_weights(ab, bins, prior)  # (B, H, W)
    out_rgb = lab_to_rgb(torch.cat([L, pred_ab], dim=1))
    return {
        "auc": accuracy_auc(pred_ab, ab),
        "auc_rebal": accuracy_auc(pred_ab, ab, weights=w),
        "chroma": mean_chroma(pred_ab),
        "chroma_objects": mean_chroma(pred_ab, mask),
        "saturation_objects": hsv_saturation(out_rgb, mask),
        "gt_chroma": mean_chroma(ab),
        "gt_chroma_objects": mean_chroma(ab, mask),
        "gt_saturation_objects": hsv_saturation(rgb, mask),
    }


def evaluate(model: ColorizationNet | None, test_set: SyntheticColorScenes, *, T: float = TEMPERATURE) -> dict:
    """Metrics of ``model`` on ``test_set`` (see :func:`color_metrics`); ``model=None`` predicts grey (ab = 0).

    Lecture: 07_colorization
    """
    rgb, mask, _ = test_set.tensors()
    pred = torch.zeros(rgb.shape[0], 2, *rgb.shape[-2:]) if model is None else predict_full(model, rgb, T=T).cpu()
    return color_metrics(pred, rgb, mask, ab_bins())


def load_or_train(name: str, *, cfg: dict | None = None, seed: int = 0, device: torch.device | str | None = None,
                  directory: str | os.PathLike | None = None, progress: bool = False) -> tuple[ColorizationNet, dict]:
    """Load the checkpoint ``name`` if present, else train that model now with ``cfg``.

    Parameters
    ----------
    name : {"colorization-l2", "colorization-class", "colorization-rebal"}
        ``colorization-<kind>`` for ``kind`` in :data:`KINDS`.
    cfg : dict, optional
        The ``colorization`` settings to train with when the checkpoint is missing (default: the active
        profile's).
    seed, device, directory, progress
        Seed of a run made here, where the model goes (default ``get_device()``), the folder of the checkpoints
        (default ``checkpoints/``), progress bars.

    Returns
    -------
    (model, info)
        The model in eval mode; ``info``: ``source``, ``config``, ``metrics``, ``command``, ``seed``, ``profile``
        (see :func:`course_lib.core.checkpoint_or_train`).

    Lecture: 07_colorization
    """
    check_choice(name, "name", tuple(f"colorization-{k}" for k in KINDS))
    kind = name.split("-", 1)[1]
    cfg = as_settings(ColorizationSettings, preset("colorization") if cfg is None else cfg)

    def train():
        train_set = SyntheticColorScenes("train", cfg.n_train, cfg.size, seed)
        test_set = SyntheticColorScenes("test", cfg.n_test, cfg.size, seed)
        torch.manual_seed(seed)
        model, _ = train_model(kind, train_set, cfg=cfg, device=device, seed=seed, progress=progress)
        return model, {**dataclasses.asdict(cfg), "kind": kind}, evaluate(model, test_set, T=cfg.T)

    return checkpoint_or_train(name, lambda config: build_model(kind, width=int(config["width"])), train, seed=seed,
                               directory=directory, device=device)


def train_colorization(*, cfg: ColorizationSettings, profile: str, seed: int, out_dir: pathlib.Path,
                       command: str) -> list[pathlib.Path]:
    """``python -m course_lib.train colorization``: train the models named in ``cfg.models`` (comma-separated
    subset of ``KINDS``), evaluate them on the synthetic test split, save ``colorization-<kind>.pt`` in ``out_dir``.

    Lecture: 07_colorization
    """
    cfg = as_settings(ColorizationSettings, cfg)
    from course_lib.core import get_device

    device = get_device()
    kinds = [k.strip() for k in cfg.models.split(",") if k.strip()]
    for k in kinds:
        check_choice(k, "models", KINDS)
    train_set = SyntheticColorScenes("train", cfg.n_train, cfg.size, seed)
    test_set = SyntheticColorScenes("test", cfg.n_test, cfg.size, seed)
    prior = training_prior(train_set, ab_bins(), sigma=cfg.sigma)
    paths = []
    for kind in kinds:
        torch.manual_seed(seed)
        model, history = train_model(kind, train_set, cfg=cfg, device=device, prior=prior, seed=seed)
        round_to_half(model)  # evaluate the weights exactly as the float16 checkpoint will store them
        metrics = evaluate(model, test_set, T=cfg.T)
        metrics["final_loss"] = history["epoch_loss"][-1]
        metrics["train_seconds"] = history["seconds"]
        print(kind, {k: round(v, 4) for k, v in metrics.items()})
        model.cpu()
        paths.append(save_checkpoint(pathlib.Path(out_dir) / f"colorization-{kind}.pt", model,
                                     task=f"colorization-{kind}", command=command, profile=profile, seed=seed,
                                     metrics=metrics, config={**dataclasses.asdict(cfg), "kind": kind}, half=True))
    return paths
