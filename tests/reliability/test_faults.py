"""Every fault a network or server can throw at a turn, through the real app (build_services, the
real providers, the real speaker on the virtual sound card): the turn ends or recovers within a
deadline, the user is told what happened, the next turn works, no task or connection is left
behind, and the history holds every message as it was shown.

Each case injects its faults into the first requests of one server (the chat service, or one of
the three voices) through `tests.support.faults.FaultServer`; docs/reliability.md tabulates them.
"""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from assistant.core.events import TurnState
from tests.reliability.conftest import StartFaultServer
from tests.reliability.harness import Assistant, Outcome, settled, short_audio, until
from tests.support.chat_server import ChatServer, openai_error
from tests.support.faults import Fault, chat_delta, endless, huge
from tests.support.loopback import Response, TlsFiles
from tests.support.pulse import VirtualSoundCard
from tests.support.tts_servers import OpenAiSpeechServer, VolcanoV1Server, VolcanoV3Server

pytestmark = [pytest.mark.audio, pytest.mark.timeout(90)]

REPLY = "First sentence here. Second one."
ONE = "Only one sentence here."  # when several faults strike in turn, they strike one sentence
SSE = {"content-type": "text/event-stream"}
JSON = {"content-type": "application/json"}


@dataclass(frozen=True)
class Case:
    """One row of docs/reliability.md: a fault, where it strikes, and what the user must see."""

    id: str
    server: str  # "chat", or the voice: "openai", "volcano", "volcano_v3"
    faults: tuple[Fault, ...]
    notice: str | None  # a regex the error notice matches; None: recovered, nothing to tell
    seconds: float  # the turn is over within this long
    reply: str = REPLY


def busy_v1(code: int) -> Fault:
    body = {"reqid": "x", "code": code, "message": "server busy", "sequence": -1}
    return Fault.replace(Response.json(body, 503), "vendor_busy")


def v3_line(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload).encode() + b"\n"


def redirect(status: int) -> Fault:
    return Fault.replace(
        Response(status, {"location": "https://127.0.0.1:9/elsewhere"}), "redirect"
    )


CHAT_CASES = [
    Case(
        "4xx with a body",
        "chat",
        (Fault.replace(openai_error(400, "Unsupported parameter: 'x'."), "4xx"),),
        r"refused the request \(400\)\. The server said: Unsupported parameter: 'x'",
        5,
    ),
    Case(
        "4xx without a body",
        "chat",
        (Fault.replace(Response(404), "4xx"),),
        r"has no chat service at /v1/chat/completions \(404\)",
        5,
    ),
    Case(
        "5xx with a body, once",
        "chat",
        (Fault.replace(openai_error(500, "The model crashed.", error_type="server_error"), "5xx"),),
        None,
        5,
    ),
    Case(
        "5xx with a body, every try",
        "chat",
        (Fault.replace(openai_error(500, "The model crashed.", error_type="server_error"), "5xx"),)
        * 3,
        r"had an internal error \(500\)\. The server said: The model crashed",
        5,
    ),
    Case("5xx without a body, once", "chat", (Fault.replace(Response(502), "5xx"),), None, 5),
    Case(
        "5xx without a body, every try",
        "chat",
        (Fault.replace(Response(502), "5xx"),) * 3,
        r"had an internal error \(502\)\. Try again in a moment",
        5,
    ),
    Case(
        "429 with Retry-After: 1",
        "chat",
        (
            Fault.replace(
                openai_error(429, "Rate limit reached.", headers={"retry-after": "1"}), "429"
            ),
        ),
        None,
        5,
    ),
    Case(
        "429 with Retry-After: 7",
        "chat",
        (
            Fault.replace(
                openai_error(429, "Rate limit reached.", headers={"retry-after": "7"}), "429"
            ),
        ),
        r"limiting requests \(429\).*Wait 7 s",
        5,
    ),
    Case(
        "malformed JSON",
        "chat",
        (Fault.replace(Response(200, SSE, b"data: {not json\n\n"), "malformed_json"),),
        r"not a chat reply",
        5,
    ),
    Case(
        "wrong content type",
        "chat",
        (
            Fault.replace(
                Response(200, {"content-type": "text/html"}, b"<html>Wi-Fi login</html>"),
                "wrong_content_type",
            ),
        ),
        r"answered with 'text/html' instead of a stream of events",
        5,
    ),
    Case("truncated body", "chat", (Fault.truncate(),), r"broke off", 5),
    Case("connection reset before any text", "chat", (Fault.reset(after=0),), None, 5),
    Case("connection reset mid-stream", "chat", (Fault.reset(after=700),), r"broke off", 5),
    Case(
        "stall before the body",
        "chat",
        (Fault.stall_before(10),),
        r"did not start answering in time",
        5,
    ),
    Case(
        "stall during the body",
        "chat",
        (Fault.stall_during(10, after=700),),
        r"stopped answering in the middle of its reply",
        5,
    ),
    Case(
        "slow drip",
        "chat",
        (Fault.drip(piece=1, every=0.05),),
        r"took more than 10 s over one reply",
        14,
    ),
    Case(
        "huge body (one endless line)",
        "chat",
        (
            Fault.replace(
                Response(200, SSE, huge(64 * 1024**2, b"data: " + b"x" * 65536)), "huge_body"
            ),
        ),
        r"line longer than 1,048,576 bytes",
        8,
    ),
    Case(
        "endless SSE (text)",
        "chat",
        (Fault.replace(Response(200, SSE, endless(chat_delta("la "))), "endless_sse"),),
        r"would take more than 10 minutes to say",
        20,
    ),
    Case(
        "endless SSE (keep-alives)",
        "chat",
        (Fault.replace(Response(200, SSE, endless(b": ping\n" * 4096)), "endless_sse"),),
        r"sent more than 16 MB for one reply",
        12,
    ),
    Case(
        "redirect to another host",
        "chat",
        (redirect(307),),
        r"redirected the request elsewhere \(307\)",
        5,
    ),
]

