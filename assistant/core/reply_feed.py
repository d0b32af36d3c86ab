"""The model's reply, read in a task of its own, so the turn can wait for the next piece of text
with a time limit (to act on a stall) without cancelling the stream it waits on."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator


class ReplyFeed:
    """Reads `deltas` to the end (or until closed) and hands them out one by one.

    Cancelling a wait on an async generator would cancel the generator itself, and the HTTP
    stream under it; here a wait that times out leaves the reading task alone. The stream lives
    and ends in that one task, so its own timeouts and clean-up stay within one task.
    """

    def __init__(self, deltas: AsyncIterator[str]) -> None:
        self._queue: asyncio.Queue[str | Exception | None] = asyncio.Queue()
        self._reader = asyncio.create_task(self._read(deltas))

    async def next(self, within: float | None = None) -> str | None:
        """The next piece of text, or None once the reply is complete.

        Raises TimeoutError if nothing came within `within` seconds (the stream goes on), and
        the stream's own error, in order, after the text that came before it.
        """
        async with asyncio.timeout(within):
            item = await self._queue.get()
        if isinstance(item, Exception):
            raise item
        return item

    async def aclose(self) -> None:
        """Stop reading (the stream is closed in its task) and wait until it has stopped."""
        self._reader.cancel()
        await asyncio.gather(self._reader, return_exceptions=True)

    async def _read(self, deltas: AsyncIterator[str]) -> None:
        try:
            async for delta in deltas:
                self._queue.put_nowait(delta)
        except Exception as error:  # handed to the reader of the reply, never dropped here
            self._queue.put_nowait(error)
        else:
            self._queue.put_nowait(None)


__all__ = ["ReplyFeed"]
