"""The async work a window or dialog starts from a button: kept referenced until it ends, its
failures logged, cancelled when the window closes.

Qt slots cannot be coroutines, and a bare `create_task` may be garbage-collected mid-flight, so
every widget's async work goes through one of these instead of qasync's `asyncSlot`.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger(__name__)


class BackgroundTasks:
    def __init__(self) -> None:
        self._running: set[asyncio.Task[None]] = set()

    @property
    def busy(self) -> bool:
        return bool(self._running)

    def start(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        """Run `work` on the running loop (the Qt one) and keep it referenced until it ends."""
        task = asyncio.get_running_loop().create_task(work)
        self._running.add(task)
        task.add_done_callback(self._finished)
        return task

    async def wait(self) -> None:
        """Until everything started so far (and anything it started meanwhile) has ended."""
        while self._running:
            await asyncio.gather(*list(self._running), return_exceptions=True)

    def cancel(self) -> None:
        for task in list(self._running):
            task.cancel()

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._running.discard(task)
        if not task.cancelled() and (error := task.exception()) is not None:
            # The work restores the UI in its own `finally`; this only keeps the details.
            log.error("a background task of the window failed", exc_info=error)
