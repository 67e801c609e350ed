"""Checkpoints with metadata: what made them, and what they claim.

A checkpoint is a ``torch.save`` of a plain dict::

    {"format": "convnet-course/1", "task": "net-8s", "command": "python -m course_lib.train net ...",
     "profile": "full", "seed": 0, "metrics": {"mean_iou": 0.71}, "config": {...},
     "library_version": "0.1.0", "torch_version": "2.14.1", "state_dict": {...}}

Loading always uses ``torch.load(..., weights_only=True)``: a checkpoint is data, never code. A file whose task
or parameter shapes do not match the model refuses to load with a message naming the difference, and writing
goes through a temporary file so that an interrupted save never leaves half a checkpoint behind.

Lecture: 00_welcome
"""

from __future__ import annotations

import math
import numbers
import os
import pathlib
import tempfile

import torch

from .registry import made_by

FORMAT = "convnet-course/1"
ROOT = pathlib.Path(__file__).resolve().parents[2] / "checkpoints"


def checkpoint_path(name: str) -> pathlib.Path:
    """Path of a shipped checkpoint, ``checkpoints/<name>.pt`` at the repository root."""
    return ROOT / f"{name}.pt"


def save_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module,
    *,
    task: str,
    command: str,
    profile: str,
    seed: int,
    metrics: dict,
    config: dict | None = None,
    half: bool = False,
) -> pathlib.Path:
    """Write ``model``'s weights and the metadata to ``path`` atomically; return the path.

    ``half=True`` stores floating weights as float16 (they load back as the model's dtype), halving the size of
    a shipped teaching checkpoint.

    Nothing is written that :func:`load_checkpoint` would refuse or could not read back: ``config`` must hold
    plain data only (str, int, float, bool, None, lists, tuples and dicts of them, or tensors; a numpy scalar
    such as ``np.float64(1e-3)`` cannot be read with ``weights_only=True``: pass ``float(x)``), ``metrics`` must
    map names to finite numbers, and the weights must be finite (and, with ``half=True``, within float16's
    range ±65504).
    """
    from course_lib import __version__

    from .checks import check_seed
    from .profiles import PROFILES

    path = _check_path(path)
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, but found {type(model).__name__}")
    if not isinstance(task, str) or not task:
        raise ValueError(f"task must be a non-empty str (e.g. 'net-s1'), but found {task!r}")
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, but found {profile!r}")
    check_seed(seed)
    if not isinstance(metrics, dict):
        raise TypeError(f"metrics must be a dict of name: number, but found {type(metrics).__name__}")
    for k, v in metrics.items():
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or math.isnan(float(v)):
            raise ValueError(f"metrics[{k!r}] must be a number (not NaN), but found {type(v).__name__} ({v!r})")
    if config is not None and not isinstance(config, dict):
        raise TypeError(f"config must be a dict (the settings the model was built with), but found "
                        f"{type(config).__name__}")
    _check_plain(config or {}, "config")
    _check_weights(model.state_dict(), "model", half=half)
    if path.is_dir():
        raise IsADirectoryError(f"path {path} is a directory; give the checkpoint's file name, e.g. "
                                f"{path / 'model.pt'}")
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise NotADirectoryError(f"cannot save {path}: {parent} is a file, not a folder")
            break
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        k: (v.detach().to("cpu", torch.float16) if half and v.is_floating_point() else v.detach().cpu())
        for k, v in model.state_dict().items()
    }
    payload = {
        "format": FORMAT,
        "task": str(task),
        "command": str(command),
        "profile": str(profile),
        "seed": int(seed),
        "metrics": {str(k): float(v) for k, v in metrics.items()},
        "config": dict(config or {}),
        "library_version": __version__,
        "torch_version": str(torch.__version__),
        "state_dict": state,
    }
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        torch.save(payload, tmp)
        os.chmod(tmp, 0o644)  # mkstemp creates the file private (0600); a shipped checkpoint is for everyone
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return path


