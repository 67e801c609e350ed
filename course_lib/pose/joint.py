"""Joint training: part detector + spatial model, back-propagated through both (Tompson et al., NIPS 2014).

The slides' recipe ("JOINT TRAINING"): pre-train both models separately, then joint-train (BPROP) through both.
Here:

1. the part detector is trained alone (lecture 01, :func:`course_lib.pose.tasks.train_detector`);
2. the spatial model's kernels start from the training poses' offset histograms and are then trained on the
   frozen detector's heat maps ("+ spatial");
3. :class:`JointModel` chains the two and trains everything end to end ("joint").

The table of lecture 02 compares the three on the synthetic test split, per joint, at r = 5, 10, 20 % of the
torso size. Deviations: the joint loss keeps the detector's own heat-map loss beside the spatial model's
cross-entropy (weight ``det_weight``), so the detector's heat maps keep their meaning while the spatial model
leans on them; the paper does not say it did this. The shipped spatial model passes messages along the
kinematic tree (``graph="tree"``: 25 messages, J self-messages included); ``graph="full"`` connects every pair of
joints (81 messages), was as accurate on the synthetic data and is about three times slower. Training runs a few
epochs on a CPU, not days on a GPU.

Lecture: 02_pose_spatial
"""

from __future__ import annotations

import copy
import dataclasses
import pathlib
import time

import torch
from torch import nn

from course_lib.core import LivePlot, check_tensor, fit, get_device, load_model, save_checkpoint
from course_lib.core.keypoints import heatmap_loss
from course_lib.core.people import EDGES, JOINTS
from course_lib.core.profiles import as_settings

from .config import PoseSettings
from .spatial import SpatialModel, belief_loss
from .tasks import DETECTOR_TASK, RADII, build_detector, evaluate_detector, make_datasets, train_detector

SPATIAL_TASK, JOINT_TASK = "pose-spatial", "pose-joint"
CONTROL_TASK = "pose-detector-extra"  # the equal-budget control: the detector alone, trained for joint_epochs more


class JointModel(nn.Module):
    """Part detector followed by the spatial model: images in, beliefs out, trainable end to end.

    Parameters
    ----------
    detector : nn.Module
        Images Tensor[B, 3, H, W] → heat maps Tensor[B, J, H/s, W/s]; must have a ``stride`` attribute s.
    spatial : SpatialModel
        Heat maps → beliefs, same shape.

    ``forward`` returns the beliefs, Tensor[B, J, H/s, W/s], each map summing to one, so that anything that
    decodes a heat-map model (``predict_joints``, ``evaluate_detector``) works on a ``JointModel`` unchanged;
    :meth:`outputs` returns both stages for the loss.

    Lecture: 02_pose_spatial
    """

    def __init__(self, detector: nn.Module, spatial: SpatialModel):
        super().__init__()
        if not hasattr(detector, "stride"):
            raise TypeError(f"detector must have a `stride` attribute (input pixels per heat-map cell); "
                            f"{type(detector).__name__} has none")
        self.detector, self.spatial = detector, spatial
        self.stride = detector.stride

    def outputs(self, images: torch.Tensor) -> dict:
        """Both stages: ``{"heatmaps": Tensor[B, J, h, w], "log_belief": Tensor[B, J, h, w]}``.

        ``heatmaps`` are the detector's scores, ``log_belief`` the spatial model's log-probabilities over locations.

        Lecture: 02_pose_spatial
        """
        heatmaps = self.detector(images)  # (B, J, h, w)
        return {"heatmaps": heatmaps, "log_belief": self.spatial.log_belief(heatmaps)}

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        """Beliefs for a batch of images.

        Parameters
        ----------
        images : Tensor[B, 3, H, W], float in [0, 1]

        Returns
        -------
        Tensor[B, J, H/s, W/s]: non-negative, each map summing to one.

        Lecture: 02_pose_spatial
        """
        return self.outputs(images)["log_belief"].exp()


