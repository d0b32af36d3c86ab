"""Soak: 200 typed turns in a row through one assistant (build_services: the app-wide client, the
real providers, the real speaker on the virtual sound card, a history file), against loopback
chat and speech servers that inject a fault into every fifth turn.

Measured: the client's open sockets (sampled every 20 ms, from /proc), memory (RSS) after a warm-up
and at the end, Python warnings, tasks left behind, and whether the history holds every turn as
the user saw it.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import statistics
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from assistant.providers.history_sqlite import SqliteHistory
from tests.reliability.harness import Assistant, Outcome, settled, short_audio
from tests.support.chat_server import ChatServer, openai_error
from tests.support.environment import environment
from tests.support.faults import Fault, FaultServer
from tests.support.loopback import Response, TlsFiles
from tests.support.pulse import VirtualSoundCard
from tests.support.tts_servers import OpenAiSpeechServer

TITLE = "Soak: 200 turns in a row, faults mixed in"

TURNS = 200
FAULT_EVERY = 5  # every fifth turn meets one fault, from FAULTS in turn
WARM_UP_TURNS = 20  # memory is measured from here on (caches, the first connections)
REPLY = "Here is a short answer. It has two sentences."
MEMORY_BUDGET_MB = 30.0
SAMPLE_SECONDS = 0.02

# (where, fault, what the user sees): quick faults only; the slow ones have their own tests.
FAULTS: list[tuple[str, Fault, str]] = [
    ("chat", Fault.replace(openai_error(500, "Overloaded.", error_type="server_error"), "5xx"),
     "recovered"),
    ("voice", Fault.replace(Response(502), "5xx"), "recovered"),
    ("chat", Fault.reset(after=500), "error"),
    ("voice", Fault.reset(after=3000), "error"),
    ("voice", Fault.replace(openai_error(429, "Slow down.", headers={"retry-after": "0.3"}),
                            "429"), "recovered"),
    ("chat", Fault.stall_before(5), "error"),
    ("voice", Fault.truncate(), "error"),
    ("chat", Fault.replace(Response(200, {"content-type": "text/html"}, b"<html></html>"),
                           "wrong_content_type"), "error"),
]  # fmt: skip


@dataclass
class Soak:
    outcomes: list[Outcome] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)  # per turn: "ok", "error", "recovered"
    most_sockets: int = 0
    rss_after_warm_up: float = 0.0
    rss_at_end: float = 0.0
    python_warnings: list[str] = field(default_factory=list)
    log_warnings: list[str] = field(default_factory=list)
    tasks_left: int = 0
    history_problems: list[str] = field(default_factory=list)
    stored_messages: int = 0
    injected: Counter[str] = field(default_factory=Counter)
    pool_limit: int = 0
    seconds: float = 0.0


def run() -> str:
    with rig() as (card, tls, folder):
        del card
        soak = asyncio.run(soak_turns(tls, folder))
    return report(soak)


@contextlib.contextmanager
def rig() -> Iterator[tuple[VirtualSoundCard, TlsFiles, Path]]:
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as name:
        folder = Path(name)
        tls = TlsFiles.create(folder)
        card = VirtualSoundCard(folder / "pulse")
        try:
            card.start()
            with environment(card.env):
                yield card, tls, folder
        finally:
            card.stop()


async def soak_turns(tls: TlsFiles, folder: Path) -> Soak:
    soak = Soak()
    chat = ChatServer(REPLY, token_chars=6)
    voice = OpenAiSpeechServer(api_key=None, audio_for=short_audio)
    warned = WarningLog()
    with (
        FaultServer(chat.handler, tls) as chat_server,
        FaultServer(voice.handler, tls) as voice_server,
        warnings.catch_warnings(record=True) as caught,
        warned.attached(),
    ):
        warnings.simplefilter("always")
        history = folder / "history.sqlite3"
        assistant = Assistant.build(chat_server.url, "openai", voice_server.url, tls, history)
        soak.pool_limit = assistant.services.settings.network.max_connections
        ports = {chat_server.port, voice_server.port}
        sampler = asyncio.create_task(sample_sockets(ports, soak))
        before = await settled(0)
        started = time.monotonic()
        try:
            for index in range(TURNS):
                expect = "ok"
                if index % FAULT_EVERY == FAULT_EVERY - 1:
                    where, fault, expect = FAULTS[(index // FAULT_EVERY) % len(FAULTS)]
                    (chat_server if where == "chat" else voice_server).inject(fault)
                    soak.injected[f"{where}: {fault.kind}"] += 1
                soak.expected.append(expect)
                soak.outcomes.append(await assistant.turn(f"Question number {index}?", within=30))
                forget(chat, voice, chat_server, voice_server)
                if index + 1 == WARM_UP_TURNS:
                    gc.collect()
                    soak.rss_after_warm_up = rss_mb()
            soak.seconds = time.monotonic() - started
            conversation = assistant.controller.history.conversation_id
        finally:
            await assistant.aclose()
            sampler.cancel()
            await asyncio.gather(sampler, return_exceptions=True)
        soak.tasks_left = len(await settled(1.0) - before)
        gc.collect()
        soak.rss_at_end = rss_mb()
        soak.python_warnings = [f"{w.category.__name__}: {w.message}" for w in caught]
        soak.log_warnings = warned.unexpected()
        check_history(soak, history, conversation)
    return soak


def forget(chat: ChatServer, voice: OpenAiSpeechServer, *servers: FaultServer) -> None:
    """The fake servers record every request; over 200 turns that would count as the app's."""
    chat.received.clear()
    chat.bodies.clear()
    chat.sent_times.clear()
    voice.requests.clear()
    for server in servers:
        server.requests.clear()


