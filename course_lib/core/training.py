"""``fit``: the one training loop every lecture uses. Plain torch, short, one comment per phase.

The loop is teaching material, so it hides nothing: move the batch to the device, compute the loss, step, log.
What a lecture trains differs only in ``loss_fn(model, batch) -> scalar``, which the lecture writes itself, and
in what happens after each epoch: one ``callback(model, history)`` (validate, step a learning-rate schedule,
redraw a plot with :class:`LivePlot`), whose dict, if it returns one, is the epoch's ``history["eval"]`` entry.

Lecture: 00_welcome
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable

import torch
from tqdm.auto import tqdm

from .checks import check_positive_int


def to_device(batch, device: torch.device):
    """Move a tensor, or a (nested) tuple/list/dict of tensors, to ``device``; other values pass through."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(v, device) for v in batch)
    return batch


def fit(
    model: torch.nn.Module,
    train_loader: Iterable,
    loss_fn: Callable[[torch.nn.Module, object], torch.Tensor],
    *,
    epochs: int,
    lr: float = 1e-3,
    optimizer: torch.optim.Optimizer | None = None,
    device: torch.device | str | None = None,
    clip_grad: float | None = None,
    amp: bool = True,
    progress: bool = True,
    desc: str = "train",
    callback: Callable[[torch.nn.Module, dict], dict | None] | None = None,
) -> dict:
    """Train ``model`` for ``epochs`` passes over ``train_loader``; return the history.

    Parameters
    ----------
    model : nn.Module
        Moved to ``device`` and put in train mode (eval mode while ``callback`` runs).
    train_loader : iterable of batches
        Anything iterable, usually a ``DataLoader``; a batch may be a tensor, tuple or dict of tensors.
    loss_fn : callable ``(model, batch) -> Tensor[]``
        Returns the scalar loss for one batch (already on ``device``).
    epochs : int
        Passes over the data.
    lr : float
        Learning rate of the default optimizer (Adam), ignored when ``optimizer`` is given.
    clip_grad : float, optional
        Clip the global gradient norm to this value.
    amp : bool
        Mixed precision (bfloat16 autocast) on CUDA; ignored on other devices.
    callback : callable ``(model, history) -> dict of float or None``, optional
        The one hook: called after every epoch, with the model in eval mode and under ``torch.no_grad()``
        (``len(history["epoch_loss"])`` epochs are done). A dict it returns (e.g. validation scores) is appended
        to ``history["eval"]``. :class:`LivePlot` wraps a callback to redraw the loss curve in a notebook.

    Returns
    -------
    dict
        ``{"loss": [float per step], "epoch_loss": [float per epoch], "eval": [dict per epoch],
        "seconds": float}``: plain lists, ready to plot.
    """
    check_positive_int(epochs, "epochs")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    if optimizer is None:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    use_amp = amp and device.type == "cuda"
    history: dict = {"loss": [], "epoch_loss": [], "eval": [], "seconds": 0.0}
    start = time.perf_counter()

    for epoch in range(epochs):
        model.train()
        total, count = 0.0, 0
        bar = tqdm(train_loader, desc=f"{desc} {epoch + 1}/{epochs}", disable=not progress, leave=False)
        for batch in bar:
            # 1. Data to the device the model lives on.
            batch = to_device(batch, device)
            # 2. Forward and loss (bfloat16 autocast on CUDA: no loss scaling needed).
            with torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=use_amp):
                loss = loss_fn(model, batch)
            if not isinstance(loss, torch.Tensor) or loss.numel() != 1:
                got = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
                raise ValueError(f"loss_fn must return a scalar tensor (one value, e.g. a .mean()); got {got}")
            if not torch.isfinite(loss):
                rates = sorted({g["lr"] for g in optimizer.param_groups})
                raise FloatingPointError(
                    f"loss became {loss.item()} at epoch {epoch + 1}, step {count + 1}; lower the learning rate "
                    f"(now {rates[0] if len(rates) == 1 else rates}) or set clip_grad"
                )
            # 3. Backward, optional clipping, step.
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if clip_grad is not None:
                torch.nn.utils.clip_grad_norm_(model.parameters(), clip_grad)
            optimizer.step()
            # 4. Log.
            value = float(loss.detach())
            history["loss"].append(value)
            total, count = total + value, count + 1
            bar.set_postfix(loss=f"{value:.4f}")
        if count == 0:
            raise ValueError("train_loader gave no batches: it is empty (check the dataset size and batch_size, "
                             "and drop_last)")
        history["epoch_loss"].append(total / count)
        # 5. The epoch's callback (validate, schedule, plot), in eval mode and without gradients.
        if callback is not None:
            model.eval()
            with torch.no_grad():
                scores = callback(model, history)
            if scores is not None:
                history["eval"].append({k: float(v) for k, v in scores.items()})
    history["seconds"] = time.perf_counter() - start
    model.eval()
    return history


class LivePlot:
    """A ``fit`` callback that redraws one loss-curve figure in place in a notebook (nothing outside IPython), after
    calling ``then(model, history)`` if given and passing on what it returns.

    Lecture: 00_welcome
    """

    def __init__(self, then: Callable[[torch.nn.Module, dict], dict | None] | None = None):
        self.then, self.handle = then, None
        try:
            from IPython import get_ipython

            self.active = get_ipython() is not None
        except ImportError:
            self.active = False

    def __call__(self, model: torch.nn.Module, history: dict) -> dict | None:
        scores = self.then(model, history) if self.then is not None else None
        if self.active:
            self.draw(history)
        return scores

    def draw(self, history: dict) -> None:
        epoch = len(history["epoch_loss"])
        import matplotlib.pyplot as plt
        from IPython.display import display

        fig, ax = plt.subplots(figsize=(5, 3))
        steps = range(1, len(history["loss"]) + 1)
        ax.plot(steps, history["loss"], lw=0.8, label="step loss")
        ax.set_xlabel("step")
        ax.set_ylabel("loss")
        ax.set_title(f"training loss (after epoch {epoch})")
        if all(math.isfinite(v) and v > 0 for v in history["loss"]):
            ax.set_yscale("log")
        ax.legend()
        fig.tight_layout()
        if self.handle is None:
            self.handle = display(fig, display_id=True)
        else:
            self.handle.update(fig)
        plt.close(fig)
