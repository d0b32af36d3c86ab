"""The app's event loop survives a long session: many thousands of loop iterations."""

from __future__ import annotations

import asyncio
import sys


async def test_loop_iterations_do_not_lose_references_to_none() -> None:
    # PySide6 6.12.0 dropped one reference to None per qasync timer event; on Python 3.11 (where
    # None is not immortal) the interpreter aborts after a few thousand iterations, i.e. within
    # minutes of streaming audio. Fail here, clearly, instead of aborting later.
    before = sys.getrefcount(None)
    for _ in range(3000):
        await asyncio.sleep(0)
    assert sys.getrefcount(None) >= before - 100