class WarningLog(logging.Handler):
    """Log records at WARNING and above; a failed turn's own warning is expected."""

    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def unexpected(self) -> list[str]:
        return [
            f"{r.name}: {r.getMessage()}"
            for r in self.records
            if not (r.name == "assistant.core.turn" and r.getMessage().startswith("turn failed"))
        ]

    @contextlib.contextmanager
    def attached(self) -> Iterator[None]:
        root = logging.getLogger()
        root.addHandler(self)
        try:
            yield
        finally:
            root.removeHandler(self)


def check_history(soak: Soak, path: Path, conversation: int | None) -> None:
    """Every turn in the history as it was shown: the question, then the reply (complete, or
    interrupted with exactly the text that had appeared)."""
    store = SqliteHistory(path)
    try:
        messages = store.messages(conversation) if conversation is not None else []
    finally:
        store.close()
    soak.stored_messages = len(messages)
    expected: list[tuple[str, str, str]] = []
    for index, outcome in enumerate(soak.outcomes):
        expected.append(("user", f"Question number {index}?", "complete"))
        if outcome.shown:
            state = "complete" if outcome.ok else "interrupted"
            expected.append(("assistant", outcome.shown, state))
    stored = [(m.role, m.text, m.state) for m in messages]
    if stored != expected:
        first = next(
            (i for i, (a, b) in enumerate(zip(stored, expected, strict=False)) if a != b),
            min(len(stored), len(expected)),
        )
        soak.history_problems.append(
            f"{len(stored)} messages stored, {len(expected)} expected; first difference at "
            f"message {first}"
        )


async def sample_sockets(ports: set[int], soak: Soak) -> None:
    while True:
        soak.most_sockets = max(soak.most_sockets, open_sockets(ports))
        await asyncio.sleep(SAMPLE_SECONDS)


def open_sockets(ports: set[int]) -> int:
    """This process's TCP sockets (any state but TIME_WAIT, which has no descriptor) connected
    to one of `ports`: the client's side of its connections to the servers."""
    inodes = set()
    for entry in os.scandir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            target = os.readlink(entry.path)
            if target.startswith("socket:["):
                inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/self/net/tcp", "/proc/self/net/tcp6"):
        with contextlib.suppress(OSError), open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                remote_port = int(fields[2].rsplit(":", 1)[1], 16)
                if remote_port in ports and fields[9] in inodes:
                    count += 1
    return count


def rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def report(soak: Soak) -> str:
    outcomes = soak.outcomes
    seen = Counter(
        "ok" if o.ok else ("error" if o.errors else "other") for o in outcomes
    )  # what the user saw
    matched = sum(
        1
        for o, expect in zip(outcomes, soak.expected, strict=True)
        if (o.ok if expect in ("ok", "recovered") else bool(o.errors) and not o.ok)
    )
    next_after_fault = [outcomes[i + 1].ok for i, e in enumerate(soak.expected[:-1]) if e != "ok"]
    seconds = [o.seconds for o in outcomes if o.ok]
    growth = soak.rss_at_end - soak.rss_after_warm_up
    rows = [
        ("turns", f"{len(outcomes)} in {soak.seconds:.0f} s", "200", len(outcomes) == TURNS),
        ("faults injected", ", ".join(f"{k} ×{v}" for k, v in sorted(soak.injected.items())),
         "-", True),
        ("turns as expected (ok / error notice / recovered)", f"{matched} of {len(outcomes)}",
         "all", matched == len(outcomes)),
        ("turn after a fault worked", f"{sum(next_after_fault)} of {len(next_after_fault)}",
         "all", all(next_after_fault)),
        ("what the user saw", f"{seen['ok']} answered, {seen['error']} error notices, "
         f"{seen['other']} other", "-", seen["other"] == 0),
        ("typed turn, median / max (s)", f"{statistics.median(seconds):.2f} / {max(seconds):.2f}",
         "-", True),
        ("most open sockets to the servers", str(soak.most_sockets),
         f"≤ {soak.pool_limit} (pool limit)", soak.most_sockets <= soak.pool_limit),
        ("memory after warm-up → end (RSS)", f"{soak.rss_after_warm_up:.1f} → "
         f"{soak.rss_at_end:.1f} MB (+{growth:.1f})", f"< {MEMORY_BUDGET_MB:.0f} MB growth",
         growth < MEMORY_BUDGET_MB),
        ("Python warnings", str(len(soak.python_warnings)), "0", not soak.python_warnings),
        ("unexpected log warnings", str(len(soak.log_warnings)), "0", not soak.log_warnings),
        ("tasks left behind", str(soak.tasks_left), "0", soak.tasks_left == 0),
        ("history", f"{soak.stored_messages} messages, "
         + ("each turn as shown" if not soak.history_problems else soak.history_problems[0]),
         "every turn", not soak.history_problems),
    ]  # fmt: skip
    lines = ["| measure | result | target | met |", "|---|---|---|---|"]
    lines += [f"| {a} | {b} | {c} | {'yes' if ok else '**NO**'} |" for a, b, c, ok in rows]
    details = soak.python_warnings[:3] + soak.log_warnings[:3]
    if details:
        lines += ["", "First warnings: " + "; ".join(details)]
    lines += [
        "",
        f"One assistant for all {TURNS} typed turns (`build_services`, read timeout 1 s), the "
        "real speaker on the virtual sound card, a reply of two sentences (0.12 s of audio "
        f"each). Every {FAULT_EVERY}th turn meets one fault, in turn: "
        + "; ".join(f"{where} {fault.kind} ({what})" for where, fault, what in FAULTS)
        + ". Open sockets are this process's TCP sockets to the two servers, sampled every "
        f"{SAMPLE_SECONDS * 1000:.0f} ms from /proc.",
    ]
    return "\n".join(lines)