def joint_loss(model: JointModel, batch: dict, *, det_weight: float = 1.0) -> torch.Tensor:
    """Spatial cross-entropy + ``det_weight`` × the detector's heat-map loss, for one batch of SyntheticPose.

    Lecture: 02_pose_spatial
    """
    out = model.outputs(batch["image"])
    loss = belief_loss(out["log_belief"], batch["heatmaps"])
    return loss + det_weight * heatmap_loss(out["heatmaps"], batch["heatmaps"]) if det_weight else loss


def make_spatial(cfg: PoseSettings) -> SpatialModel:
    """The spatial model a ``pose`` row describes: ``graph`` ("tree": messages along the kinematic tree
    ``EDGES``, the default; "full": every joint to every other, as the paper) and ``kernel_size``.

    Lecture: 02_pose_spatial
    """
    cfg = as_settings(PoseSettings, cfg)
    graph = cfg.graph
    if graph not in ("full", "tree"):
        raise ValueError(f"cfg.graph must be 'full' or 'tree', but found {graph!r}")
    return SpatialModel(len(JOINTS), "full" if graph == "full" else EDGES, cfg.kernel_size)


@torch.no_grad()
def detector_heatmaps(detector: nn.Module, images: torch.Tensor, *, batch_size: int = 64) -> torch.Tensor:
    """Run a (frozen) detector over images: Tensor[N, 3, H, W] → Tensor[N, J, H/s, W/s] on the CPU.

    Lecture: 02_pose_spatial
    """
    check_tensor(images, "images", dims="N C H W", shape=(None, 3, None, None), dtype="float")
    detector.eval()
    device = next(detector.parameters()).device
    return torch.cat([detector(images[i:i + batch_size].to(device)).float().cpu()
                      for i in range(0, len(images), batch_size)])


def pretrain_spatial(detector: nn.Module, train, cfg: PoseSettings, *, seed: int, progress: bool = True,
                     live_plot: bool = False) -> tuple[SpatialModel, dict]:
    """Initialise the kernels from the training poses, then train the spatial model on the frozen detector.

    Parameters
    ----------
    detector : nn.Module
        The pre-trained part detector (not changed).
    train : SyntheticPose
        Training split; its first ``cfg.spatial_n`` images are used (all when 0).
    cfg : dict
        The ``pose`` row: ``kernel_size``, ``graph``, ``spatial_epochs``, ``spatial_lr``, ``spatial_n``,
        ``joint_batch_size`` (default ``batch_size``).

    Returns
    -------
    (spatial, history): the model (eval mode) and :func:`course_lib.core.fit`'s history.

    Lecture: 02_pose_spatial
    """
    cfg = as_settings(PoseSettings, cfg)
    torch.manual_seed(seed)
    spatial = make_spatial(cfg).init_from_joints(train.joints, stride=detector.stride)
    n = cfg.spatial_n or len(train)
    images = train.images[:n].float() / 255.0  # (n, 3, H, W)
    heatmaps = detector_heatmaps(detector, images)  # (n, J, h, w): the frozen detector's outputs, once
    targets = torch.stack([train[i]["heatmaps"] for i in range(n)])  # (n, J, h, w)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(heatmaps, targets),
                                         batch_size=cfg.joint_batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))

    def loss_fn(model, batch):
        h, t = batch
        return belief_loss(model.log_belief(h), t)

    history = fit(spatial, loader, loss_fn, epochs=cfg.spatial_epochs, lr=cfg.spatial_lr,
                  device=get_device(), progress=progress, callback=LivePlot() if live_plot else None, desc="spatial")
    return spatial.eval(), history


