"""Stalls outside cells in headless notebook runs under CPU load (issue 23): where the time goes that no cell uses.

Runs the slowest lectures (05, 06, 03 from ``solutions/``, fast profile, Agg backend) headless, each in a fresh
kernel, with busy processes beside them (``python -c "while True: pass"``, nice 0), with up to four clients in turn:
nbclient's plain ``NotebookClient``; ``sliced``, polling in 1 s slices only
(:func:`course_lib.core.notebooks.poll_in_slices`); ``steady``,
:class:`course_lib.core.notebooks.SteadyNotebookClient` (shell socket re-checked after each send, and slices); and
``grader``, the grader's own executor (:class:`course_lib.grading.executor.BoundedExecute`, without the sandbox)
through nbconvert's synchronous ``preprocess``, as nbgrader's autograde runs it, with the cell timeout as its
notebook limit (only the cells' clocks are kept for it: the kernel's start and stop count as outside time).
Until 2026-12-07 that path started a plain kernel client (nbclient binds its synchronous ``start_new_kernel_client``
to its own coroutine), so the grader had neither fix although its class asked for both:
``NOTEBOOK_STALLS_CLIENTS=grader python bench/notebook_stalls.py probe`` measures it. Since then the grader also
plays no widget frontend (``BoundedExecute.on_comm_open_jupyter_widget``): the probe's output stays in its cells,
and the grader sends nothing on the shell socket while it waits.
Every run keeps two clocks:

- the kernel's: each cell's ``iopub.status.busy`` -> ``iopub.status.idle`` / ``shell.execute_reply`` from the
  message headers (``record_timing=True``): the time *in* the cell;
- the client's: hooks and wrapped channels note when the kernel was started, when the client was ready, when each
  request was sent, when its reply and its idle status had been received, and how long the kernel took to stop.

Outside-cell time is the total minus the kernel's busy->idle spans. It is split into segments and the largest is
named: ``kernel start`` (process up), ``client ready`` (channels + kernel_info until it answers), ``before cell i``
(request sent -> kernel busy: the kernel late to pick it up), ``after cell i`` (kernel idle and replied -> client
has both: waiting for a reply already sent, which is where a missed wake-up shows), ``between cells i, i+1``
(client-side bookkeeping), ``after the last cell`` and ``kernel stop`` (graceful shutdown: atexit code, teardown).

``probe`` mode runs the reproduction instead: a notebook whose cells print into an ``ipywidgets.Output`` (as every
``widgets.interactive`` does), so nbclient sends on the shell socket while it waits there for the reply; with a
short cell timeout (NOTEBOOK_STALLS_PROBE_TIMEOUT, 20 s) a hidden reply shows as an ``after cell i`` gap equal to
that timeout, and the run still succeeds.

Goal (issue 23): over 20 loaded runs of the slowest notebooks, no run spends more than 30 s outside its cells.

Usage::

    python bench/notebook_stalls.py            # lectures
    python bench/notebook_stalls.py probe      # the Output-widget reproduction
    python bench/notebook_stalls.py merge A.json B.json ...   # one report from several stress processes

Environment: NOTEBOOK_STALLS_N (rounds, default 1: one run per notebook and client), NOTEBOOK_STALLS_NOTEBOOKS
(default ``05_depth,06_restoration,03_localization``), NOTEBOOK_STALLS_CLIENTS (``plain,sliced,steady``; or ``grader``),
NOTEBOOK_STALLS_BUSY (busy processes, default 2), NOTEBOOK_STALLS_TIMEOUT (per cell, default 900 s as in grading),
NOTEBOOK_STALLS_OUT (results name, default ``notebook_stalls``; ``notebook_stalls_probe`` in probe mode). Results
are written after every run, so an interrupted stress run keeps what it measured. Two stress processes side by side
(each the other's load) give twice the runs in the same time; ``merge`` then writes ``notebook_stalls.{json,md}``.
"""

from __future__ import annotations