def load_checkpoint(
    path: str | os.PathLike,
    model: torch.nn.Module | None = None,
    *,
    task: str | None = None,
    map_location: str | torch.device = "cpu",
) -> dict:
    """Read a checkpoint; if ``model`` is given, check it fits and load the weights into it.

    Parameters
    ----------
    path : path-like
        The ``.pt`` file.
    model : nn.Module, optional
        Receives the weights; every parameter name and shape must match.
    task : str, optional
        The task the caller expects; a checkpoint of another task is refused.

    Returns
    -------
    dict
        The whole checkpoint: metadata and ``"state_dict"``.

    Raises
    ------
    FileNotFoundError
        The file is missing (the message says which command makes it).
    ValueError
        The file is not a course checkpoint, is corrupt, or does not match ``task`` or ``model``.
    """
    path = _check_path(path)
    _check_map_location(map_location)
    if path.is_dir():
        raise IsADirectoryError(f"checkpoint {path} is a directory, not a .pt file")
    if not path.is_file():
        hint = f" Make it with `python -m course_lib.train {made_by(task)}`." if task else ""
        raise FileNotFoundError(f"checkpoint {path} does not exist.{hint}")
    try:
        ckpt = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # torch raises several types for a damaged file
        raise ValueError(f"{path} is not a readable checkpoint ({type(err).__name__}: {err})") from None
    if not isinstance(ckpt, dict) or ckpt.get("format") != FORMAT or "state_dict" not in ckpt:
        raise ValueError(f"{path} is not a convnet-course checkpoint (expected format {FORMAT!r})")
    missing = [key for key in ("task", "command", "profile", "seed", "metrics") if key not in ckpt]
    if missing:
        raise ValueError(f"{path} is a damaged convnet-course checkpoint: metadata {missing} missing")
    if task is not None and ckpt["task"] != task:
        raise ValueError(f"{path} holds a checkpoint for task {ckpt['task']!r}, but task {task!r} was expected")
    state = ckpt["state_dict"]
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise ValueError(f"{path} is a damaged convnet-course checkpoint: state_dict must map names to tensors")
    _check_weights(ckpt["state_dict"], str(path))
    if model is not None:
        _load_into(model, ckpt, path)
    return ckpt


def load_model(
    path: str | os.PathLike,
    build,
    *,
    task: str,
    device: str | torch.device | None = None,
) -> tuple[torch.nn.Module, dict]:
    """Read a checkpoint, build its model from the settings it records, load the weights: one read.

    The pattern every lecture needs ("load the checkpoint if present") in one place: the architecture's sizes
    (widths, variants) come from the checkpoint's ``config``, so a file trained with other sizes than the
    current profile still loads.

    Parameters
    ----------
    path : path-like
        The ``.pt`` file.
    build : callable ``(config: dict) -> nn.Module``
        Builds the untrained model from the checkpoint's ``config``.
    task : str
        The task the file must hold.
    device : device, optional
        Where the model goes (default :func:`course_lib.get_device`).

    Returns
    -------
    (model, checkpoint)
        The model in eval mode on ``device``, and the whole checkpoint dict (metadata and weights).
    """
    from .device import get_device, resolve_device

    device = resolve_device(device) if device is not None else get_device()
    ckpt = load_checkpoint(path, task=task)
    model = build(ckpt.get("config") or {})
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"build must return a torch.nn.Module, but returned {type(model).__name__}")
    _load_into(model, ckpt, pathlib.Path(path))
    return model.to(device).eval(), ckpt