def train_joint(detector: nn.Module, spatial: SpatialModel, train, cfg: PoseSettings, *, seed: int,
                det_weight: float = 1.0, progress: bool = True, live_plot: bool = False) -> tuple[JointModel, dict]:
    """Back-propagate through detector and spatial model together (copies: the inputs are not changed).

    Uses the first ``cfg.joint_n`` training images (all when 0) for ``cfg.joint_epochs`` epochs, Adam with
    ``cfg.joint_lr`` for the detector and ten times that for the spatial model; ``det_weight``: the weight of the
    detector's own heat-map loss in :func:`joint_loss`.

    Returns
    -------
    (model, history): the :class:`JointModel` (eval mode) and :func:`course_lib.core.fit`'s history.

    Lecture: 02_pose_spatial
    """
    cfg = as_settings(PoseSettings, cfg)
    torch.manual_seed(seed)
    model = JointModel(copy.deepcopy(detector), copy.deepcopy(spatial)).to(get_device())
    loader = _joint_loader(train, cfg, seed)
    lr = cfg.joint_lr
    optimizer = torch.optim.Adam([{"params": model.detector.parameters(), "lr": lr},
                                  {"params": model.spatial.parameters(), "lr": 10 * lr}])
    history = fit(model, loader, lambda m, b: joint_loss(m, b, det_weight=det_weight),
                  epochs=cfg.joint_epochs, optimizer=optimizer, device=get_device(), progress=progress,
                  callback=LivePlot() if live_plot else None, desc="joint")
    return model.eval(), history


def _joint_loader(train, cfg: PoseSettings, seed: int) -> torch.utils.data.DataLoader:
    """The batches of joint training: the first ``cfg.joint_n`` training images (all when 0), shuffled."""
    cfg = as_settings(PoseSettings, cfg)
    n = cfg.joint_n or len(train)
    subset = torch.utils.data.Subset(train, range(n))
    return torch.utils.data.DataLoader(subset, batch_size=cfg.joint_batch_size,
                                       shuffle=True, generator=torch.Generator().manual_seed(seed))


def train_detector_extra(detector: nn.Module, train, cfg: PoseSettings, *, seed: int, progress: bool = True
                         ) -> tuple[nn.Module, dict]:
    """The equal-budget control of joint training: the detector alone, trained on for the same extra epochs.

    Same images, batches, epochs and learning rate as the detector gets inside :func:`train_joint`, with the
    detector's own heat-map loss and no spatial model. If joint training beats this, the gain is the spatial
    model's, not the extra epochs'. Returns ``(detector copy in eval mode, fit's history)``.

    Lecture: 02_pose_spatial
    """
    cfg = as_settings(PoseSettings, cfg)
    torch.manual_seed(seed)
    model = copy.deepcopy(detector).to(get_device())
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.joint_lr)
    history = fit(model, _joint_loader(train, cfg, seed), lambda m, b: heatmap_loss(m(b["image"]), b["heatmaps"]),
                  epochs=cfg.joint_epochs, optimizer=optimizer, device=get_device(), progress=progress,
                  desc="detector, extra epochs")
    return model.eval(), history


def train_pose_control(*, cfg: PoseSettings, profile: str, seed: int, out_dir: pathlib.Path, command: str
                       ) -> list[pathlib.Path]:
    """The ``pose-control`` task: ``pose-detector.pt`` trained alone for ``joint_epochs`` more epochs, saved as
    ``pose-detector-extra.pt``. Run it with the same ``--set`` overrides as the ``pose`` checkpoints (it refuses
    a detector trained with other settings).

    Lecture: 02_pose_spatial
    """
    cfg = as_settings(PoseSettings, cfg)
    out_dir = pathlib.Path(out_dir)
    detector, ckpt = load_model(out_dir / f"{DETECTOR_TASK}.pt", build_detector, task=DETECTOR_TASK)
    differ = {k: (ckpt["config"].get(k), v) for k, v in dataclasses.asdict(cfg).items() if ckpt["config"].get(k) != v}
    if differ or ckpt["seed"] != seed:
        raise SystemExit(f"pose-control must use the settings and seed of {DETECTOR_TASK}.pt (seed {ckpt['seed']}); "
                         f"these differ (checkpoint, given): {differ}")
    train, test = make_datasets(cfg, seed)
    start = time.perf_counter()
    extra, history = train_detector_extra(detector, train, cfg, seed=seed)
    metrics = evaluate_detector(extra, test)
    metrics.update(final_loss=history["epoch_loss"][-1], train_seconds=time.perf_counter() - start)
    print(f"detector + {cfg.joint_epochs} extra epochs: detection rate at r=10%, mean {metrics['dr10_mean']:.1f}%")
    return [save_checkpoint(out_dir / f"{CONTROL_TASK}.pt", extra, task=CONTROL_TASK, command=command,
                            profile=profile, seed=seed, metrics=metrics, config=dataclasses.asdict(cfg))]