import datetime
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import nbformat
from nbclient import NotebookClient

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from _common import write_results  # noqa: E402

from course_lib.core.notebooks import SteadyNotebookClient, poll_in_slices  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
GOAL_S = 30.0
LATE_S = 0.5  # a reply received this long after the kernel sent it counts as late (normally ~0.01-0.03 s here)
N = int(os.environ.get("NOTEBOOK_STALLS_N", "1"))
NOTEBOOKS = os.environ.get("NOTEBOOK_STALLS_NOTEBOOKS", "05_depth,06_restoration,03_localization").split(",")


class SlicedNotebookClient(NotebookClient):
    """Polls in slices only, as grading's ``BoundedExecute`` does: bounds a hidden reply to one slice."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        poll_in_slices(kc)
        return kc


CLIENTS = {"plain": NotebookClient, "sliced": SlicedNotebookClient, "steady": SteadyNotebookClient,
           "grader": None}  # grader: run_grader, the path nbgrader's autograde takes
USE = os.environ.get("NOTEBOOK_STALLS_CLIENTS", "plain,sliced,steady").split(",")
PROBE_CELLS = 40
BUSY = int(os.environ.get("NOTEBOOK_STALLS_BUSY", "2"))
TIMEOUT = int(os.environ.get("NOTEBOOK_STALLS_TIMEOUT", "900"))
OUT = os.environ.get("NOTEBOOK_STALLS_OUT", "notebook_stalls")


def _epoch(stamp: str | None) -> float | None:
    """Seconds since the epoch of nbclient's ``%Y-%m-%dT%H:%M:%S.%fZ`` (UTC) timestamps."""
    if not stamp:
        return None
    return datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()


def _kernel_clock(cell) -> tuple[float | None, float | None, float]:
    """(busy, idle-or-replied, span) of an executed cell by the kernel's clock (``record_timing`` metadata)."""
    meta = cell.metadata.get("execution", {})
    busy = _epoch(meta.get("iopub.status.busy"))
    idle = max(filter(None, (_epoch(meta.get("iopub.status.idle")), _epoch(meta.get("shell.execute_reply")))),
               default=None)
    return busy, idle, (idle - busy) if busy and idle else 0.0


def timed(cls: type[NotebookClient]) -> type[NotebookClient]:
    """``cls`` with the client-side clock: kernel start and stop, and every shell/IOPub message as received."""

    class Timed(cls):
        async def async_start_new_kernel(self, **kwargs):
            self.marks["kernel_start"] = time.time()
            await super().async_start_new_kernel(**kwargs)
            self.marks["kernel_up"] = time.time()

        async def async_start_new_kernel_client(self):
            kc = await super().async_start_new_kernel_client()  # Steady slices its channels in here
            self.marks["client_ready"] = time.time()
            for name in ("shell", "iopub"):  # wrap outermost: what nbclient itself sees, and when
                channel = getattr(kc, f"{name}_channel")

                async def noted(timeout=None, _get=channel.get_msg, _name=name):
                    msg = await _get(timeout=timeout)
                    self.received.append((time.time(), _name, msg["msg_type"],
                                          msg["parent_header"].get("msg_id"),
                                          msg.get("content", {}).get("execution_state")))
                    return msg

                channel.get_msg = noted
            return kc

        async def _async_cleanup_kernel(self):
            self.marks.setdefault("stop_start", time.time())
            try:
                await super()._async_cleanup_kernel()
            finally:
                self.marks.setdefault("stop_end", time.time())

    Timed.__name__ = f"Timed{cls.__name__}"
    return Timed


