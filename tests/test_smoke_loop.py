import asyncio

from assistant.ui.event_loop import AppEventLoop


async def test_async_tests_run_on_the_apps_own_loop() -> None:
    assert isinstance(asyncio.get_running_loop(), AppEventLoop)


async def test_an_abandoned_async_generator_is_finalized_on_the_loop() -> None:
    closed = asyncio.Event()

    async def stream():
        try:
            yield 1
            yield 2
        finally:
            closed.set()

    async for _ in stream():
        break  # abandoned mid-iteration, as a reply cut by barge-in
    await asyncio.wait_for(closed.wait(), 1)
