"""Kernel replies that sit unread (issue 23), without a kernel.

First the mechanism on real ZMQ sockets: a reply reaches the client's asyncio shell socket while a poll waits on it,
and a send on the same channel (nbclient's OutputWidget does that during widget cells) consumes the descriptor's
edge: the poll sleeps to its timeout. :func:`recheck_after_send` removes the stall; :func:`poll_in_slices` bounds it.

Then poll_in_slices against a fake channel that reproduces the failure abstractly: a message arrives while a poll is
waiting, and that poll misses it and sleeps its whole timeout; any poll *started* after the arrival sees the message
at once (pyzmq checks the socket's EVENTS when a poll begins).
"""

from __future__ import annotations

import asyncio
import time
from queue import Empty
from types import SimpleNamespace

import pytest
import zmq
import zmq.asyncio
from jupyter_client.channels import AsyncZMQSocketChannel
from jupyter_client.session import Session
from nbclient import NotebookClient

from course_lib.core import notebooks
from course_lib.core.notebooks import SteadyNotebookClient, poll_in_slices, recheck_after_send


def reply_while_sending(tmp_path, fix: str, timeout: float = 1.5) -> tuple[float, str]:
    """Seconds a waiting ``shell_channel.get_msg(timeout)`` takes to return a reply that arrived just before a send
    on the same channel, with ``fix`` in {"none", "recheck", "slices"} applied to the channel."""

    async def main():
        ctx, peer_ctx = zmq.asyncio.Context(), zmq.Context()
        kernel = peer_ctx.socket(zmq.ROUTER)  # the kernel's shell socket
        kernel.bind(f"ipc://{tmp_path}/shell")
        sock = ctx.socket(zmq.DEALER)
        sock.connect(f"ipc://{tmp_path}/shell")
        session = Session(key=b"test")
        shell = AsyncZMQSocketChannel(sock, session)
        kc = SimpleNamespace(shell_channel=shell, iopub_channel=MissedWakeChannel(None))
        if fix == "recheck":
            recheck_after_send(kc)
        elif fix == "slices":
            poll_in_slices(kc, slice_s=0.2)
        try:
            shell.send(session.msg("execute_request", {"code": "w"}))
            ident = kernel.recv_multipart()[0]
            waiting = asyncio.ensure_future(shell.get_msg(timeout=timeout))
            await asyncio.sleep(0.05)  # the poll now sleeps on the socket's descriptor
            session.send(kernel, "execute_reply", {"status": "ok"}, ident=ident)
            time.sleep(0.1)  # the reply reaches the socket while the loop is busy elsewhere (blocking on purpose)
            shell.send(session.msg("comm_msg", {"data": {"method": "update"}}))  # OutputWidget.sync_state
            start = time.monotonic()
            msg = await waiting
            return time.monotonic() - start, msg["msg_type"]
        finally:
            sock.close(0)
            kernel.close(0)
            ctx.term()
            peer_ctx.term()

    return asyncio.run(main())


def test_a_send_on_the_shell_channel_can_hide_a_reply_until_the_timeout(tmp_path):
    # the bug as nbclient meets it: the reply is there, the poll sleeps to its timeout, then returns it (no error)
    seconds, kind = reply_while_sending(tmp_path, "none", timeout=1.5)
    assert kind == "execute_reply"
    assert seconds > 1.0, f"the reply came after {seconds:.2f} s: the send no longer hides it (pyzmq fixed?)"


def test_recheck_after_send_wakes_the_waiting_poll(tmp_path):
    seconds, kind = reply_while_sending(tmp_path, "recheck", timeout=30)
    assert kind == "execute_reply" and seconds < 0.5, f"{seconds:.2f} s"


def test_sliced_polls_bound_the_hidden_reply_to_a_slice(tmp_path):
    seconds, kind = reply_while_sending(tmp_path, "slices", timeout=30)
    assert kind == "execute_reply" and seconds < 0.2 + 0.3, f"{seconds:.2f} s"