def run(path: pathlib.Path, client: str) -> dict:
    """One headless run of ``path``; the timeline and the largest gap outside the cells."""
    nb = nbformat.read(path, as_version=4)
    sent, done = {}, {}
    c = timed(CLIENTS[client])(
        nb, timeout=TIMEOUT, kernel_name="python3", record_timing=True,
        resources={"metadata": {"path": str(path.parent)}},
        on_cell_execute=lambda cell, cell_index: sent.__setitem__(cell_index, time.time()),
        on_cell_executed=lambda cell, cell_index, execute_reply: done.__setitem__(cell_index, time.time()))
    c.marks, c.received = {}, []
    load = os.getloadavg()[0]
    start = time.time()
    c.marks["started"] = start
    error = None
    try:
        c.execute()
    except Exception as err:  # a timeout or a crash is a result to report
        error = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
    end = time.time()
    m = c.marks
    cells, segments, in_cells = [], [], 0.0
    segments.append(("kernel start", m.get("kernel_up", end) - start))
    segments.append(("client ready", m.get("client_ready", end) - m.get("kernel_up", end)))
    prev = m.get("client_ready", end)
    for i in sorted(sent):
        busy, idle, span = _kernel_clock(nb.cells[i])
        in_cells += span
        row = {"cell": i, "kernel_s": round(span, 3), "client_s": round(done.get(i, end) - sent[i], 3)}
        label = "before the first cell (kernel_info)" if not cells else f"between cells {cells[-1]['cell']}, {i}"
        segments.append((label, sent[i] - prev))
        if busy:
            row["before_s"] = round(busy - sent[i], 3)  # request sent -> kernel busy
            segments.append((f"before cell {i} (request sent, kernel not yet busy)", busy - sent[i]))
        if idle:
            row["after_s"] = round(done.get(i, end) - idle, 3)  # kernel done -> client has reply and idle
            segments.append((f"after cell {i} (reply sent, not yet received)", done.get(i, end) - idle))
        cells.append(row)
        prev = done.get(i, end)
    segments.append(("after the last cell", m.get("stop_start", end) - prev))
    segments.append(("kernel stop", m.get("stop_end", end) - m.get("stop_start", end)))
    segments.append(("after the kernel stopped", end - m.get("stop_end", end)))
    where, largest = max(segments, key=lambda s: s[1])
    return {"notebook": path.stem, "client": client, "load_1min": round(load, 2), "busy_processes": BUSY,
            "stress": OUT, "started": round(start, 1), "error": error,
            "total_s": round(end - start, 2), "in_cells_s": round(in_cells, 2),
            "outside_s": round(end - start - in_cells, 2), "largest_gap_s": round(largest, 2), "largest_gap": where,
            "kernel_start_s": round(segments[0][1], 2), "client_ready_s": round(segments[1][1], 2),
            "after_last_s": round(segments[-3][1], 2), "kernel_stop_s": round(segments[-2][1], 2),
            "cells": cells}


