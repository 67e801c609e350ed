"""Colourisation as a pretext task: are semantic classes linearly separable in the learned features?

Zhang, Isola, Efros, ECCV 2016, section 3.2 (the slides' "Task Generalization: ILSVRC linear classification"):
colourisation is a "cross-channel encoder", a network that predicts one part of the data (ab) from another (L),
so it needs no labels. To see whether it learned something semantic, they freeze the network, take the
activations of one layer, and train only a linear classifier on top (a linear probe). Features that make the
classes linearly separable were learned without ever seeing a label.

The course's version: the synthetic scenes carry the shape of their largest object as a label (4 classes).
Colourising them well requires recognising shapes, because colour palettes depend on the shape. We compare a
linear probe on the features of a trained colourisation net with one on the same architecture at random
initialisation (the paper's "random" baseline). Deviation: global average pooling of one block's
activations (the paper resizes a layer's activations to about 9000 dimensions), and a full-batch
logistic regression trained with Adam instead of SGD over ImageNet.

Lecture: 07_colorization
"""

from __future__ import annotations

import torch
from torch import nn

from course_lib.core import check_positive_int, check_tensor

from .lab import rgb_to_lab


@torch.no_grad()
def probe_features(model, rgb: torch.Tensor, *, layer: str = "conv5", batch_size: int = 128) -> torch.Tensor:
    """Frozen features for the probe: block ``layer``'s activations, averaged over space.

    Parameters
    ----------
    model : ColorizationNet
        Trained or freshly initialised; run in eval mode on its own device.
    rgb : Tensor[B, 3, H, W] in [0, 1]
        Images (only their L is used).
    layer : str
        One of "conv1" ... "conv8".

    Returns
    -------
    Tensor[B, C], float32 on the CPU

    Lecture: 07_colorization
    """
    check_tensor(rgb, "rgb", dims="B 3 H W", shape=(None, 3, None, None), dtype="float")
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    out = []
    for chunk in rgb.split(batch_size):
        L = rgb_to_lab(chunk.to(device))[:, :1]  # (b, 1, H, W)
        out.append(model.features(L, upto=layer).mean(dim=(2, 3)).float().cpu())  # (b, C)
    model.train(was_training)
    return torch.cat(out)  # (B, C)


def linear_probe(train_x: torch.Tensor, train_y: torch.Tensor, test_x: torch.Tensor, test_y: torch.Tensor, *,
                 steps: int = 300, lr: float = 0.05, weight_decay: float = 1e-3, seed: int = 0) -> dict:
    """Fit a linear (softmax) classifier on frozen features; report train and test accuracy.

    Parameters
    ----------
    train_x, test_x : Tensor[N, C], float
        Features (e.g. :func:`probe_features`); standardised inside with the training mean and std.
    train_y, test_y : Tensor[N], int64
        Class indices in [0, K).
    steps : int
        Full-batch Adam steps on the cross-entropy.
    lr, weight_decay : float
        Adam's step size and L2 penalty (weight decay keeps a probe on random features honest).

    Returns
    -------
    dict
        ``{"train_acc": float, "test_acc": float, "loss_history": [float per step]}``, accuracies in [0, 1].

    Lecture: 07_colorization
    """
    check_tensor(train_x, "train_x", dims="N C", dtype="float")
    check_tensor(test_x, "test_x", dims="N C", shape=(None, train_x.shape[1]), dtype="float")
    check_tensor(train_y, "train_y", dims="N", shape=(train_x.shape[0],), dtype="int")
    check_tensor(test_y, "test_y", dims="N", shape=(test_x.shape[0],), dtype="int")
    check_positive_int(steps, "steps")
    mean, std = train_x.mean(0), train_x.std(0).clamp_min(1e-6)  # (C,) each
    xtr, xte = (train_x - mean) / std, (test_x - mean) / std
    K = int(max(train_y.max(), test_y.max())) + 1
    g = torch.Generator().manual_seed(seed)
    probe = nn.Linear(train_x.shape[1], K)
    with torch.no_grad():
        probe.weight.copy_(torch.randn(probe.weight.shape, generator=g) * 0.01)
        probe.bias.zero_()
    opt = torch.optim.Adam(probe.parameters(), lr=lr, weight_decay=weight_decay)
    history = []
    for _ in range(steps):
        loss = nn.functional.cross_entropy(probe(xtr), train_y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        history.append(float(loss.detach()))
    with torch.no_grad():
        train_acc = float((probe(xtr).argmax(1) == train_y).float().mean())
        test_acc = float((probe(xte).argmax(1) == test_y).float().mean())
    return {"train_acc": train_acc, "test_acc": test_acc, "loss_history": history}
