"""The bounded executor of a submission: nbgrader's ``Execute`` with a time limit for the whole notebook.

:class:`BoundedExecute` replaces nbgrader's ``Execute`` in autograde (see :mod:`course_lib.grading.sandbox`): a
wall-time limit for the whole notebook, not only per cell. When the time is up or the kernel dies (memory or
process limit, a crash), the kernel is killed and every cell not reached gets an error output that says why, so
its test cells earn 0 and the feedback shows one clear line; grading goes on with the next student. Outputs are
capped (:mod:`course_lib.grading.feedback` caps what is kept), so a student printing in a loop can't exhaust the
grader's memory. Once the notebook is done the kernel is stopped at once (no graceful wait for its ``atexit``
code), and a stop that hangs is cut short after ``shutdown_timeout`` seconds by killing the kernel's process: a
stalled kernel can cost a student's own cells their time, never the class's grading.

Lecture: 00_welcome (how exercises are graded)
"""

from __future__ import annotations

import asyncio
import functools
import os
import subprocess
import time
import uuid

import zmq
from jupyter_core.paths import jupyter_runtime_dir
from nbformat.notebooknode import NotebookNode
from nbgrader.preprocessors import Execute
from traitlets import Bool, Enum, Integer

from course_lib.core.notebooks import SteadyNotebookClient

from .feedback import output_bytes
from .sandbox import CONN_PREFIX, STOPPED, STOPPED_AT, Limits

# Seconds an interrupted cell has to send its last output and go idle (nbclient's own iopub_timeout); past them it
# "did not stop when interrupted", and the notebook stops.
INTERRUPT_GRACE_S = 4


def _error(evalue: str) -> NotebookNode:
    return NotebookNode(output_type="error", ename=STOPPED, evalue=evalue, traceback=[f"{STOPPED}: {evalue}"])


