"""Shared by the benchmark scripts: where results go and how they are written (JSON + markdown)."""

from __future__ import annotations

import datetime
import json
import os
import pathlib
import platform

import torch

RESULTS = pathlib.Path(__file__).resolve().parent / "results"


def machine() -> dict:
    """What the numbers were measured on."""
    info = {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }
    return info


def write_results(name: str, data: dict, markdown: str) -> pathlib.Path:
    """Write ``bench/results/<name>.json`` (data + machine) and ``<name>.md``; return the JSON path."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    payload = {"benchmark": name, "machine": machine(), **data}
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps(payload, indent=2, sort_keys=False) + "\n")
    m = payload["machine"]
    header = (f"# {name}\n\nMeasured {m['date']} on {m['platform']}, {m['cpu_count']} CPUs, "
              f"device {m['cuda'] or 'CPU'}, torch {m['torch']}.\n\n")
    (RESULTS / f"{name}.md").write_text(header + markdown.strip() + "\n")
    return path
