"""`assistant converse`: a whole conversation on the configured microphone and speaker, without the
window, until N user turns were answered or S seconds passed. With `--json`, one JSON object per
line for each finished turn, and nothing else on stdout:

    {"transcript": ..., "language": ..., "reply": ..., "heard": ..., "interrupted": ...,
     "timeline": {...}}

`language` is the ISO code the question was heard in ("de"), or null when the transcriber did not
say (a remote service may not).
`timeline` is in milliseconds from the end of the user's speech (`end_of_speech_ms` is 0):
`transcript_ready_ms`, `first_token_ms`, `first_audio_ms`, and `barge_in_ms` (the user's speech
onset to silence) when the reply was cut off by voice.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import threading
from typing import TYPE_CHECKING, Any

from assistant.core.events import Event, Notice, TurnFinished, TurnState, UserSaid
from assistant.core.hands_free import ListeningMode
from assistant.core.languages import ENGLISH, language_name
from assistant.core.turn import TurnController

if TYPE_CHECKING:  # the command line defines what it drives; imported at run time, a cycle
    from assistant.cli import RunningAssistant


def add_parser(commands: Any, common: argparse.ArgumentParser) -> None:
    converse = commands.add_parser(
        "converse",
        parents=[common],
        help="talk with the assistant on the microphone and speaker, without the window",
    )
    converse.add_argument(
        "--mode",
        choices=[mode.value for mode in ListeningMode],
        help="how a turn begins (default: [conversation] mode; push_to_talk: Enter starts and "
        "ends each turn)",
    )
    converse.add_argument("--turns", type=int, metavar="N", help="stop after N answered turns")
    converse.add_argument("--seconds", type=float, metavar="S", help="stop after S seconds")


async def converse(
    args: argparse.Namespace, services: RunningAssistant, mode: ListeningMode
) -> int:
    """Run the conversation; 0 when it ran to its end (turns, seconds, or the end of input in
    push-to-talk), 1 if it could not start (the model or the microphone, said on stderr)."""
    controller = services.controller
    answered = 0
    done = asyncio.Event()
    report = TurnReport(as_json=bool(args.json))

    def observe(event: Event) -> None:
        nonlocal answered
        report.observe(event)
        if isinstance(event, TurnFinished) and event.user_text and not event.interrupted:
            answered += 1
            if args.turns is not None and answered >= args.turns:
                done.set()

    controller.events.connect(observe)
    try:
        controller.start()
        await controller.wait_ready()
        if controller.state is TurnState.ERROR:
            return 1
        await services.hands_free.switch(mode)
        if services.hands_free.mode is not mode:  # the microphone could not be opened: said above
            return 1
        print(_waiting_words(mode), file=sys.stderr, flush=True)
        if mode is ListeningMode.PUSH_TO_TALK:
            _enter_to_talk(controller, done)
        with contextlib.suppress(TimeoutError):  # the time asked for is up: a normal end
            await asyncio.wait_for(done.wait(), args.seconds)
        await controller.wait()
    finally:
        await services.hands_free.aclose()
        await services.aclose()
    return 0


class TurnReport:
    """Says each finished turn on stdout (one JSON object a line with `as_json`), with the
    language its question was heard in, and each notice on stderr."""

    def __init__(self, *, as_json: bool) -> None:
        self.as_json = as_json
        # The language each turn's question was heard in, by turn number, until the turn ends:
        # UserSaid knows it, TurnFinished (which is reported) does not.
        self._languages: dict[int, str | None] = {}

    def observe(self, event: Event) -> None:
        if isinstance(event, UserSaid):
            self._languages[event.turn] = event.language
        elif isinstance(event, TurnFinished):
            language = self._languages.pop(event.timeline.turn, None)
            if event.user_text:
                self._report(event, language)
        elif isinstance(event, Notice):
            print(f"({event.message})", file=sys.stderr, flush=True)

    def _report(self, event: TurnFinished, language: str | None) -> None:
        if self.as_json:
            line = {
                "transcript": event.user_text,
                "language": language,
                "reply": event.written_text or event.reply_text,
                "heard": event.reply_text,
                "interrupted": event.interrupted,
                "timeline": event.timeline.to_dict(),
            }
            print(json.dumps(line, ensure_ascii=False), flush=True)
            return
        # Named as in the window, only where it tells something: not for English.
        heard_in = f" ({language_name(language)})" if language and language != ENGLISH else ""
        print(f"You{heard_in}: {event.user_text}", flush=True)
        cut = " [interrupted]" if event.interrupted else ""
        print(f"Assistant: {event.reply_text}{cut}", flush=True)


def _waiting_words(mode: ListeningMode) -> str:
    if mode is ListeningMode.HANDS_FREE:
        return "Listening: speak, and I answer when you pause. Ctrl+C ends."
    if mode is ListeningMode.WAKE_WORD:
        return "Waiting for the wake word. Ctrl+C ends."
    return "Press Enter to start talking, and Enter again when you are done. Ctrl+C ends."


def _enter_to_talk(controller: TurnController, done: asyncio.Event) -> None:
    """Push-to-talk without a window: each line typed toggles Talk; the end of input ends the
    conversation. stdin is read by a daemon thread, which a blocked read cannot keep alive."""
    loop = asyncio.get_running_loop()
    talking = False

    def toggle(line: str) -> None:
        nonlocal talking
        if not line:
            done.set()
            return
        if talking:
            controller.release()
        else:
            controller.press()
        talking = not talking

    def read() -> None:
        with contextlib.suppress(RuntimeError):  # the loop has closed: the conversation is over
            while line := sys.stdin.readline():
                loop.call_soon_threadsafe(toggle, line)
            loop.call_soon_threadsafe(toggle, "")

    threading.Thread(target=read, name="enter-to-talk", daemon=True).start()


__all__ = ["TurnReport", "add_parser", "converse"]
