"""Localization error, simulated annotators, and the ``localization`` training task (checkpoints of lecture 03).

Tompson, Goroshin, Jain, LeCun, Bregler, "Efficient Object Localization Using Convolutional Networks", CVPR
2015, section 5 ("HOW WELL ARE WE DOING?"): the paper reports the mean distance between prediction and truth per
joint, in pixels, for 4×, 8× and 16× pooling, next to the **label noise** of humans who labelled the same FLIC
images, and the forward time of coarse, fine and cascade models.

Deviations: distances are pixels of our 64×64 synthetic images, not of FLIC's 320×240 frames, so compare the
trends (more pooling: larger error, faster; cascade: most of the error recovered) and not the numbers. There is
no human study: :func:`simulated_annotators` adds human-like noise to the truth, with a per-joint spread
proportional to the torso size, chosen so that its ordering matches the slides' table (face precise, shoulders
the most ambiguous, then elbows, then wrists).

``python -m course_lib.train localization`` (:func:`train_localization`) trains, for each pooling factor,
a coarse model (E1), then its shared-feature cascade and a standard RGB cascade (E2), and saves
``localization-coarse{p}.pt``, ``localization-cascade{p}.pt`` and ``localization-standard{p}.pt`` with their
test metrics. The 8× coarse model is also trained with standard dropout, and both dropout variants' validation
curves are recorded in ``localization-coarse8.pt`` (keys ``curve_spatial_e{k}``, ``curve_standard_e{k}``).

Lecture: 03_localization
"""

from __future__ import annotations

import copy
import pathlib
import time

import torch

from course_lib.core import (
    check_choice,
    check_same_shape,
    check_tensor,
    checkpoint_path,
    fit,
    get_device,
    load_model,
    round_to_half,
    save_checkpoint,
    seed_everything,
)

from .cascade import Cascade, FineModel, cascade_loss
from .coarse import POOLINGS, CoarseModel
from .data import JOINTS, SyntheticPose
from .detector import heatmap_loss
from .metrics import heatmap_argmax, joint_distances

# Human label noise per joint as a fraction of the torso size |lhip − rsho| (standard deviation per axis). The
# slides' FLIC study measured mean errors of 0.65 (face), 2.46 (shoulder), 2.14 (elbow), 1.57 (wrist) pixels;
# with FLIC's torso of about 60 pixels at that scale this is 1-4 % of the torso. Hips are not in the table and are
# the hardest to see under clothes: 4 %.
ANNOTATOR_NOISE = {"face": 0.009, "lsho": 0.033, "lelb": 0.029, "lwri": 0.021, "rsho": 0.033, "relb": 0.029,
                   "rwri": 0.021, "lhip": 0.032, "rhip": 0.032}
GROUPS = {"face": ("face",), "shoulder": ("lsho", "rsho"), "elbow": ("lelb", "relb"), "wrist": ("lwri", "rwri")}
"""The slides' table columns: joint groups averaged over left and right."""


def localization_error(pred: torch.Tensor, target: torch.Tensor, *, visible: torch.Tensor | None = None,
                       reduction: str = "mean") -> torch.Tensor:
    """Mean (or median) Euclidean distance per joint between prediction and truth, in input pixels.

    Parameters
    ----------
    pred, target : Tensor[B, J, 2], float
        ``(x, y)`` in input pixels.
    visible : Tensor[B, J], bool, optional
        Count only these joints (a joint never visible gets NaN).
    reduction : {"mean", "median"}
        ``"median"`` ignores the gross failures (a wrist on a distractor) and shows the precision of the rest.

    Returns
    -------
    Tensor[J], float32 ≥ 0: pixels.

    Examples
    --------
    >>> localization_error(torch.tensor([[[3.0, 4.0]], [[0.0, 1.0]]]), torch.zeros(2, 1, 2))
    tensor([3.])

    Lecture: 03_localization
    """
    check_choice(reduction, "reduction", ("mean", "median"))
    check_same_shape(pred, target, "pred", "target")
    dist = joint_distances(pred.float(), target.float())  # (B, J) pixels
    if visible is not None:
        check_tensor(visible, "visible", dims="B J", shape=tuple(dist.shape), dtype="bool")
        dist = torch.where(visible, dist, torch.full_like(dist, float("nan")))  # (B, J), NaN = not counted
    return dist.nanmean(dim=0) if reduction == "mean" else dist.nanmedian(dim=0).values


