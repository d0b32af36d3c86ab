import asyncio

import qasync


async def test_async_tests_run_on_the_qasync_loop() -> None:
    assert isinstance(asyncio.get_running_loop(), qasync.QEventLoop)