def run_grader(path: pathlib.Path) -> dict:
    """One run of ``path`` the way ``make grade`` runs a submission: the grader's executor
    (:class:`course_lib.grading.executor.BoundedExecute`, without the sandbox) through nbconvert's synchronous
    ``preprocess``, with the cell timeout as its notebook limit. Only the cells' two clocks are kept: request sent,
    kernel busy -> idle/replied, reply received; the kernel's start and stop count as outside time."""
    from course_lib.grading.executor import BoundedExecute  # noqa: PLC0415 (needs nbgrader)

    sent, done = {}, {}

    class Noted(BoundedExecute):
        def on_cell_executed(self, **kwargs):  # a method in nbgrader's Execute, not a hook trait
            done[kwargs["cell_index"]] = time.time()
            return super().on_cell_executed(**kwargs)

    nb = nbformat.read(path, as_version=4)
    c = Noted(timeout=TIMEOUT, notebook_timeout=TIMEOUT, kernel_name="python3", record_timing=True,
              on_cell_execute=lambda cell, cell_index: sent.__setitem__(cell_index, time.time()))
    load, start, error = os.getloadavg()[0], time.time(), None
    try:
        nb, _ = c.preprocess(nb, {"metadata": {"path": str(path.parent)}})
    except Exception as err:  # a crash is a result to report
        error = f"{type(err).__name__}: {str(err).splitlines()[0][:200] if str(err) else ''}"
    end = time.time()
    stopped = [o["evalue"] for cell in nb.cells for o in cell.get("outputs", []) if o.get("output_type") == "error"]
    error = error or (stopped[0] if stopped else None)
    cells, in_cells, gaps = [], 0.0, [("kernel start and stop, outside cells", 0.0)]
    for i in sorted(sent):
        busy, idle, span = _kernel_clock(nb.cells[i])
        in_cells += span
        row = {"cell": i, "kernel_s": round(span, 3), "client_s": round(done.get(i, end) - sent[i], 3)}
        if idle:
            row["after_s"] = round(done.get(i, end) - idle, 3)
            gaps.append((f"after cell {i} (reply sent, not yet received)", row["after_s"]))
        cells.append(row)
    outside = end - start - in_cells
    gaps[0] = (gaps[0][0], outside - sum(g for _, g in gaps[1:]))
    where, largest = max(gaps, key=lambda g: g[1])
    return {"notebook": path.stem, "client": "grader", "load_1min": round(load, 2), "busy_processes": BUSY,
            "stress": OUT, "started": round(start, 1), "error": error, "total_s": round(end - start, 2),
            "in_cells_s": round(in_cells, 2), "outside_s": round(outside, 2), "largest_gap_s": round(largest, 2),
            "largest_gap": where, "kernel_start_s": 0.0, "client_ready_s": 0.0, "after_last_s": 0.0,
            "kernel_stop_s": 0.0, "cells": cells}