def group_errors(errors: torch.Tensor) -> dict[str, float]:
    """Per-joint errors Tensor[9] (course order) → the slides' columns ``{"face", "shoulder", "elbow", "wrist"}``."""
    check_tensor(errors, "errors", dims="J", shape=(len(JOINTS),))
    return {g: float(sum(errors[JOINTS.index(n)] for n in names) / len(names)) for g, names in GROUPS.items()}


def simulated_annotators(joints: torch.Tensor, *, n_annotators: int = 5, seed: int = 0, scale: float = 1.0,
                         torso: torch.Tensor | None = None) -> torch.Tensor:
    """Several noisy human-like labellings of the same images.

    Annotator ``a`` labels joint ``j`` of image ``b`` at ``truth + bias_a,j + ε``: a personal convention
    ``bias_a,j ~ N(0, (σ_j/2)²)`` per axis, shared by all of that annotator's images (people disagree on where
    exactly "the shoulder" is), plus an independent slip ``ε ~ N(0, σ_j²)`` per axis, with ``σ_j =
    scale · ANNOTATOR_NOISE[j] · torso_b``.

    Parameters
    ----------
    joints : Tensor[B, J, 2], float
        True ``(x, y)`` in input pixels, joints in the order of ``JOINTS``.
    n_annotators : int
        A.
    seed : int
        The same seed gives the same labels.
    scale : float
        Multiplies every σ.
    torso : Tensor[B], optional
        Torso sizes in pixels; default ``|lhip − rsho|`` of ``joints``.

    Returns
    -------
    Tensor[A, B, J, 2]: each annotator's labels ``(x, y)`` in input pixels.

    Lecture: 03_localization
    """
    check_tensor(joints, "joints", dims="B J 2", shape=(None, len(JOINTS), 2), dtype="float")
    B, J, _ = joints.shape
    if torso is None:
        torso = (joints[:, JOINTS.index("lhip")] - joints[:, JOINTS.index("rsho")]).norm(dim=-1)  # (B,)
    check_tensor(torso, "torso", dims="B", shape=(B,), dtype="float", min_value=0.0)
    g = torch.Generator().manual_seed(seed)
    sigma = torch.tensor([ANNOTATOR_NOISE[n] for n in JOINTS]) * scale  # (J,) fraction of torso
    sigma = sigma[None, :, None] * torso.cpu().float()[:, None, None]  # (B, J, 1) pixels
    bias = torch.randn(n_annotators, 1, J, 2, generator=g) * 0.5 * sigma.mean(dim=0, keepdim=True)  # (A, 1, J, 2)
    slip = torch.randn(n_annotators, B, J, 2, generator=g) * sigma  # (A, B, J, 2)
    return joints.cpu().float()[None] + bias + slip  # (A, B, J, 2)


def label_noise(joints: torch.Tensor, **kwargs) -> torch.Tensor:
    """The "label noise" row: :func:`localization_error` of every simulated annotator, averaged. Tensor[J] pixels.

    Keyword arguments go to :func:`simulated_annotators`.

    Lecture: 03_localization
    """
    labels = simulated_annotators(joints, **kwargs)  # (A, B, J, 2)
    return torch.stack([localization_error(lab, joints.cpu().float()) for lab in labels]).mean(dim=0)  # (J,)


# --------------------------------------------------------------------------------------------------------------
# Prediction and evaluation.


@torch.no_grad()
def predict(model: torch.nn.Module, images: torch.Tensor, *, batch_size: int = 64) -> torch.Tensor:
    """Joint positions from a :class:`CoarseModel` (sub-pixel argmax) or a :class:`Cascade` (refined).

    images: Tensor[N, 3, H, W] float in [0, 1] → Tensor[N, J, 2] ``(x, y)`` input pixels, on the CPU. The model
    runs in eval mode on its own device.

    Lecture: 03_localization
    """
    check_tensor(images, "images", dims="N C H W", shape=(None, 3, None, None), dtype="float")
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(images), batch_size):
        x = images[i:i + batch_size].to(device)
        if isinstance(model, Cascade):
            out.append(model(x)["joints"].float().cpu())
        else:
            out.append(heatmap_argmax(model(x).float(), stride=model.stride, subpixel=True).cpu())
    return torch.cat(out)  # (N, J, 2)


