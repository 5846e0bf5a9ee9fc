"""One asyncio event loop per process, in a daemon thread, for the providers' async clients.

The APNs pool (aioapns), the FCM HTTP/2 client (httpx) and Twilio's aiohttp client are each bound
to the loop they were built on, so they all live on this one: a caller with many requests to make
(the notifications dispatcher) hands coroutines to it and keeps hundreds in flight from a single
thread, and synchronous callers wait on one. A forked child never uses its parent's loop (the
thread did not survive the fork): the loop is rebuilt whenever os.getpid() changes.
"""

from __future__ import annotations

import asyncio
import atexit
import concurrent.futures
import contextlib
import os
import threading

_lock = threading.Lock()
_loop: asyncio.AbstractEventLoop | None = None
_thread: threading.Thread | None = None
_pid = 0
# aiohttp sessions built on the loop, closed at exit. Held here until then: one dropped earlier
# (an adapter rebuilt) would otherwise be collected open, which aiohttp logs as an error.
_sessions: set = set()


def _reinitialise_after_fork() -> None:
    global _lock, _loop, _thread, _sessions
    _lock = threading.Lock()  # another thread may have held it at the fork
    _loop = _thread = None
    _sessions = set()  # the parent's, bound to its loop


os.register_at_fork(after_in_child=_reinitialise_after_fork)


def loop() -> asyncio.AbstractEventLoop:
    """Return this process's provider loop, starting its thread on first use."""
    global _loop, _thread, _pid
    with _lock:
        if _loop is None or _pid != os.getpid() or not _thread.is_alive():
            _loop = asyncio.new_event_loop()
            _thread = threading.Thread(target=_loop.run_forever, name="provider-loop", daemon=True)
            _thread.start()
            _pid = os.getpid()
        return _loop


def here() -> bool:
    """Whether the calling code runs on the provider loop (then it must not block waiting for it)."""
    try:
        return asyncio.get_running_loop() is _loop
    except RuntimeError:
        return False


def submit(coroutine) -> concurrent.futures.Future:
    """Schedule `coroutine` on the provider loop; return a future the calling thread may wait on."""
    return asyncio.run_coroutine_threadsafe(coroutine, loop())


def call(coroutine, timeout: float):
    """Run `coroutine` on the provider loop and wait at most `timeout` seconds for its result."""
    return submit(coroutine).result(timeout)


def closing(session):
    """Return `session` (an aiohttp ClientSession built on the provider loop), closed when the
    process exits: aiohttp logs "Unclosed client session" for every one left open."""
    _sessions.difference_update([old for old in _sessions if old.closed])
    _sessions.add(session)
    return session


@atexit.register
def _close_sessions() -> None:
    open_sessions = [session for session in _sessions if not session.closed]
    if not open_sessions or _loop is None or _pid != os.getpid() or not _thread.is_alive():
        return

    async def close():
        await asyncio.gather(*(session.close() for session in open_sessions), return_exceptions=True)

    with contextlib.suppress(concurrent.futures.TimeoutError, RuntimeError):  # a loop stuck or stopping
        submit(close()).result(2)