VOICE_CASES = [
    Case(
        "4xx with a body",
        "openai",
        (Fault.replace(openai_error(400, "Unsupported voice."), "4xx"),),
        r"refused the request \(400\)\. The server said: Unsupported voice",
        5,
    ),
    Case(
        "4xx without a body",
        "openai",
        (Fault.replace(Response(404), "4xx"),),
        r"has no such endpoint or model",
        5,
    ),
    Case(
        "5xx with a body, once",
        "openai",
        (Fault.replace(openai_error(500, "Oops."), "5xx"),),
        None,
        5,
    ),
    Case(
        "5xx with a body, every try",
        "openai",
        (Fault.replace(openai_error(500, "Oops."), "5xx"),) * 3,
        r"had an internal error \(500\)\. The server said: Oops",
        8,
        reply=ONE,
    ),
    Case("5xx without a body, once", "openai", (Fault.replace(Response(502), "5xx"),), None, 5),
    Case(
        "5xx, huge body, every try",
        "openai",
        (
            Fault.replace(
                Response(
                    500,
                    {"content-type": "text/html"},
                    huge(256 * 1024**2, b"<html>" + b"x" * 65536),
                ),
                "5xx",
            ),
        )
        * 3,
        r"had an internal error \(500\)",
        10,
        reply=ONE,
    ),
    Case(
        "429 with Retry-After: 1",
        "openai",
        (Fault.replace(openai_error(429, "Slow down.", headers={"retry-after": "1"}), "429"),),
        None,
        6,
    ),
    Case(
        "429 with Retry-After: 30",
        "openai",
        (Fault.replace(openai_error(429, "Slow down.", headers={"retry-after": "30"}), "429"),),
        r"limiting requests \(429\)\. The server said: Slow down",
        5,
    ),
    Case(
        "wrong content type",
        "openai",
        (
            Fault.replace(
                Response(200, {"content-type": "text/html"}, b"<html>proxy login</html>"),
                "wrong_content_type",
            ),
        ),
        r"answered with text instead of audio",
        5,
    ),
    Case("truncated body", "openai", (Fault.truncate(),), r"broke off", 5),
    Case("connection reset mid-stream", "openai", (Fault.reset(after=3000),), r"broke off", 5),
    Case("connection reset before any audio", "openai", (Fault.reset(after=0),), None, 5),
    Case(
        "stall before the body",
        "openai",
        (Fault.stall_before(10),),
        r"did not start answering in time",
        5,
    ),
    Case(
        "stall during the body",
        "openai",
        (Fault.stall_during(10, after=3000),),
        r"stopped answering in the middle of its reply",
        5,
    ),
    Case(
        "slow drip",
        "openai",
        (Fault.drip(piece=16, every=0.05),),
        r"took more than \d+ s to send one sentence's audio",
        14,
    ),
    Case(
        "endless audio",
        "openai",
        (
            Fault.replace(
                Response(200, {"content-type": "audio/pcm"}, endless(b"\0\1" * 4800)), "huge_body"
            ),
        ),
        r"sent more than \d+ seconds of audio",
        25,
        reply="Hi.",
    ),
    Case(
        "redirect to another host",
        "openai",
        (redirect(308),),
        r"redirected the request elsewhere \(308\)",
        5,
    ),
    Case("Volcano busy (3005), once", "volcano", (busy_v1(3005),), None, 5),
    Case(
        "Volcano busy (3003), every try",
        "volcano",
        (busy_v1(3003),) * 3,
        r"has too many of your requests at once \(code 3003",
        8,
        reply=ONE,
    ),
    Case(
        "malformed JSON",
        "volcano",
        (Fault.replace(Response(200, JSON, b'{"code": 3000, "data": "AAAA'), "malformed_json"),),
        r"could not be understood",
        5,
    ),
    Case(
        "invalid base64",
        "volcano",
        (
            Fault.replace(
                Response.json(
                    {"reqid": "x", "code": 3000, "message": "Success", "data": "!!not base64!!"}
                ),
                "invalid_base64",
            ),
        ),
        r"audio that could not be decoded",
        5,
    ),
    Case("truncated body", "volcano", (Fault.truncate(),), None, 5),
    Case("connection reset mid-stream", "volcano", (Fault.reset(after=100),), None, 5),
    Case(
        "huge body",
        "volcano",
        (Fault.replace(Response(200, JSON, huge(256 * 1024**2, b"A" * 65536)), "huge_body"),),
        r"too large to be one sentence's audio",
        8,
    ),
    Case(
        "stall before the body",
        "volcano",
        (Fault.stall_before(10),),
        r"did not start answering in time",
        5,
    ),
    Case(
        "Volcano server error (55000000), once",
        "volcano_v3",
        (
            Fault.replace(
                Response(200, JSON, v3_line({"code": 55000000, "message": "busy"})), "vendor_busy"
            ),
        ),
        None,
        5,
    ),
    Case(
        "invalid base64",
        "volcano_v3",
        (
            Fault.replace(
                Response(200, JSON, v3_line({"code": 0, "data": "%%not base64%%"})),
                "invalid_base64",
            ),
        ),
        r"audio that could not be decoded",
        5,
    ),
    Case(
        "malformed JSON",
        "volcano_v3",
        (Fault.replace(Response(200, JSON, b"{this is not json\n"), "malformed_json"),),
        r"could not be understood",
        5,
    ),
    Case(
        "stream ends unfinished, every try",
        "volcano_v3",
        (Fault.replace(Response(200, JSON, v3_line({"code": 0, "data": ""})), "truncated"),) * 3,
        r"stopped sending before the sentence was complete",
        8,
        reply=ONE,
    ),
    Case("connection reset mid-stream", "volcano_v3", (Fault.reset(after=7000),), r"broke off", 5),
    Case(
        "slow drip",
        "volcano_v3",
        (Fault.drip(piece=16, every=0.05),),
        r"took more than \d+ s to send one sentence's audio",
        14,
    ),
]