def evaluate(model: torch.nn.Module, dataset: SyntheticPose) -> dict:
    """Localization error per joint (pixels), its mean and the slides' joint groups, as a flat dict of floats.

    Keys: ``err_<joint>`` (mean error) for every joint of ``JOINTS``, ``err_mean`` (over joints),
    ``group_<face|shoulder|elbow|wrist>``, and the same with ``med`` for the median error (``med_<joint>``,
    ``med_mean``, ``medgroup_<group>``).

    Lecture: 03_localization
    """
    pred = predict(model, dataset.images.float() / 255.0)  # (N, J, 2)
    metrics = {}
    for prefix, group, reduction in (("err", "group", "mean"), ("med", "medgroup", "median")):
        err = localization_error(pred, dataset.joints, reduction=reduction)  # (J,)
        metrics.update({f"{prefix}_{n}": float(e) for n, e in zip(JOINTS, err)})
        metrics[f"{prefix}_mean"] = float(err.mean())
        metrics.update({f"{group}_{g}": v for g, v in group_errors(err).items()})
    return metrics


def make_datasets(cfg: dict, seed: int, pooling: int) -> dict[str, SyntheticPose]:
    """The train, val and test splits for one pooling factor (heat-map targets at stride ``pooling``).

    Lecture: 03_localization
    """
    kw = {"stride": pooling}
    return {"train": SyntheticPose("train", cfg["n_train"], cfg["size"], seed, **kw),
            "val": SyntheticPose("val", cfg["n_val"], cfg["size"], seed, **kw),
            "test": SyntheticPose("test", cfg["n_test"], cfg["size"], seed, **kw)}


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


def build_coarse(cfg: dict, pooling: int, dropout: str | None = "spatial") -> CoarseModel:
    """A :class:`CoarseModel` with the widths of the ``localization`` row ``cfg``."""
    return CoarseModel(len(JOINTS), pooling=pooling, width=cfg["width"], dropout=dropout, p=cfg["p"])


def build_cascade(cfg: dict, coarse: CoarseModel, *, shared_features: bool = True) -> Cascade:
    """A :class:`Cascade` around ``coarse`` with the fine model and crop of ``cfg``."""
    fine = FineModel(len(JOINTS), in_channels=2 * coarse.width if shared_features else 3, width=cfg["fine_width"])
    return Cascade(coarse, fine, crop=cfg["crop"], samples=cfg["samples"], shared_features=shared_features)


def train_coarse(cfg: dict, seed: int, pooling: int, *, data: dict | None = None, dropout: str | None = "spatial",
                 epochs: int | None = None, progress: bool = True, live_plot: bool = False
                 ) -> tuple[CoarseModel, dict]:
    """Train a coarse model with E1 (weighted heat-map MSE); validate the localization error after every epoch.

    Returns ``(model, history)``; ``history["eval"][k]["err_mean"]`` is the validation error after epoch k+1.

    Lecture: 03_localization
    """
    seed_everything(seed)
    data = data or make_datasets(cfg, seed, pooling)
    model = build_coarse(cfg, pooling, dropout)
    loader = torch.utils.data.DataLoader(data["train"], batch_size=cfg["batch_size"], shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))

    def loss_fn(net, batch):
        return heatmap_loss(net(batch["image"]), batch["heatmaps"])

    history = fit(model, loader, loss_fn, epochs=epochs or cfg["epochs"], lr=cfg["lr"], device=get_device(),
                  eval_fn=lambda net: {"err_mean": evaluate(net, data["val"])["err_mean"]}, progress=progress,
                  live_plot=live_plot, desc=f"coarse {pooling}x {dropout}")
    return model, history