def test_recheck_leaves_non_asyncio_channels_and_does_not_nest(tmp_path):
    plain = SimpleNamespace(shell_channel=SimpleNamespace(socket=None, send=print))
    recheck_after_send(plain)
    assert plain.shell_channel.send is print
    ctx = zmq.asyncio.Context()
    try:
        shell = AsyncZMQSocketChannel(ctx.socket(zmq.DEALER), Session())
        kc = SimpleNamespace(shell_channel=shell)
        recheck_after_send(kc)
        once = shell.send
        recheck_after_send(kc)
        assert shell.send is once and once.__wrapped__ is not None
        shell.socket.close(0)
    finally:
        ctx.term()


class MissedWakeChannel:
    """An async channel whose message arrives ``arrive_s`` after creation, unseen by the poll then waiting."""

    def __init__(self, arrive_s: float | None = 0.05):
        self.arrival = None if arrive_s is None else time.monotonic() + arrive_s
        self.timeouts: list[float | None] = []  # every poll's timeout, as the channel was asked

    def _ready(self) -> bool:
        return self.arrival is not None and time.monotonic() >= self.arrival

    async def get_msg(self, timeout=None):
        self.timeouts.append(timeout)
        if self._ready():  # a new poll checks EVENTS first: the message is there
            self.arrival = None
            return {"msg_type": "execute_reply"}
        # waiting: the arrival's wake-up is lost, so this poll sleeps its whole timeout and finds nothing
        await asyncio.sleep(3600 if timeout is None else timeout)
        raise Empty


def client(shell, iopub=None):
    return SimpleNamespace(shell_channel=shell, iopub_channel=iopub or MissedWakeChannel(None),
                           stdin_channel=MissedWakeChannel(None))


def test_the_fake_stalls_a_single_long_poll():
    # the failure as nbclient meets it: one get_msg with the whole cell timeout never sees the reply
    shell = MissedWakeChannel()

    async def main():
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(shell.get_msg(timeout=900), 0.5)

    asyncio.run(main())
    assert shell.timeouts == [900]


def test_sliced_poll_recovers_a_missed_wake_up_within_a_slice():
    shell = MissedWakeChannel(arrive_s=0.05)
    poll_in_slices(client(shell))

    async def main():
        start = time.monotonic()
        msg = await shell.get_msg(timeout=900)
        return msg, time.monotonic() - start

    msg, seconds = asyncio.run(main())
    assert msg["msg_type"] == "execute_reply"
    # the first 1 s slice missed the arrival; the second saw it at once
    assert 0.9 <= seconds < 2.0, f"sliced poll took {seconds:.2f} s, expected about one slice (1 s)"
    assert shell.timeouts[:2] == [1.0, 1.0], shell.timeouts


def test_no_timeout_polls_in_slices_forever():
    # nbclient waits for IOPub with timeout=None: sliced, a missed arrival costs one slice
    iopub = MissedWakeChannel(arrive_s=0.25)
    kc = client(MissedWakeChannel(None), iopub)
    poll_in_slices(kc, slice_s=0.1)

    async def main():
        start = time.monotonic()
        await kc.iopub_channel.get_msg(timeout=None)
        return time.monotonic() - start

    seconds = asyncio.run(main())
    assert 0.25 <= seconds < 1.0, seconds
    assert all(t == pytest.approx(0.1) for t in iopub.timeouts), iopub.timeouts


@pytest.mark.parametrize("timeout", [0.0, 0.35])
def test_sliced_poll_still_raises_empty_at_the_deadline(timeout):
    shell = MissedWakeChannel(None)  # nothing ever comes
    poll_in_slices(client(shell), slice_s=0.1)

    async def main():
        start = time.monotonic()
        with pytest.raises(Empty):
            await shell.get_msg(timeout=timeout)
        return time.monotonic() - start

    seconds = asyncio.run(main())
    # margins for a loaded machine: a sleep may overrun, never end early
    assert timeout <= seconds < timeout + 0.5, f"Empty after {seconds:.2f} s for timeout={timeout}"
    assert all(t <= 0.1 + 1e-9 for t in shell.timeouts), shell.timeouts
    assert sum(shell.timeouts) <= timeout + 1e-9, f"polled past the deadline: {shell.timeouts}"