CASES = CHAT_CASES + VOICE_CASES


def voice_server(kind: str) -> Any:
    from tests.reliability.harness import VOLCANO_TOKEN

    if kind == "openai":
        return OpenAiSpeechServer(api_key=None, audio_for=short_audio)
    if kind == "volcano":
        return VolcanoV1Server(token=VOLCANO_TOKEN, audio_for=short_audio)
    return VolcanoV3Server(token=VOLCANO_TOKEN, audio_for=short_audio)


def heard_everything(outcome: Outcome) -> bool:
    """The reply was spoken: every sentence reached the sound card."""
    assert outcome.finished is not None
    sentences = outcome.finished.timeline.sentences
    return bool(sentences) and all(s.first_sample is not None for s in sentences)


@pytest.mark.parametrize("case", CASES, ids=[f"{c.server}: {c.id}" for c in CASES])
async def test_a_fault_is_survived(
    case: Case,
    virtual_sound_card: VirtualSoundCard,
    faulty: StartFaultServer,
    loopback: Any,
    tls: TlsFiles,
    tmp_path: Path,
) -> None:
    chat = ChatServer(case.reply)
    if case.server == "chat":
        voice_kind = "openai"
        struck = faulty(chat.handler)
        chat_url, voice_url = struck.url, loopback(voice_server(voice_kind).handler).url
    else:
        voice_kind = case.server
        struck = faulty(voice_server(voice_kind).handler)
        chat_url, voice_url = loopback(chat.handler).url, struck.url
    struck.inject(*case.faults)
    assistant = Assistant.build(chat_url, voice_kind, voice_url, tls, tmp_path / "history")
    try:
        before = await settled(0)

        # The fault: the turn ends (or recovers) in time, and the user is told what happened.
        faulty_turn = await assistant.turn(within=case.seconds + 10)
        print(f"\n[{case.server}: {case.id}] {faulty_turn.seconds:.2f} s, notices: "
              f"{[n.message for n in faulty_turn.notices]}")  # fmt: skip
        assert faulty_turn.seconds < case.seconds, faulty_turn.seconds
        assert sum(struck.injected.values()) == len(case.faults)
        if case.notice is None:
            assert faulty_turn.ok, faulty_turn.notices
            assert faulty_turn.shown == case.reply and heard_everything(faulty_turn)
        else:
            assert len(faulty_turn.errors) == 1, faulty_turn.notices
            assert re.search(case.notice, faulty_turn.errors[0]), faulty_turn.errors[0]
            assert faulty_turn.state is TurnState.ERROR
            assert faulty_turn.finished is not None and faulty_turn.finished.interrupted

        # Nothing left behind: no task, no busy connection, no more connections than the pool's.
        assert await settled(1.0) <= before
        await until(lambda: assistant.pool()[1] == 0, 3, "the pool's connections to be free")
        assert assistant.pool()[0] <= assistant.services.settings.network.max_connections

        # The next turn works, and is heard.
        next_turn = await assistant.turn(within=10)
        assert next_turn.ok, next_turn.notices
        assert next_turn.shown == case.reply and heard_everything(next_turn)

        # The history holds both turns as they were shown.
        store = assistant.services.history
        assert store is not None
        conversation = assistant.controller.history.conversation_id
        assert conversation is not None
        stored = [(m.role, m.text, m.state) for m in store.messages(conversation)]
        expected: list[tuple[str, str, str]] = [("user", "Tell me something.", "complete")]
        if faulty_turn.shown:
            state = "complete" if faulty_turn.ok else "interrupted"
            expected.append(("assistant", faulty_turn.shown, state))
        expected += [
            ("user", "Tell me something.", "complete"),
            ("assistant", case.reply, "complete"),
        ]
        assert stored == expected
    finally:
        await assistant.aclose()
    await until(
        lambda: struck.open_connections == 0, 3, "the server to see every connection closed"
    )
    assert await settled(1.0) <= before


def test_every_fault_kind_of_the_issue_has_a_case() -> None:
    kinds = {fault.kind for case in CASES for fault in case.faults}
    assert kinds >= {
        "4xx", "5xx", "429", "vendor_busy", "malformed_json", "invalid_base64",
        "wrong_content_type", "truncate", "reset", "stall_before", "stall_during", "drip",
        "huge_body", "endless_sse", "redirect",
    }  # fmt: skip


def test_base64_fault_bodies_really_are_invalid() -> None:
    with pytest.raises(ValueError):
        base64.b64decode("!!not base64!!", validate=True)