def train_spatial_and_joint(detector: nn.Module, *, cfg: PoseSettings, profile: str, seed: int, out_dir: pathlib.Path,
                            command: str) -> list[pathlib.Path]:
    """Lecture 02's half of the ``pose`` task: pre-train the spatial model, joint-train, evaluate, save.

    Saves ``pose-spatial.pt`` (the spatial model; its metrics are those of detector + spatial model, the detector
    being ``pose-detector.pt``) and ``pose-joint.pt`` (detector and spatial model after joint training), each with
    the FLIC detection rate per joint at r = 5, 10, 20 % torso on the synthetic test split.

    Lecture: 02_pose_spatial
    """
    cfg = as_settings(PoseSettings, cfg)
    out_dir = pathlib.Path(out_dir)
    train, test = make_datasets(cfg, seed)
    detector = detector.to(get_device()).eval()
    start = time.perf_counter()
    spatial, hist_s = pretrain_spatial(detector, train, cfg, seed=seed)
    metrics_s = evaluate_detector(JointModel(detector, spatial), test)
    metrics_s.update(final_loss=hist_s["epoch_loss"][-1], train_seconds=time.perf_counter() - start)
    start = time.perf_counter()
    joint, hist_j = train_joint(detector, spatial, train, cfg, seed=seed)
    metrics_j = evaluate_detector(joint, test)
    metrics_j.update(final_loss=hist_j["epoch_loss"][-1], train_seconds=time.perf_counter() - start)
    base = evaluate_detector(detector, test)
    for r in RADII:
        print(f"r={r:>2}% torso, mean over joints: detector {base[f'dr{r}_mean']:.1f}%, "
              f"+ spatial {metrics_s[f'dr{r}_mean']:.1f}%, joint {metrics_j[f'dr{r}_mean']:.1f}%")
    for name in ("lelb", "lwri", "relb", "rwri"):
        print(f"{name}: detection rate at r=10%: detector {base[f'dr10_{name}']:.1f}%, "
              f"+ spatial {metrics_s[f'dr10_{name}']:.1f}%, joint {metrics_j[f'dr10_{name}']:.1f}%")
    common = {"command": command, "profile": profile, "seed": seed, "config": dataclasses.asdict(cfg)}
    return [save_checkpoint(out_dir / f"{SPATIAL_TASK}.pt", spatial, task=SPATIAL_TASK, metrics=metrics_s, **common),
            save_checkpoint(out_dir / f"{JOINT_TASK}.pt", joint, task=JOINT_TASK, metrics=metrics_j, **common)]


def train_pose(*, cfg: PoseSettings, profile: str, seed: int, out_dir: pathlib.Path, command: str
               ) -> list[pathlib.Path]:
    """The ``pose`` task: train the part detector, save ``pose-detector.pt``, then lecture 02's models.

    Lecture: 01_pose_detector, 02_pose_spatial
    """
    cfg = as_settings(PoseSettings, cfg)
    out_dir = pathlib.Path(out_dir)
    detector, metrics = train_detector(cfg, seed)
    for r in RADII:
        print(f"detector: detection rate at r={r}% torso, mean over joints {metrics[f'dr{r}_mean']:.1f}%")
    path = save_checkpoint(out_dir / "pose-detector.pt", detector, task=DETECTOR_TASK, command=command,
                           profile=profile, seed=seed, metrics=metrics, config=dataclasses.asdict(cfg))
    return [path] + list(train_spatial_and_joint(detector, cfg=cfg, profile=profile, seed=seed, out_dir=out_dir,
                                                 command=command))
