"""Running notebooks headless without stalls: nbclient whose kernel replies cannot sit unread.

nbclient waits for a cell's reply with one ``shell_channel.get_msg(timeout=<cell timeout>)`` (900 s in grading) and
for its outputs with ``iopub_channel.get_msg(timeout=None)``. On its asyncio client each is one pyzmq poll that
sleeps on the socket's file descriptor, and a ZMQ descriptor is edge-triggered: it signals once that the socket's
state *may* have changed, and any libzmq call on the socket that processes its pending commands consumes that
signal. pyzmq's asyncio socket re-checks ``ZMQ_EVENTS`` after its own sends; a send that bypasses it does not.

Issue 23's stall: a cell with an ``ipywidgets.Output`` (every ``widgets.interactive`` has one) makes nbclient's
``OutputWidget`` send comm messages on the *shell* socket while the cell's reply is awaited on it, through
``Session.send``, which writes to a plain shadow of the asyncio socket. When the reply has just arrived, that send
consumes the descriptor's edge and the waiting poll sleeps to its timeout, then finds the reply and goes on: the
run succeeds, a cell timeout late: a grading run idle 15 min after a widget cell; a lecture 06 nbconvert run on
2026-12-07 whose last cell (``widgets.interactive``) replied at 02:02:46 and whose output was written 902 s later,
its cell timeout 900 s. ``bench/notebook_stalls.py probe`` reproduces it with cells printing into an Output widget.

Two fixes, both applied by :class:`SteadyNotebookClient`:

- :func:`recheck_after_send`: after each send on the shell channel, ask the asyncio socket for its events
  (``socket.get(zmq.EVENTS)``, which in pyzmq also wakes whatever waits on the socket): the root fix;
- :func:`poll_in_slices`: each wait is polls of at most ``POLL_SLICE_S``, and every new poll reads the events before
  it sleeps, so a wake-up lost any other way costs at most one slice.

The blocking client that nbval uses polls with ``zmq_poll``, which checks the events itself (level-triggered), and is
not affected.

Lecture: 00_welcome (how notebooks are run headless: tests, benchmarks, grading)
"""

from __future__ import annotations

import functools
import time
from queue import Empty

import zmq
import zmq.asyncio
from nbclient import NotebookClient
from nbclient.util import run_sync

POLL_SLICE_S = 1.0


def poll_in_slices(kc, slice_s: float = POLL_SLICE_S) -> None:
    """Make the shell and IOPub channels of an async kernel client wait in polls of at most ``slice_s`` seconds.

    ``kc.shell_channel.get_msg`` and ``kc.iopub_channel.get_msg`` are replaced, in place, by coroutines with the
    same contract: ``get_msg(timeout=None)`` returns the next message (waiting forever for it when ``timeout`` is
    None) or raises ``queue.Empty`` once ``timeout`` seconds have passed, but each underlying poll lasts at most
    ``slice_s`` seconds, so a missed wake-up costs at most ``slice_s`` (see the module docstring). The stdin and
    control channels are left alone. Slicing a client twice changes nothing.

    Args:
        kc: a started ``jupyter_client.AsyncKernelClient`` (or anything with async ``shell_channel.get_msg`` and
            ``iopub_channel.get_msg``).
        slice_s: longest single poll, in seconds, > 0; 1 s costs a few polls per second of idle cell.

    Lecture: 00_welcome (how notebooks are run headless)
    """
    from .checks import check_number  # noqa: PLC0415 (checks imports torch; the grader reaches this module without it)

    slice_s = check_number(slice_s, "slice_s", low=0, low_open=True, unit="seconds")
    for channel in (kc.shell_channel, kc.iopub_channel):
        get_msg = channel.get_msg
        if getattr(get_msg, "_slice_s", None):
            continue  # sliced already

        @functools.wraps(get_msg)
        async def sliced(timeout=None, _get_msg=get_msg):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = slice_s if deadline is None else min(slice_s, max(0.0, deadline - time.monotonic()))
                try:
                    return await _get_msg(timeout=left)
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

        sliced._slice_s = slice_s
        channel.get_msg = sliced


def recheck_after_send(kc) -> None:
    """After every send on the shell channel, make the channel's asyncio socket re-check its events.

    ``kc.shell_channel.send`` is replaced, in place, by one that sends as before and then reads
    ``socket.get(zmq.EVENTS)``: on a ``zmq.asyncio.Socket`` that read also resolves a poll waiting on the socket when
    a message is there. This restores the wake-up that the send consumed (see the module docstring); pyzmq's own
    asyncio sends do the same. Channels whose socket is not an asyncio socket are left alone; doing it twice changes
    nothing.

    Args:
        kc: a started ``jupyter_client`` kernel client.

    Lecture: 00_welcome (how notebooks are run headless)
    """
    channel = kc.shell_channel
    socket = getattr(channel, "socket", None)
    if not isinstance(socket, zmq.asyncio.Socket) or getattr(channel.send, "_rechecks", False):
        return
    send = channel.send

    @functools.wraps(send)
    def send_then_recheck(msg, _send=send):
        _send(msg)
        if not socket.closed:
            socket.get(zmq.EVENTS)  # pyzmq schedules the waiting poll's wake-up if a message is in

    send_then_recheck._rechecks = True
    channel.send = send_then_recheck


class SteadyNotebookClient(NotebookClient):
    """nbclient's ``NotebookClient`` whose kernel replies cannot sit unread (issue 23).

    Its kernel client re-checks the shell socket after each send (:func:`recheck_after_send`) and waits in slices
    (:func:`poll_in_slices`). Use it wherever a notebook runs headless (``bench/notebooks.py``,
    ``bench/notebook_stalls.py``, the calibration run of ``make grade``); the grader's executor
    (:class:`course_lib.grading.executor.BoundedExecute`) is one too. Both entry points apply the fixes: the
    coroutine ``async_start_new_kernel_client`` and its synchronous twin ``start_new_kernel_client``.

    Lecture: 00_welcome (how notebooks are run headless)
    """

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        recheck_after_send(kc)
        poll_in_slices(kc)
        return kc

    def start_new_kernel_client(self):
        """The synchronous twin, for ``setup_kernel`` (nbconvert's ExecutePreprocessor, and so nbgrader's autograde).

        nbclient binds its own twin to *its own* coroutine when the class is made, so an override of the coroutine
        alone is skipped on this path: grading started plain clients, without either fix, until 2026-12-07 (a correct
        submission's hidden widget reply ran into the notebook limit and scored 0). This one calls whatever
        ``async_start_new_kernel_client`` the instance has, subclasses' included.
        """
        return run_sync(self.async_start_new_kernel_client)()