def train_cascade(cfg: dict, seed: int, coarse: CoarseModel, *, data: dict, shared_features: bool = True,
                  epochs: int | None = None, progress: bool = True) -> tuple[Cascade, dict]:
    """Train a cascade around (a copy of) a trained coarse model with E2 = E1 + λ·E_fine, coarse and fine jointly.

    Lecture: 03_localization
    """
    seed_everything(seed)
    copy = build_coarse(cfg, coarse.pooling, coarse.dropout)
    copy.load_state_dict(coarse.state_dict())
    model = build_cascade(cfg, copy, shared_features=shared_features)
    loader = torch.utils.data.DataLoader(data["train"], batch_size=cfg["batch_size"], shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))

    def loss_fn(net, batch):
        out = net(batch["image"])
        fine_target = net.fine_targets(batch["joints"], out["centres"])  # (B, J, R, R)
        return cascade_loss(out["coarse"], batch["heatmaps"], out["fine"], fine_target, lam=cfg["lam"],
                            pos_weight=20.0)

    history = fit(model, loader, loss_fn, epochs=epochs or cfg["cascade_epochs"], lr=cfg["lr"],
                  device=get_device(), progress=progress, desc=f"cascade {coarse.pooling}x shared={shared_features}")
    return model, history


def load_localization(pooling: int, kind: str = "coarse", *, device: torch.device | None = None,
                      path: str | pathlib.Path | None = None) -> tuple[torch.nn.Module, dict]:
    """Load a shipped checkpoint: ``kind`` ∈ {"coarse", "cascade", "standard"} at ``pooling`` ∈ {4, 8, 16}.

    Returns ``(model, checkpoint)``, the model in eval mode on ``device`` (default ``get_device()``).

    Lecture: 03_localization
    """
    if pooling not in POOLINGS:
        raise ValueError(f"pooling must be one of {POOLINGS}, but found {pooling!r}")
    if kind not in ("coarse", "cascade", "standard"):
        raise ValueError(f"kind must be one of ('coarse', 'cascade', 'standard'), but found {kind!r}")
    task = f"localization-{kind}{pooling}"
    path = checkpoint_path(task) if path is None else pathlib.Path(path)

    def build(cfg: dict) -> torch.nn.Module:
        model = build_coarse(cfg, pooling)
        return model if kind == "coarse" else build_cascade(cfg, model, shared_features=kind == "cascade")

    return load_model(path, build, task=task, device=device)


def train_localization(*, cfg: dict, profile: str, seed: int, out_dir: pathlib.Path, command: str
                       ) -> list[pathlib.Path]:
    """The ``localization`` task: coarse models, shared-feature and standard cascades for 4×, 8×, 16× pooling.

    Lecture: 03_localization
    """
    out_dir = pathlib.Path(out_dir)
    paths = []
    drawn = make_datasets(cfg, seed, POOLINGS[0])
    for pooling in POOLINGS:
        data = with_stride(drawn, pooling)
        start = time.perf_counter()
        coarse, hist = train_coarse(cfg, seed, pooling, data=data, progress=False)
        round_to_half(coarse)
        metrics = evaluate(coarse, data["test"])
        metrics["train_seconds"] = time.perf_counter() - start
        if pooling == 8:  # the dropout experiment: the same model with per-pixel dropout
            _, hist_std = train_coarse(cfg, seed, pooling, data=data, dropout="standard", progress=False)
            for k, (a, b) in enumerate(zip(hist["eval"], hist_std["eval"])):
                metrics[f"curve_spatial_e{k + 1}"] = a["err_mean"]
                metrics[f"curve_standard_e{k + 1}"] = b["err_mean"]
        print(f"coarse {pooling}x: mean error {metrics['err_mean']:.2f} px")
        paths.append(save_checkpoint(out_dir / f"localization-coarse{pooling}.pt", coarse,
                                     task=f"localization-coarse{pooling}", command=command, profile=profile,
                                     seed=seed, metrics=metrics, config=cfg, half=True))
        for kind, shared in (("cascade", True), ("standard", False)):
            start = time.perf_counter()
            cascade, _ = train_cascade(cfg, seed, coarse, data=data, shared_features=shared, progress=False)
            round_to_half(cascade)
            metrics = evaluate(cascade, data["test"])
            metrics["train_seconds"] = time.perf_counter() - start
            print(f"{kind} {pooling}x: mean error {metrics['err_mean']:.2f} px")
            paths.append(save_checkpoint(out_dir / f"localization-{kind}{pooling}.pt", cascade,
                                         task=f"localization-{kind}{pooling}", command=command, profile=profile,
                                         seed=seed, metrics=metrics, config=cfg, half=True))
    return paths
