"""One retry policy for every request a listener waits on, and one Retry-After parser.

A request is sent again only while none of its result reached the user (a word shown, a sample
played): a repeat would be seen or heard twice. Timeouts and deadlines are never retried, since the
user has already waited; `failures` decides what is `Transient`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import AsyncGenerator, Callable
from contextlib import aclosing
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TypeVar

from assistant.core.errors import AssistantError

log = logging.getLogger(__name__)

T = TypeVar("T")

# A Retry-After further away than this is not a pause but a refusal (a quota for the day, say).
LONGEST_RETRY_AFTER = 24 * 3600.0


class Transient(Exception):
    """Raised inside one attempt: `error` may go away if the request is sent again.

    It never leaves `with_retries`, which raises `error` itself once the tries are used up.
    """

    def __init__(self, error: AssistantError, retry_after: float | None = None) -> None:
        super().__init__(error.message)
        self.error = error
        self.retry_after = retry_after


@dataclass(frozen=True)
class Backoff:
    """How often and how patiently a request is sent again: someone is waiting for it."""

    tries: int = 3
    first_delay: float = 0.2
    max_delay: float = 1.0
    # A server asking for a longer pause than this is not worth waiting for mid-reply.
    longest_wait: float = 2.0

    def delay(self, failed_tries: int, retry_after: float | None) -> float | None:
        """Seconds to wait before the next try, or None when it is time to give up."""
        if failed_tries >= self.tries:
            return None
        delay: float = min(self.first_delay * 2.0 ** (failed_tries - 1), self.max_delay)
        if retry_after is not None:
            if retry_after > self.longest_wait:
                return None
            delay = max(delay, retry_after)
        return delay


async def with_retries(
    attempt: Callable[[], AsyncGenerator[T, None]], what: str, backoff: Backoff
) -> AsyncGenerator[T, None]:
    """Yield what `attempt()` yields, starting it again after a `Transient` failure, but only
    while it had yielded nothing."""
    failed_tries = 0
    while True:
        delivered = False
        try:
            async with aclosing(attempt()) as items:
                async for item in items:
                    delivered = True
                    yield item
            return
        except Transient as failure:
            failed_tries += 1
            delay = None if delivered else backoff.delay(failed_tries, failure.retry_after)
            if delay is None:
                raise failure.error from failure.__cause__
            log.info("%s: %s Trying again in %.1f s.", what, failure.error.message, delay)
        await asyncio.sleep(delay)


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """`Retry-After` in seconds from now, given as seconds or as an HTTP date; None when absent,
    unreadable, or not finite. A date in the past is 0."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def wait_words(seconds: float | None) -> str:
    """How long to wait, in words a person reads at a glance: "Wait 7 s", "Wait about 3 minutes".
    A server asking for more than a day means a quota or a plan, not a pause."""
    if seconds is None:
        return "Wait a moment"
    if seconds > LONGEST_RETRY_AFTER:
        return (
            "It asks to wait more than a day, which usually means a quota or plan limit: check "
            "the account with the provider"
        )
    if seconds < 90:
        return f"Wait {max(1, round(seconds))} s"
    if seconds < 90 * 60:
        return f"Wait about {round(seconds / 60)} minutes"
    return f"Wait about {round(seconds / 3600)} hours"


__all__ = [
    "LONGEST_RETRY_AFTER",
    "Backoff",
    "Transient",
    "retry_after",
    "wait_words",
    "with_retries",
]
