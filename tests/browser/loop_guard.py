"""Keep Playwright's event loop out of pytest-asyncio's way.

Playwright's sync API runs its asyncio loop in a greenlet and, between two calls,
leaves that loop marked as the thread's running loop. pytest-asyncio (which Home
Assistant's test plugin uses for its autouse fixtures) then refuses to run its own
loop: "Runner.run() cannot be called from a running event loop". So the loop is
"parked" (no running loop) whenever pytest or another plugin has control, and marked
running again just before the browser tests' own code runs: their test functions,
their fixtures' set-up (see conftest.py) and teardown (`playwright_turn`).
"""

import asyncio
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
import threading

_loop: list[asyncio.AbstractEventLoop] = []
_EXECUTOR_THREADS = 4


def adopt(loop: asyncio.AbstractEventLoop) -> None:
    """Remember the loop of the running Playwright (one at a time).

    Playwright writes screenshots and downloads through the loop's default executor.
    Its threads would be started lazily, during some test, and Home Assistant's test
    plugin fails a test that leaves a new thread behind; so all of them are started
    now, before the first test, and live until Playwright stops.
    """
    _loop[:] = [loop]
    executor = ThreadPoolExecutor(_EXECUTOR_THREADS, thread_name_prefix="playwright-io")
    started = threading.Barrier(_EXECUTOR_THREADS + 1)
    for _ in range(_EXECUTOR_THREADS):
        executor.submit(started.wait, 10)
    started.wait(10)
    loop.set_default_executor(executor)


def forget() -> None:
    """Playwright has stopped."""
    _loop.clear()


def resume() -> None:
    """Mark Playwright's loop running again, before a Playwright call."""
    if _loop and not _loop[0].is_closed():
        asyncio._set_running_loop(_loop[0])


def park() -> None:
    """No running loop: pytest-asyncio may run its own."""
    if _loop:
        asyncio._set_running_loop(None)


@contextmanager
def playwright_turn() -> Iterator[None]:
    """Code in the block may call Playwright (a fixture's teardown)."""
    resume()
    try:
        yield
    finally:
        park()