def checkpoint_or_train(name: str, build, train, *, seed: int = 0, directory: str | os.PathLike | None = None,
                        device: str | torch.device | None = None) -> tuple[torch.nn.Module, dict]:
    """The body of every topic's ``load_or_train(name, ...)``: load ``<directory>/<name>.pt`` if it is there,
    else train the model now.

    Parameters
    ----------
    name : str
        The checkpoint (and its ``task``), e.g. ``"net-8s"``.
    build : callable ``(config: dict) -> nn.Module``
        Builds the untrained model from the settings the checkpoint records (see :func:`load_model`).
    train : callable ``() -> (model, config, metrics)``
        Trains the model now (only called when the file is missing); ``config`` is the settings dict it used and
        ``metrics`` what it measured on the held-out split.
    seed : int
        The seed ``train`` uses (recorded in the info).
    directory : path-like, optional
        Folder of the checkpoint (default the shipped ``checkpoints/``).
    device : device, optional
        Where the model goes (default :func:`course_lib.get_device`).

    Returns
    -------
    (model, info)
        The model in eval mode on ``device``; ``info`` has ``source`` ("checkpoint" or "trained now"),
        ``config``, ``metrics``, ``command`` (None when trained now), ``seed`` and ``profile``.

    Lecture: 00_welcome (and every lecture that loads a checkpoint)
    """
    from .device import get_device, resolve_device
    from .profiles import profile

    device = resolve_device(device) if device is not None else get_device()
    path = (pathlib.Path(directory) if directory is not None else ROOT) / f"{name}.pt"
    if path.is_file():
        model, ckpt = load_model(path, build, task=name, device=device)
        return model, {"source": "checkpoint", "config": ckpt.get("config") or {}, "metrics": ckpt["metrics"],
                       "command": ckpt["command"], "seed": ckpt["seed"], "profile": ckpt["profile"]}
    model, config, metrics = train()
    return model.to(device).eval(), {"source": "trained now", "config": dict(config), "metrics": dict(metrics),
                                     "command": None, "seed": seed, "profile": profile()}


def _load_into(model: torch.nn.Module, ckpt: dict, path) -> None:
    _check_fits(ckpt["state_dict"], model, path)
    own = model.state_dict()
    model.load_state_dict({k: v.to(own[k].dtype) for k, v in ckpt["state_dict"].items()})


def _check_map_location(map_location) -> None:
    """Refuse a device that this machine does not have, before torch reports it as an unreadable file."""
    from .device import resolve_device

    resolve_device(map_location, "map_location")


def _check_path(path) -> pathlib.Path:
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"path must be a str or path-like, but found {type(path).__name__} ({path!r})")
    return pathlib.Path(path)


_PLAIN = (str, int, float, bool, type(None), torch.Tensor)


def _check_plain(value, where: str) -> None:
    """Refuse what ``torch.load(..., weights_only=True)`` cannot read back: anything but plain data and tensors.

    Walks dicts, lists and tuples and names the first offending entry, e.g. ``config['lr']``.
    """
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, (str, int)):
                raise TypeError(f"{where} keys must be str or int, but found {type(k).__name__} ({k!r})")
            _check_plain(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_plain(v, f"{where}[{i}]")
    elif type(value) not in _PLAIN and not isinstance(value, torch.Tensor):
        hint = " (convert it with float(), int() or .tolist())" if type(value).__module__ == "numpy" else ""
        raise TypeError(f"{where} is a {type(value).__module__}.{type(value).__name__} ({value!r}); a checkpoint "
                        f"config holds plain str, int, float, bool, None, lists and dicts only, so that "
                        f"torch.load(weights_only=True) can read it back{hint}")


def _check_weights(state: dict, where: str, *, half: bool = False) -> None:
    """Refuse NaN or infinite weights (a diverged run), and weights that float16 cannot hold when ``half``."""
    for k, v in state.items():
        if not (isinstance(v, torch.Tensor) and v.is_floating_point()) or v.numel() == 0:
            continue
        bad = ~torch.isfinite(v)
        if bad.any():
            raise ValueError(f"{where} has {int(bad.sum())} NaN or infinite values in {k!r}: a diverged run; "
                             f"such weights are not saved or loaded")
        if half and float(v.abs().max()) > 65504:
            raise ValueError(f"{where} has values up to {float(v.abs().max()):.4g} in {k!r}, beyond float16's "
                             f"range ±65504: save with half=False")


def _check_fits(state: dict, model: torch.nn.Module, path) -> None:
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    wrong = [f"{k}: checkpoint {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
             for k in own if k in state and state[k].shape != own[k].shape]
    if missing or unexpected or wrong:
        parts = []
        if missing:
            parts.append(f"missing {missing[:5]}")
        if unexpected:
            parts.append(f"unexpected {unexpected[:5]}")
        if wrong:
            parts.append("shape mismatch " + "; ".join(wrong[:5]))
        raise ValueError(f"{path} does not fit {type(model).__name__}: " + ", ".join(parts))
