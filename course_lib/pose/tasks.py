"""Training commands for the pose lectures: ``python -m course_lib.train pose`` makes the shipped checkpoints.

:func:`train_detector` trains the part detector of Tompson et al. (NIPS 2014) on :class:`SyntheticPose` with
the paper's heat-map MSE and measures the FLIC detection rate on the synthetic test split;
:func:`course_lib.pose.joint.train_pose` (the registered ``pose`` task) saves it as
``checkpoints/pose-detector.pt`` and hands it to the spatial model and joint training of lecture 02. The
dependency runs one way: ``joint`` imports ``tasks``, never the reverse.

The data seed is the training seed: a checkpoint's test split is ``SyntheticPose("test", cfg["n_test"],
cfg["size"], seed)`` with the ``cfg`` and ``seed`` recorded in it, so a test can re-evaluate its metrics.

Lecture: 01_pose_detector
"""

from __future__ import annotations

import torch

from course_lib.core import (
    LivePlot,
    check_tensor,
    fit,
    get_device,
    seed_everything,
)
from course_lib.core.keypoints import heatmap_argmax, heatmap_loss
from course_lib.core.people import JOINTS, SyntheticPose
from course_lib.core.profiles import as_settings

from .config import PoseSettings
from .detector import PartDetector
from .metrics import detection_rate

RADII = (5, 10, 20)  # detection-rate radii (% of torso size) recorded in checkpoints and benchmarks
DETECTOR_TASK = "pose-detector"


def make_datasets(cfg: PoseSettings, seed: int) -> tuple[SyntheticPose, SyntheticPose]:
    """The train and test splits a pose checkpoint is trained and evaluated on (``cfg``: the ``pose`` row)."""
    cfg = as_settings(PoseSettings, cfg)
    kwargs = {"stride": PartDetector.stride}
    return (SyntheticPose("train", cfg.n_train, cfg.size, seed, **kwargs),
            SyntheticPose("test", cfg.n_test, cfg.size, seed, **kwargs))


@torch.no_grad()
def predict_joints(model: torch.nn.Module, images: torch.Tensor, *, subpixel: bool = True, batch_size: int = 64
                   ) -> torch.Tensor:
    """Run a heat-map model and decode the maxima: Tensor[N, 3, H, W] → Tensor[N, J, 2] ``(x, y)`` input pixels.

    The model runs on its own device in eval mode; the result is on the CPU. ``model.stride`` gives the output
    stride.

    Lecture: 01_pose_detector
    """
    check_tensor(images, "images", dims="N C H W", shape=(None, 3, None, None), dtype="float")
    model.eval()
    device = next(model.parameters()).device
    out = []
    for i in range(0, len(images), batch_size):
        heatmaps = model(images[i:i + batch_size].to(device))  # (b, J, H/s, W/s)
        out.append(heatmap_argmax(heatmaps.float(), stride=model.stride, subpixel=subpixel).cpu())
    return torch.cat(out)  # (N, J, 2)


def dataset_tensors(dataset: SyntheticPose) -> dict:
    """All of a split as tensors: ``image`` (N, 3, H, W) float, ``joints`` (N, J, 2), ``visible`` (N, J),
    ``torso`` (N,)."""
    return {"image": dataset.images.float() / 255.0, "joints": dataset.joints, "visible": dataset.visible,
            "torso": dataset.torso}


def evaluate_detector(model: torch.nn.Module, dataset: SyntheticPose, *, radii=RADII, subpixel: bool = True
                      ) -> dict:
    """FLIC detection rate (percent) per joint and averaged, at each radius (percent of torso size).

    Returns a flat dict of floats, e.g. ``{"dr10_lwri": 71.2, ..., "dr10_mean": 80.3}``, all joints counted
    (occluded ones too, as FLIC annotates them).

    Lecture: 01_pose_detector
    """
    data = dataset_tensors(dataset)
    pred = predict_joints(model, data["image"], subpixel=subpixel)  # (N, J, 2)
    metrics = {}
    for r in radii:
        rates = detection_rate(pred, data["joints"], r, torso=data["torso"])  # (J,)
        metrics.update({f"dr{r}_{name}": float(v) for name, v in zip(JOINTS, rates)})
        metrics[f"dr{r}_mean"] = float(rates.mean())
    return metrics


def train_detector(cfg: PoseSettings, seed: int, *, progress: bool = True, live_plot: bool = False
                   ) -> tuple[PartDetector, dict]:
    """Train a :class:`PartDetector` on synthetic people; return it (eval mode) and its test metrics.

    Parameters
    ----------
    cfg : dict
        The ``pose`` row of the profile table: ``n_train``, ``n_test``, ``size``, ``epochs``, ``batch_size``,
        ``width``, ``lr``, ``simple``.
    seed : int
        Seeds the data (both splits), the initial weights and the batch order.

    Returns
    -------
    (model, metrics): the trained detector on ``get_device()``; metrics as :func:`evaluate_detector` plus
    ``"final_loss"`` (mean loss of the last epoch) and ``"train_seconds"``.

    Lecture: 01_pose_detector
    """
    cfg = as_settings(PoseSettings, cfg)
    seed_everything(seed)
    train, test = make_datasets(cfg, seed)
    model = PartDetector(len(JOINTS), width=cfg.width, simple=cfg.simple)
    loader = torch.utils.data.DataLoader(train, batch_size=cfg.batch_size, shuffle=True,
                                         generator=torch.Generator().manual_seed(seed))

    def loss_fn(net, batch):
        return heatmap_loss(net(batch["image"]), batch["heatmaps"])

    # Adam with a cosine learning-rate decay over the epochs (stepped by fit's per-epoch callback).
    optimizer = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=cfg.epochs)

    def step_schedule(net, history):
        schedule.step()

    history = fit(model, loader, loss_fn, epochs=cfg.epochs, optimizer=optimizer, device=get_device(),
                  progress=progress, desc="detector", callback=LivePlot(step_schedule) if live_plot else step_schedule)
    metrics = evaluate_detector(model, test)
    metrics.update(final_loss=history["epoch_loss"][-1], train_seconds=history["seconds"])
    return model, metrics


def build_detector(cfg: PoseSettings) -> PartDetector:
    """The untrained :class:`PartDetector` with the sizes of a profile row or checkpoint config."""
    cfg = as_settings(PoseSettings, cfg)
    return PartDetector(len(JOINTS), width=cfg.width, simple=cfg.simple)
