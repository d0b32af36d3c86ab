"""Fixtures for the reliability tests: fault-injecting servers, stopped after each test."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack

import pytest

from tests.support.faults import FaultServer
from tests.support.loopback import Handler, TlsFiles

StartFaultServer = Callable[[Handler], FaultServer]


@pytest.fixture
def faulty(tls: TlsFiles) -> Iterator[StartFaultServer]:
    """`server = faulty(handler)`: a FaultServer on 127.0.0.1; all stop after the test."""
    with ExitStack() as stack:

        def start(handler: Handler) -> FaultServer:
            return stack.enter_context(FaultServer(handler, tls))

        yield start