class BoundedExecute(Execute, SteadyNotebookClient):
    """nbgrader's Execute with a time limit for the whole notebook and a cap on each cell's output.

    Its kernel client is :class:`~course_lib.core.notebooks.SteadyNotebookClient`'s (issue 23: a widget cell's own
    shell sends could hide the cell's reply for a whole cell timeout), through the synchronous ``setup_kernel`` that
    nbconvert's ``preprocess`` uses as well as the asynchronous one.
    """

    notebook_timeout = Integer(1800, help="Wall time (s) for the whole notebook; cells not reached get 0.").tag(
        config=True)
    max_output_chars = Integer(200_000, help="Characters of text output kept per cell.").tag(config=True)
    # nbclient keeps every widget's state the kernel sends, for the notebook's metadata: unbounded (30 comms of 20 MB
    # each: 600 MB kept, 1.2 GB peak in the grader), and the feedback drops widget state anyway (feedback.py).
    store_widget_state = Bool(False).tag(config=True)
    max_held_bytes = Integer(64 << 20, help="Bytes of output held while the notebook runs; output past it is dropped "
                             "as it comes (CapOutputs then keeps at most its own, smaller budget).").tag(config=True)
    shutdown_timeout = Integer(20, help="Seconds the kernel may take to stop; then its process is killed.").tag(
        config=True)
    # Every output is in once the last cell has replied: a graceful shutdown would only run the student's atexit
    # code, and wait for it.
    shutdown_kernel = Enum(["graceful", "immediate"], default_value="immediate").tag(config=True)

    def create_kernel_manager(self):
        # jupyter_client would put the connection file (and the ipc sockets beside it) in the system's temporary
        # folder, which the sandbox must not see. Each kernel gets a folder of its own inside this grader's private
        # runtime folder: only that folder is bound into the sandbox, never the runtime folder with the kernel spec.
        km = super().create_kernel_manager()
        if not km.connection_file:
            conn = os.path.join(jupyter_runtime_dir(), f"{CONN_PREFIX}{uuid.uuid4().hex[:12]}")
            os.makedirs(conn, mode=0o700)
            km.connection_file = os.path.join(conn, "kernel.json")
        make_client = km.client

        def client(**kwargs):
            # The kernel publishes on a PUB socket, which drops what a subscriber has not taken once 1,000 messages
            # wait for it: a cell printing 400 times into a widget (1,200 messages) beside a busy grader lost its
            # last outputs and its "idle" and ran into the notebook limit (1 of ~8 such cells in a loaded make
            # test). With no receive limit the grader's ZMQ thread takes everything at once, whatever its Python is
            # doing; its memory is bounded by the grader's own cap (launcher.limit_grader).
            kc = make_client(**kwargs)
            kc.context.setsockopt(zmq.RCVHWM, 0)  # the default of every socket the client then opens
            return kc

        km.client = client
        return km

    def preprocess(self, nb, resources=None, km=None):
        self._deadline = time.monotonic() + self.notebook_timeout
        self._stopped: str | None = None
        # Output held in this process while the notebook runs, by cell and by display id (an update replaces a
        # display's data): capped as it comes, since CapOutputs only runs once the notebook is done. A kernel that
        # displays one 100 MB string ten times costs the kernel 100 MB and, uncapped, the grader 1.8 GB.
        self._held: dict[int, int] = {}
        self._shown: dict[str, int] = {}
        return super().preprocess(nb, resources, km)

    def _left(self) -> int:
        """Whole seconds left before the notebook's limit, at least 1 (nbclient's timeouts are integers); the whole
        limit before ``preprocess`` set the clock."""
        deadline = getattr(self, "_deadline", None)
        return self.notebook_timeout if deadline is None else max(1, int(deadline - time.monotonic()) + 1)

    def _get_timeout(self, cell):
        cell_timeout = super()._get_timeout(cell)
        left = self._left()
        # After a cell's reply nbclient waits ``iopub_timeout`` (4 s) for the rest of the cell's output and, since
        # nbgrader sets raise_on_iopub_timeout, a late output stopped the notebook: the cells after it earned 0. A
        # correct cell that prints into an ipywidgets.Output a few thousand times (a progress display, a training
        # log) leaves nbclient seconds of backlog (each output re-sends the widget's state), so a busy grader did
        # that. The output may now take until the notebook's own limit, and no longer: the wait is set again to
        # what is left when the reply comes (async_start_new_kernel_client) or the cell is interrupted.
        self.iopub_timeout = left
        return left if cell_timeout is None else min(cell_timeout, left)

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        get_msg = kc.shell_channel.get_msg

        @functools.wraps(get_msg)  # keeps poll_in_slices' mark
        async def get_reply(timeout=None):
            msg = await get_msg(timeout=timeout)
            # nbclient now waits iopub_timeout for the rest of the cell's output: what is left of the notebook's
            # limit at this moment, not at the cell's start (a cell that replied after 100 s of a 120 s limit may
            # not wait 120 s more)
            self.iopub_timeout = self._left()
            return msg

        kc.shell_channel.get_msg = get_reply
        return kc

    async def _async_handle_timeout(self, timeout, cell=None):
        reply = await super()._async_handle_timeout(timeout, cell)  # interrupts the kernel (nbgrader's setting)
        # An interrupted cell that stops sends its traceback and goes idle at once; one that ignores the interrupt
        # (`except KeyboardInterrupt: pass` in a loop) would hold the grader for the whole late-output wait: at the
        # notebook's limit that was the limit again (a looping submission cost 245 s under a 120 s limit).
        self.iopub_timeout = min(INTERRUPT_GRACE_S, self._left())
        return reply

    def on_comm_open_jupyter_widget(self, msg):
        # The grader plays no widget frontend. nbclient's stand-in for ipywidgets.Output would take the output printed
        # inside one (every widgets.interactive has one) out of the cell and, after each output, send the widget's
        # whole state back on the shell socket: the sends behind issue 23's hidden replies, quadratic work in the
        # grader (3,000 prints: seconds of backlog), and output past the per-cell cap. Without it that output stays
        # in the cell's own outputs, capped like any other; the trusted checker's verdicts never depended on it.
        return None

    def _stop(self, reason: str, resources: dict, index: int) -> None:
        self._stopped = reason
        # for the trusted checker, in the grader's own process where student code can't reach it: the answer cells
        # from this one on never finished in the notebook, and are not run again (checker.answer_cells)
        resources[STOPPED_AT] = index
        self.log.warning("stopping this submission: %s", reason)
        # the kernel's death takes the sandbox's PID namespace, fork bombs included, with it
        self._bounded(lambda: self.km.shutdown_kernel(now=True), "stop after " + reason)

    def _cleanup_kernel(self) -> None:
        # nbclient's cleanup, run when the notebook is done (NotebookClient binds its own at class creation).
        self._bounded(super()._async_cleanup_kernel, "shutdown")

    def _bounded(self, stop, what: str) -> None:
        """Run ``stop`` (a coroutine function, or one returning an awaitable or None) for at most
        ``shutdown_timeout`` seconds; past that, or if it fails, kill the kernel's process and drop the client."""
        from jupyter_core.utils import run_sync  # noqa: PLC0415

        km = self.km

        async def bounded() -> bool:
            result = stop()
            if not (asyncio.iscoroutine(result) or isinstance(result, asyncio.Future)):
                return True
            task = asyncio.ensure_future(result)
            done, _ = await asyncio.wait({task}, timeout=self.shutdown_timeout)
            if done:
                task.result()  # its exception, if any
                return True
            task.cancel()  # not awaited: a cancellation that hangs as well must not hang grading
            return False

        try:
            if run_sync(bounded)():
                return
            self.log.warning("kernel %s took over %s s: killing its process", what, self.shutdown_timeout)
        except Exception as exc:  # noqa: BLE001 (already dead, or its manager gone: make sure, then go on)
            self.log.debug("kernel %s: %s", what, exc)
        kill_kernel_process(km)
        if what == "shutdown":
            self.kc = self.km = None

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code" or not cell.source.strip():
            return cell, resources
        if self._stopped:
            cell.outputs = [_error(f"not run: {self._stopped}")]
            return cell, resources
        self._chars = 0
        try:
            cell, resources = super().preprocess_cell(cell, resources, index)
        except Exception as exc:  # noqa: BLE001 (DeadKernelError, CellTimeoutError: nbclient's own)
            name = type(exc).__name__
            if time.monotonic() >= self._deadline - 1:
                why = f"the time limit for the whole notebook ({self.notebook_timeout} s) was reached"
            elif isinstance(exc, MemoryError):  # the grader's own cap (launcher.limit_grader), reading the output
                why = (f"the notebook sent more output than its grader can hold ({Limits.from_env().grader_mb} MiB, "
                       f"COURSE_GRADE_GRADER_MB)")
            elif "Dead" in name:
                why = f"the kernel died: a memory or process limit was reached, or the code crashed it ({name})"
            else:
                why = f"this cell did not stop when interrupted ({name})"
            cell.outputs = list(cell.get("outputs", [])) + [_error(why)]
            self._stop(why, resources, index)
            return cell, resources
        if time.monotonic() >= self._deadline:
            why = f"the time limit for the whole notebook ({self.notebook_timeout} s) was reached"
            cell.outputs = list(cell.outputs) + [_error(why)]
            self._stop(why, resources, index)
        return cell, resources

    def _room(self) -> int:
        return self.max_held_bytes - sum(self._held.values()) - sum(self._shown.values())

    def clear_output(self, outs, msg, cell_index):
        super().clear_output(outs, msg, cell_index)
        if not outs:  # what was cleared no longer counts, for the memory held nor for the cell's text cap
            self._held[cell_index] = self._chars = 0

    def _update_display_id(self, display_id, msg):
        content = msg.get("content", {})
        size = output_bytes({"data": content.get("data", {}), "metadata": content.get("metadata")})
        if size > self._room() + self._shown.get(display_id, 0):
            self.log.warning("a display update of %s bytes was dropped: over max_held_bytes", size)
            return  # the display keeps what it showed before
        super()._update_display_id(display_id, msg)
        if display_id in self._display_id_map:
            self._shown[display_id] = size

    def output(self, outs, msg, display_id, cell_index):
        if self.clear_before_next_output:  # nbclient empties the cell's outputs before it adds this one
            self._held[cell_index] = self._chars = 0
        out = super().output(outs, msg, display_id, cell_index)
        if out is not None and out.get("output_type") != "error" and output_bytes(out) > self._room():
            if outs and outs[-1] is out:
                outs.pop()
            note = f"[output dropped by the grader: the notebook's outputs passed {self.max_held_bytes:,} bytes]\n"
            if not any(o.get("text") == note for o in outs):
                outs.append(NotebookNode(output_type="stream", name="stdout", text=note))
            return None
        if out is not None and out.get("output_type") == "stream":
            text = out.get("text", "")
            left = self.max_output_chars - getattr(self, "_chars", 0)
            self._chars = getattr(self, "_chars", 0) + len(text)
            if len(text) > left:  # keep what fits, then one note
                # on the stream it cut: a note on stderr would fail a test cell that only printed (apply_verdict),
                # and stderr dropped silently would pass one that wrote to stderr
                name = out.get("name", "stdout")
                note = f"[output truncated by the grader after {self.max_output_chars} characters]\n"
                if left > 0:
                    out["text"] = text[:left] + "\n"
                elif outs and outs[-1] is out:
                    outs.pop()
                    out = None
                if not any(o.get("text") == note and o.get("name") == name for o in outs):
                    outs.append(NotebookNode(output_type="stream", name=name, text=note))
        if out is not None:
            self._held[cell_index] = self._held.get(cell_index, 0) + output_bytes(out)
        return out


def kill_kernel_process(km) -> bool:
    """SIGKILL the process a kernel manager started (the bwrap sandbox or the bare kernel); True if one was."""
    process = getattr(getattr(km, "provisioner", None), "process", None)
    if process is None or process.poll() is not None:
        return False
    process.kill()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:  # a process stuck in the kernel (D state): nothing more a grader can do
        pass
    return True
