"""Running notebooks headless without stalls: nbclient with kernel replies polled in short slices.

Lecture: 00_welcome (how notebooks are run headless: tests, benchmarks, grading)
"""

from __future__ import annotations

import time

from nbclient import NotebookClient

POLL_SLICE_S = 1.0


def poll_in_slices(kc, slice_s: float = POLL_SLICE_S) -> None:
    """Make the shell and IOPub channels of an async kernel client wait in polls of at most ``slice_s`` seconds.

    A ZMQ socket's file descriptor is edge-triggered: if an asyncio poll misses the wake-up of a message that has
    already reached the socket (under load), it sleeps for its whole timeout although the message is there.
    nbclient waits for a cell's reply with one poll of the whole cell timeout (900 s) and for its outputs with no
    timeout at all, so one missed edge left the kernel idle and the grader waiting for minutes (issue 23: seen as
    a stall after lecture 00's widget cell, the kernel idle, both Unix sockets' queues empty). Each new poll first
    checks the socket's events, so slicing the wait recovers a missed edge within ``slice_s``.
    """
    from queue import Empty  # noqa: PLC0415

    for channel in (kc.shell_channel, kc.iopub_channel):
        get_msg = channel.get_msg

        async def sliced(timeout=None, _get_msg=get_msg):
            deadline = None if timeout is None else time.monotonic() + timeout
            while True:
                left = slice_s if deadline is None else min(slice_s, max(0.0, deadline - time.monotonic()))
                try:
                    return await _get_msg(timeout=left)
                except Empty:
                    if deadline is not None and time.monotonic() >= deadline:
                        raise

        channel.get_msg = sliced


class SteadyNotebookClient(NotebookClient):
    """nbclient's ``NotebookClient`` whose kernel client polls in slices (:func:`poll_in_slices`)."""

    async def async_start_new_kernel_client(self):
        kc = await super().async_start_new_kernel_client()
        poll_in_slices(kc)
        return kc
