"""What the network voices share: one piece per request, and how patiently they retry."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import pytest

from assistant.core.protocols import AudioChunk
from assistant.providers.http import Backoff
from assistant.providers.tts._common import synthesize_piece

LIMIT = 64


class Attempts:
    """What `synthesize_piece` asked the service for."""

    def __init__(self) -> None:
        self.texts: list[str] = []

    async def __call__(self, text: str) -> AsyncGenerator[AudioChunk, None]:
        self.texts.append(text)
        yield AudioChunk(b"\x00\x00", 16_000)


async def test_a_piece_that_fits_is_one_request() -> None:
    attempts = Attempts()
    chunks = [c async for c in synthesize_piece("  Hello there.  ", LIMIT, attempts, "Voice")]
    assert attempts.texts == ["Hello there."] and len(chunks) == 1


async def test_a_blank_piece_asks_for_nothing() -> None:
    attempts = Attempts()
    assert [c async for c in synthesize_piece("   ", LIMIT, attempts, "Voice")] == []
    assert attempts.texts == []


async def test_a_piece_too_long_for_one_request_is_refused_not_re_split() -> None:
    # The reply speaker's splitter sizes pieces to the voice (ReplySpeaker.splitter): a longer
    # one is a caller's bug, and the voice must not cut it by rules of its own.
    attempts = Attempts()
    with pytest.raises(ValueError, match="split it first"):
        _ = [c async for c in synthesize_piece("é" * 40, LIMIT, attempts, "Voice")]
    assert attempts.texts == []


def test_retries_wait_longer_each_time_up_to_a_cap() -> None:
    backoff = Backoff(tries=5, first_delay=0.2, max_delay=1.0)
    assert [backoff.delay(n, None) for n in range(1, 6)] == [0.2, 0.4, 0.8, 1.0, None]


def test_a_server_asking_for_a_short_pause_gets_it_and_a_long_one_is_not_waited_for() -> None:
    backoff = Backoff()
    assert backoff.delay(1, 1.5) == 1.5
    assert backoff.delay(1, 30.0) is None
