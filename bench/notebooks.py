"""Wall time of every notebook executed headless in the fast profile (budget: 60 s each on a 2-core laptop).

Runs solutions/ (the full lecture with answers) and lectures/ (the student copy, exercises falling back to the
reference), each in a fresh kernel, and reports seconds per notebook and the slowest.
"""

from __future__ import annotations

import os
import pathlib
import sys
import time

import nbformat

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from _common import write_results  # noqa: E402

from course_lib.core.notebooks import SteadyNotebookClient  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
BUDGET_S = 60.0


def run(path: pathlib.Path) -> float:
    nb = nbformat.read(path, as_version=4)
    # sliced polling: a missed ZMQ wake-up would otherwise count minutes of idle as the notebook's time (issue 23)
    client = SteadyNotebookClient(nb, timeout=900, kernel_name="python3",
                                  resources={"metadata": {"path": str(path.parent)}})
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


def main() -> None:
    os.environ["COURSE_PROFILE"] = "fast"
    os.environ.setdefault("MPLBACKEND", "Agg")
    rows = []
    for folder in ("solutions", "lectures"):
        for path in sorted((ROOT / folder).glob("*/*.ipynb")):
            try:
                seconds, error = run(path), None
            except Exception as err:  # a broken notebook is a result to report, not a reason to stop
                seconds, error = float("nan"), f"{type(err).__name__}: {str(err).splitlines()[0][:200]}"
            rows.append({"notebook": str(path.relative_to(ROOT)), "seconds": round(seconds, 2),
                         "within_budget": seconds <= BUDGET_S, "error": error})
            print(f"{rows[-1]['notebook']:<55} {seconds:7.1f} s")
    ran = [r for r in rows if r["error"] is None]
    slowest = max(ran, key=lambda r: r["seconds"])
    table = "| notebook | seconds | ≤ 60 s |\n|---|---|---|\n" + "\n".join(
        f"| {r['notebook']} | {r['seconds']:.1f} | {'yes' if r['within_budget'] else '**no**'} |"
        if r["error"] is None else f"| {r['notebook']} | failed: {r['error']} | **no** |" for r in rows)
    write_results("notebooks", {"profile": "fast", "budget_s": BUDGET_S, "notebooks": rows, "slowest": slowest},
                  f"Fast profile, headless, one fresh kernel each. Slowest: {slowest['notebook']} "
                  f"({slowest['seconds']:.1f} s).\n\n{table}")


if __name__ == "__main__":
    main()