def test_only_shell_and_iopub_are_sliced():
    kc = client(MissedWakeChannel(None))
    stdin_get = kc.stdin_channel.get_msg
    poll_in_slices(kc)
    assert kc.stdin_channel.get_msg == stdin_get
    assert getattr(kc.shell_channel.get_msg, "__wrapped__", None) is not None
    assert getattr(kc.iopub_channel.get_msg, "__wrapped__", None) is not None


def test_slicing_twice_does_not_nest():
    shell = MissedWakeChannel(None)
    kc = client(shell)
    poll_in_slices(kc)
    sliced = kc.shell_channel.get_msg
    poll_in_slices(kc)
    assert kc.shell_channel.get_msg is sliced


@pytest.mark.parametrize("slice_s", [0, -1.0, float("nan")])
def test_slice_must_be_positive(slice_s):
    with pytest.raises(ValueError, match="slice_s"):
        poll_in_slices(client(MissedWakeChannel(None)), slice_s=slice_s)


def test_steady_client_slices_its_kernel_client(monkeypatch):
    shell = MissedWakeChannel(None)
    kc = client(shell)

    async def start(self):
        return kc

    monkeypatch.setattr(NotebookClient, "async_start_new_kernel_client", start)
    got = asyncio.run(SteadyNotebookClient(notebooks_nb()).async_start_new_kernel_client())
    assert got is kc and getattr(kc.shell_channel.get_msg, "__wrapped__", None) is not None
    # (the fake shell channel has no asyncio socket, so recheck_after_send leaves its send alone)


def notebooks_nb():
    import nbformat  # noqa: PLC0415

    return nbformat.v4.new_notebook()


def test_default_slice_is_one_second():
    assert notebooks.POLL_SLICE_S == 1.0


def _fixes(kc) -> dict[str, bool]:
    return {"shell sliced": getattr(kc.shell_channel.get_msg, "_slice_s", None) == notebooks.POLL_SLICE_S,
            "iopub sliced": getattr(kc.iopub_channel.get_msg, "_slice_s", None) == notebooks.POLL_SLICE_S,
            "shell re-checked after a send": getattr(kc.shell_channel.send, "_rechecks", False)}


@pytest.mark.parametrize("where", ["notebooks", "grading"])
def test_the_synchronous_path_applies_both_fixes(where, tmp_path, monkeypatch):
    """nbconvert's ``ExecutePreprocessor.preprocess``, and so nbgrader's autograde, starts its kernel client through
    the *synchronous* ``setup_kernel``, which nbclient binds to its own coroutine when the class is made: an override
    of the coroutine alone is skipped there. Until 2026-12-07 grading ran without either fix, and a correct
    submission whose widget cell's reply was hidden scored 0 at the notebook time limit (a LocalCluster + PostgreSQL
    run, 2 of 48). This starts a real kernel the way nbgrader does and looks at the client that ran the cell."""
    import nbformat  # noqa: PLC0415

    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(tmp_path))  # BoundedExecute's connection folders go here
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("print(6 * 7)")])
    seen = {}
    if where == "grading":
        from course_lib.grading.executor import BoundedExecute  # noqa: PLC0415

        client = BoundedExecute(kernel_name="python3", startup_timeout=120, notebook_timeout=120)
        client.on_cell_complete = lambda cell, cell_index: seen.update(_fixes(client.kc))
        nb, _ = client.preprocess(nb, {})  # what nbgrader's autograde calls
    else:
        client = SteadyNotebookClient(nb, kernel_name="python3", startup_timeout=120)
        with client.setup_kernel():  # the synchronous path
            seen.update(_fixes(client.kc))
            client.execute_cell(nb.cells[0], 0)
    assert seen and all(seen.values()), seen
    assert nb.cells[0].outputs[0]["text"] == "42\n"  # and the fixed client still runs cells
