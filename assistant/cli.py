"""The command line: the GUI by default, and headless subcommands on the very same pipeline
(`devices`, `transcribe`, `speak`, `turn`), each with `--json` for scripts and measurements."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from assistant import __version__, converse, logs
from assistant.config import Secrets, Settings, config_path, load_secrets, load_settings
from assistant.core.errors import AssistantError, ConfigError
from assistant.core.events import Event, Notice, StateChanged, TurnFinished, UserSaid
from assistant.core.hands_free import HandsFree, ListeningMode
from assistant.core.live_transcript import Partial
from assistant.core.protocols import (
    BYTES_PER_SAMPLE,
    TRANSCRIBE_RATE,
    AudioInput,
    LanguagesLoading,
    LiveTranscribing,
    Recording,
    Transcriber,
)
from assistant.core.turn import TurnController
from assistant.core.written_reply import SLOW_REPLY

log = logging.getLogger(__name__)

PARTIAL_STEP_SECONDS = 0.5  # audio fed to a live transcription per step, as a microphone would


class RunningAssistant(Protocol):
    """What the command line drives: the services the wiring builds (`assistant.app.Services`)."""

    transcriber: Transcriber
    controller: TurnController
    hands_free: HandsFree

    async def aclose(self) -> None: ...


class Wiring(Protocol):
    """What app.py provides: the concrete classes, built on demand."""

    @staticmethod
    def build_services(
        settings: Settings, secrets: Secrets, *, microphone: AudioInput | None = None
    ) -> RunningAssistant: ...

    @staticmethod
    def run_gui(path: Path) -> int: ...

    @staticmethod
    def file_input(path: str, max_seconds: float) -> AudioInput: ...

    @staticmethod
    def read_audio(path: str, max_seconds: float) -> bytes: ...

    @staticmethod
    def list_devices() -> list[dict[str, object]]: ...


def parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", metavar="PATH", help="the settings file (TOML)")
    common.add_argument("--json", action="store_true", help="print a machine-readable result")
    common.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what happens to stderr (-vv: every library's debug lines too, keys masked); "
        "without it, commands print only their result and what went wrong",
    )

    top = argparse.ArgumentParser(
        prog="assistant",
        parents=[common],
        description=(
            "A desktop voice assistant: hold Talk, speak, let go, and hear the answer sentence by "
            "sentence. Without a subcommand the window opens."
        ),
        epilog="Settings: see docs/configuration.md. API keys come from the OS keyring or from "
        "ASSISTANT_LLM_API_KEY, ASSISTANT_OPENAI_API_KEY and ASSISTANT_VOLCANO_TOKEN.",
    )
    top.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    top.add_argument(
        "--self-test",
        action="store_true",
        help="check that Qt, the sound devices, the speech models and the voice work, then exit",
    )
    top.add_argument(
        "--self-test-url",
        metavar="URL",
        help="with --self-test: also check that URL can be reached",
    )
    sub = top.add_subparsers(dest="command", metavar="COMMAND")
    sub.add_parser("gui", parents=[common], help="open the window (the default)")
    sub.add_parser("devices", parents=[common], help="list audio input and output devices")
    transcribe = sub.add_parser("transcribe", parents=[common], help="transcribe an audio file")
    transcribe.add_argument("file", help="a WAV, FLAC or MP3 file")
    transcribe.add_argument(
        "--partials",
        action="store_true",
        help="show the words as they would appear while the file is spoken: the file is fed "
        f"{PARTIAL_STEP_SECONDS} s at a time (as fast as it decodes; times are audio times), each "
        "partial printed with its time, then the final transcript and how long it took after "
        "the end of the audio; with --json one object per line",
    )
    speak = sub.add_parser("speak", parents=[common], help="say TEXT with the configured voice")
    speak.add_argument("text", help="what to say")
    turn = sub.add_parser(
        "turn", parents=[common], help="one whole voice turn, with a file as the microphone"
    )
    turn.add_argument("--wav", required=True, metavar="FILE", help="what the user says")
    converse.add_parser(sub, common)
    return top


def run(argv: Sequence[str] | None, wiring: Wiring) -> int:
    args = parser().parse_args(argv)
    self_test = bool(args.self_test or args.self_test_url)
    # The window and the headless commands keep a log file (the details for a bug report). A
    # headless command prints its own result, notices and errors, each once: without -v, log
    # lines on stderr would only repeat them. The self-test prints a report and keeps no file.
    headless = args.command not in (None, "gui") and not self_test
    logs.configure(
        args.verbose,
        log_file=None if self_test else logs.default_log_file(),
        quiet_stderr=headless,
    )
    if args.self_test or args.self_test_url:
        from assistant import selftest

        return selftest.run(url=args.self_test_url, config=args.config)
    try:
        if args.command == "devices":
            return _print(args, {"devices": wiring.list_devices()}, _devices_text)
        path = config_path(args.config)
        if args.command in (None, "gui"):
            return wiring.run_gui(path)  # it reads the file itself, and opens whatever it holds
        settings = load_settings(path)
        secrets = load_secrets()
        if args.command == "converse":
            return asyncio.run(_converse(args, settings, secrets, wiring))
        command = {"transcribe": _transcribe, "speak": _speak, "turn": _turn}[args.command]
        result = asyncio.run(command(args, settings, secrets, wiring))
    except ConfigError as error:
        print(f"Configuration problem: {error.message}", file=sys.stderr)
        return 2
    except AssistantError as error:
        print(error.message, file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    failed = bool(result.get("error"))
    if failed:
        print(result["error"], file=sys.stderr)
    if not result.get("printed"):  # `transcribe --partials` prints as it goes
        _print(args, result, _result_text)
    return 1 if failed else 0


async def _transcribe(
    args: argparse.Namespace, settings: Settings, secrets: Secrets, wiring: Wiring
) -> dict[str, Any]:
    services = wiring.build_services(settings, secrets)
    try:
        longest = settings.audio.max_recording_seconds  # a file is held to what a recording is
        pcm = await asyncio.to_thread(wiring.read_audio, args.file, longest)
        transcriber = services.transcriber
        await transcriber.load()
        if isinstance(transcriber, LanguagesLoading):  # a file's language must be right
            await transcriber.languages_ready()
        if args.partials:
            return await _transcribe_with_partials(transcriber, pcm, as_json=args.json)
        transcript = await transcriber.transcribe(Recording(pcm))
        return {"transcript": transcript.text, "language": transcript.language}
    finally:
        await services.aclose()


async def _transcribe_with_partials(
    transcriber: Transcriber, pcm: bytes, *, as_json: bool
) -> dict[str, Any]:
    """Feed `pcm` to a live transcription step by step, printing each partial as it comes, then
    the final transcript and the time it took after the last step. A transcriber that cannot
    transcribe live (a remote service) gives the final transcript only."""
    whole = Recording(pcm)
    if isinstance(transcriber, LiveTranscribing):
        live = transcriber.live()
        step = round(PARTIAL_STEP_SECONDS * TRANSCRIBE_RATE) * BYTES_PER_SAMPLE
        for end in range(step, len(pcm) + step, step):
            recording = Recording(pcm[:end])
            partial = await live.update(recording)
            if partial is not None:
                _print_partial(partial, round(recording.duration, 2), as_json=as_json)
        started = time.perf_counter()
        transcript = await live.finish(whole)
    else:
        started = time.perf_counter()
        transcript = await transcriber.transcribe(whole)
    final_ms = round((time.perf_counter() - started) * 1000, 1)
    final = {"final": transcript.text, "language": transcript.language, "final_ms": final_ms}
    if as_json:
        print(json.dumps(final, ensure_ascii=False), flush=True)
    else:
        language = f" ({transcript.language})" if transcript.language else ""
        print(f"You{language}: {transcript.text}")
        print(f"(final transcript {final_ms:.0f} ms after the end of the audio)")
    return {"printed": True}


def _print_partial(partial: Partial, at: float, *, as_json: bool) -> None:
    if as_json:
        shown = {"committed": partial.committed, "tentative": partial.tentative}
        print(json.dumps({"partial": shown, "at": at}, ensure_ascii=False), flush=True)
    else:
        print(f"{at:6.1f} s  {partial.committed}[{partial.tentative.strip()}]", flush=True)


async def _speak(
    args: argparse.Namespace, settings: Settings, secrets: Secrets, wiring: Wiring
) -> dict[str, Any]:
    services = wiring.build_services(settings, secrets)
    return await _drive(services, lambda c: c.read_aloud(args.text), load_model=False)


async def _turn(
    args: argparse.Namespace, settings: Settings, secrets: Secrets, wiring: Wiring
) -> dict[str, Any]:
    microphone = wiring.file_input(args.wav, settings.audio.max_recording_seconds)
    services = wiring.build_services(settings, secrets, microphone=microphone)

    def talk(controller: TurnController) -> None:
        controller.press()
        controller.release()

    return await _drive(services, talk, load_model=True)


async def _converse(
    args: argparse.Namespace, settings: Settings, secrets: Secrets, wiring: Wiring
) -> int:
    mode = ListeningMode(args.mode or settings.conversation.mode)
    return await converse.converse(args, wiring.build_services(settings, secrets), mode)


async def _drive(
    services: RunningAssistant, act: Callable[[TurnController], None], *, load_model: bool
) -> dict[str, Any]:
    """Run one turn on the controller, exactly as the GUI would, and collect what happened."""
    controller = services.controller
    result: dict[str, Any] = {}
    notices: list[str] = []

    def observe(event: Event) -> None:
        if isinstance(event, UserSaid):
            result["transcript"] = event.text
            result["language"] = event.language
        elif isinstance(event, Notice):
            notices.append(event.message)
            if event.is_error:
                result["error"] = event.message
        elif isinstance(event, StateChanged) and event.detail == SLOW_REPLY:
            print(f"({event.detail})", file=sys.stderr, flush=True)
        elif isinstance(event, TurnFinished):
            result["reply"] = event.reply_text
            result["interrupted"] = event.interrupted
            result["timeline"] = event.timeline.to_dict()

    controller.events.connect(observe)
    try:
        if load_model:
            controller.start()
            await controller.wait_ready()
            if "error" in result:
                return result
        act(controller)
        await controller.wait()
    finally:
        await services.aclose()
    result["notices"] = notices
    return result


def _print(
    args: argparse.Namespace, result: dict[str, Any], as_text: Callable[[dict[str, Any]], str]
) -> int:
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else as_text(result))
    return 0


def _devices_text(result: dict[str, Any]) -> str:
    """The microphones and speakers by the names people know, each with its settings value."""
    devices = result["devices"]
    lines = []
    for kind, heading in (("input", "Microphones"), ("output", "Speakers")):
        found = [d for d in devices if d["kind"] == kind]
        lines += [f"{heading}:", "  System default" + ("" if found else " (no other found)")]
        for d in found:
            lines.append(f"  {d['label']}" + (" (the default now)" if d["is_default"] else ""))
            if d["setting"] != d["label"]:
                lines.append(f'      in the settings file: "{d["setting"]}"')
    return "\n".join(lines)


def _result_text(result: dict[str, Any]) -> str:
    lines = []
    if "transcript" in result:
        language = f" ({result['language']})" if result.get("language") else ""
        lines.append(f"You{language}: {result['transcript']}")
    if result.get("reply"):
        lines.append(f"Assistant: {result['reply']}")
    lines += [
        f"({notice})" for notice in result.get("notices", []) if notice != result.get("error")
    ]
    timeline = result.get("timeline")
    if timeline and timeline.get("first_audio_ms") is not None:
        lines.append(
            f"First audio {timeline['first_audio_ms']:.0f} ms after the input ended; "
            f"{timeline['connections_opened']} new connection(s)."
        )
    return "\n".join(lines)