def report(rows: list[dict], busy: int | str, name: str = OUT, note: str = "") -> None:
    note = f"{note.strip()}\n\n" if note.strip() else ""
    summary = {}
    for key in dict.fromkeys(_key(r) for r in rows):
        mine = [r for r in rows if _key(r) == key]
        worst = max(mine, key=lambda r: r["outside_s"])
        summary[key] = {"runs": len(mine), "failed": sum(r["error"] is not None for r in mine),
                        "max_outside_s": worst["outside_s"], "worst_run": worst["notebook"],
                        "max_largest_gap_s": max(r["largest_gap_s"] for r in mine),
                        "worst_gap_where": max(mine, key=lambda r: r["largest_gap_s"])["largest_gap"],
                        "over_goal": sum(r["outside_s"] > GOAL_S for r in mine),
                        "late_replies": sum(_late(r) for r in mine),
                        "max_before_cell_s": max((c.get("before_s", 0.0) for r in mine for c in r["cells"]), default=0),
                        "max_after_cell_s": max((c.get("after_s", 0.0) for r in mine for c in r["cells"]), default=0)}
    head = ("| # | notebook | client | load | total s | in cells s | outside s | largest gap s | where | "
            "late replies | kernel start s | stop s | error |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
    table = head + "\n".join(
        f"| {k} | {r['notebook']} | {r['client']} | {r['load_1min']} | {r['total_s']:.1f} | {r['in_cells_s']:.1f} | "
        f"{r['outside_s']:.1f} | {r['largest_gap_s']:.1f} | {r['largest_gap']} | {_late(r)} | "
        f"{r['kernel_start_s']:.1f} | {r['kernel_stop_s']:.1f} | {r['error'] or ''} |" for k, r in enumerate(rows, 1))
    lines = "\n".join(f"- **{k}**: {s['runs']} runs, {s['failed']} failed; most time outside cells "
                      f"{s['max_outside_s']:.1f} s ({s['worst_run']}); largest single gap {s['max_largest_gap_s']:.1f}"
                      f" s ({s['worst_gap_where']}); runs over {GOAL_S:.0f} s outside: {s['over_goal']}; replies "
                      f"received {LATE_S} s or more after they were sent: {s['late_replies']}; longest request sent "
                      f"-> kernel busy {s['max_before_cell_s']:.2f} s, reply sent -> received "
                      f"{s['max_after_cell_s']:.2f} s"
                      for k, s in summary.items())
    write_results(name, {"profile": "fast", "busy_processes": busy, "cell_timeout_s": TIMEOUT,
                         "goal_outside_s": GOAL_S, "summary": summary, "runs": rows},
                  f"Headless runs of solutions/ lectures {', '.join(NOTEBOOKS)} (and of the Output-widget probe, "
                  f"where listed) with {busy} busy processes beside them, plus whatever else loaded the machine "
                  f"(the load column: 1-minute load average on 2 cores when the run began). Outside = total minus "
                  f"the kernel's busy->idle spans; the largest gap is the longest single segment of it. Goal: no "
                  f"lecture run over {GOAL_S:.0f} s outside its cells.\n\n{note}{lines}\n\n{table}")


def _late(row: dict) -> int:
    """Cells of ``row`` whose reply reached the client LATE_S or more after the kernel sent it."""
    return sum(c.get("after_s", 0.0) >= LATE_S for c in row["cells"])


def _key(row: dict) -> str:
    return f"{row['client']} ({'probe' if row['notebook'] == 'probe' else 'lectures'})"


def merge(paths: list[str], note: str = "") -> None:
    """Write ``notebook_stalls`` from the runs of several stress processes' result files, in time order."""
    import json  # noqa: PLC0415

    runs = [json.loads(pathlib.Path(p).read_text()) for p in paths]
    rows = sorted((r for run_ in runs for r in run_["runs"]), key=lambda r: r.get("started", 0))
    busy = " + ".join(str(run_["busy_processes"]) for run_ in runs) + f" (in {len(runs)} stress processes)"
    report(rows, busy, "notebook_stalls", note)


def probe_notebook(folder: pathlib.Path) -> pathlib.Path:
    """The reproduction: PROBE_CELLS cells each printing into one ``ipywidgets.Output``."""
    cells = ["import ipywidgets as widgets\nout = widgets.Output()\ndisplay(out)"]
    cells += [f"with out:\n    print({i})" for i in range(PROBE_CELLS)]
    path = folder / "probe.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), path)
    return path


def main() -> None:
    global TIMEOUT, OUT
    if sys.argv[1:2] == ["merge"]:
        return merge(sys.argv[2:], os.environ.get("NOTEBOOK_STALLS_NOTE", ""))
    os.environ["COURSE_PROFILE"] = "fast"
    os.environ["MPLBACKEND"] = "Agg"
    probing = sys.argv[1:2] == ["probe"]
    tmp = tempfile.TemporaryDirectory(prefix="notebook-stalls-")
    if probing:
        TIMEOUT = int(os.environ.get("NOTEBOOK_STALLS_PROBE_TIMEOUT", "20"))
        OUT = os.environ.get("NOTEBOOK_STALLS_OUT", "notebook_stalls_probe")
        paths = [probe_notebook(pathlib.Path(tmp.name))]
    else:
        paths = [next((ROOT / "solutions" / name).glob("*.ipynb")) for name in NOTEBOOKS]
    hogs = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(BUSY)]
    rows: list[dict] = []
    try:
        for _ in range(N):
            for path in paths:
                for client in USE:
                    rows.append(run_grader(path) if client == "grader" else run(path, client))
                    r = rows[-1]
                    print(f"{r['notebook']:<18} {client:<6} load {r['load_1min']:4.1f} total {r['total_s']:6.1f} s "
                          f"in cells {r['in_cells_s']:6.1f} s outside {r['outside_s']:6.1f} s largest "
                          f"{r['largest_gap_s']:6.1f} s ({r['largest_gap']}) {r['error'] or ''}", flush=True)
                    report(rows, BUSY, OUT, os.environ.get("NOTEBOOK_STALLS_NOTE", ""))
    finally:
        for hog in hogs:
            hog.terminate()
        for hog in hogs:
            hog.wait()
        tmp.cleanup()


if __name__ == "__main__":
    main()
