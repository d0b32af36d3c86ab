"""The command line, run as a user would run it (`python -m assistant ...` in a subprocess), on the
same pipeline as the window: devices, transcribe, speak, and a whole turn with a file as the
microphone, against the virtual sound card and loopback servers."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tests.support.chat_server import ChatServer
from tests.support.pulse import RECORD_RATE, VirtualSoundCard
from tests.support.speech import SPEECH, references, word_error_rate
from tests.support.tts_servers import OpenAiSpeechServer

API_KEY = "sk-cli-test-key"
CLIP = SPEECH / "ds_2830-3980-0043.wav"


def run_cli(
    *args: str,
    home: Path,
    extra_env: dict[str, str] | None = None,
    timeout: float = 120,
    stdin: str | None = None,
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "HOME": str(home),
        "XDG_CONFIG_HOME": str(home / "config"),
        "XDG_DATA_HOME": str(home / "data"),
        "XDG_STATE_HOME": str(home / "state"),
        "XDG_CACHE_HOME": str(home / "cache"),
        "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring",
        **(extra_env or {}),
    }
    env.pop("ASSISTANT_CONFIG", None)
    return subprocess.run(
        [sys.executable, "-m", "assistant", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env,
        timeout=timeout,
        check=False,
    )


def write_config(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_help_explains_every_command(tmp_path: Path) -> None:
    result = run_cli("--help", home=tmp_path)
    assert result.returncode == 0
    for command in ("devices", "transcribe", "speak", "turn", "--config", "--json"):
        assert command in result.stdout
    assert "ASSISTANT_LLM_API_KEY" in result.stdout


def test_a_bad_setting_is_named_without_a_traceback(tmp_path: Path) -> None:
    config = write_config(tmp_path / "bad.toml", '[tts]\nprovider = "polly"\n')
    result = run_cli("speak", "Hello", "--config", str(config), home=tmp_path)
    assert result.returncode == 2
    assert "[tts] provider" in result.stderr and "polly" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize("command", ["speak", "turn"])
def test_an_error_is_said_once_and_a_missing_keyring_not_at_all(
    command: str, no_sound_card: None, tmp_path: Path
) -> None:
    # No sound card: the reply cannot be played. The user reads that once, in plain words: not
    # again as a log line, and with no warning about a keyring this machine never had.
    words = ["speak", "Hello there."] if command == "speak" else ["turn", "--wav", str(CLIP)]
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = run_cli(*words, home=tmp_path, extra_env=no_keyring)
    assert result.returncode == 1
    error = "No speaker was found."
    assert (result.stdout + result.stderr).count(error) == 1, result.stderr
    assert result.stderr.startswith(error), result.stderr
    assert "WARNING" not in result.stderr and "keyring" not in result.stderr.lower()
    assert "Traceback" not in result.stderr
    # The details stay in the log file, for a bug report.
    log_file = tmp_path / "state" / "voice-assistant" / "log" / "assistant.log"
    assert error in log_file.read_text(encoding="utf-8")


def test_verbose_shows_what_happened_as_log_lines(no_sound_card: None, tmp_path: Path) -> None:
    no_keyring = {"PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    result = run_cli("speak", "Hello there.", "-v", home=tmp_path, extra_env=no_keyring)
    assert result.returncode == 1
    assert "No system keyring is available" in result.stderr  # INFO: shown with -v
    assert "No speaker was found." in result.stderr


@pytest.mark.audio
def test_devices_lists_the_sound_card(virtual_sound_card: VirtualSoundCard, tmp_path: Path) -> None:
    result = run_cli("devices", "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    devices = json.loads(result.stdout)["devices"]
    # The rig's speaker is listed by its description; its microphone is that speaker's monitor,
    # which is never offered as a microphone (the system default still records it).
    assert any(d["kind"] == "output" and d["label"] == "Assistant_test_speaker" for d in devices)
    assert not any(d["setting"].endswith(".monitor") for d in devices)
    text = run_cli("devices", home=tmp_path).stdout
    assert "Microphones:" in text and "Speakers:" in text and "System default" in text
    assert "pulse" not in text.lower().split()  # ALSA's pseudo-devices are not offered


def test_transcribe_a_file_with_the_bundled_model(tmp_path: Path) -> None:
    clip = "fw_jfk.flac"  # 44.1 kHz stereo
    result = run_cli("transcribe", str(SPEECH / clip), "--json", home=tmp_path)
    assert result.returncode == 0, result.stderr
    transcript = json.loads(result.stdout)["transcript"]
    assert word_error_rate(references()[clip], transcript) <= 0.1, transcript


def test_transcribe_partials_shows_the_words_as_they_come_then_the_final(tmp_path: Path) -> None:
    clip = "fw_stereo_diarization_left.wav"  # 5 s
    result = run_cli("transcribe", "--partials", "--json", str(SPEECH / clip), home=tmp_path)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    *partials, final = lines
    times = [line["at"] for line in partials]
    assert times == sorted(times) and 0 < times[0] <= 0.5 and times[-1] <= 5.0
    committed = [line["partial"]["committed"] for line in partials]
    assert committed[-1], "words were committed while the file was spoken"
    pairs = zip(committed, committed[1:], strict=False)
    assert all(after.startswith(before) for before, after in pairs)
    assert word_error_rate(references()[clip], final["final"]) == 0.0, final
    assert final["language"] == "en"
    assert final["final_ms"] >= 0


def test_transcribe_partials_as_text_marks_the_tentative_words(tmp_path: Path) -> None:
    clip = "fw_stereo_diarization_right.wav"
    result = run_cli("transcribe", "--partials", str(SPEECH / clip), home=tmp_path)
    assert result.returncode == 0, result.stderr
    *partials, you, timing = result.stdout.splitlines()
    assert all(line.split()[1] == "s" and "[" in line for line in partials), partials
    assert you == "You (en): The horizon seems extremely distant."
    assert timing.startswith("(final transcript ") and "ms after the end of the audio" in timing


def test_a_file_longer_than_the_longest_recording_is_refused_before_it_is_decoded(
    tmp_path: Path,
) -> None:
    # fw_jfk.flac is 11 s long; the settings allow recordings of 5 s.
    config = write_config(tmp_path / "short.toml", "[audio]\nmax_recording_seconds = 5\n")
    clip = str(SPEECH / "fw_jfk.flac")
    result = run_cli("transcribe", clip, "--config", str(config), home=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "longest recording" in result.stderr and "max_recording_seconds" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.audio
def test_speak_plays_the_offline_voice_on_the_sound_card(
    virtual_sound_card: VirtualSoundCard, tmp_path: Path
) -> None:
    recorder = virtual_sound_card.start_recording()
    result = run_cli("speak", "Hello there. This is the offline voice.", "--json", home=tmp_path)
    recorded = recorder.stop()
    assert result.returncode == 0, result.stderr
    timeline = json.loads(result.stdout)["timeline"]
    assert len(timeline["sentences"]) == 2
    assert timeline["connections_opened"] == 0  # Piper needs no network
    loud = np.abs(recorded.astype(np.int32)) > 1000
    assert loud.sum() / RECORD_RATE > 1.0  # more than a second of speech reached the speaker


@pytest.mark.audio
def test_a_whole_turn_with_a_file_as_the_microphone(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: Any, tmp_path: Path
) -> None:
    chat = ChatServer(reply="Experience is a fine teacher. It proves many things.")
    speech = OpenAiSpeechServer(api_key=API_KEY)
    chat_url, speech_url = loopback(chat.handler).url, loopback(speech.handler).url
    config = write_config(
        tmp_path / "config.toml",
        f"""
[llm]
base_url = "{chat_url}/v1"
model = "test-model"

[tts]
provider = "openai"

[tts.openai]
base_url = "{speech_url}/v1"

[network]
ca_file = "{tls.ca_file}"
""",
    )
    clip = "ds_2830-3980-0043.wav"
    result = run_cli(
        "turn",
        "--wav",
        str(SPEECH / clip),
        "--config",
        str(config),
        "--json",
        home=tmp_path,
        extra_env={"ASSISTANT_OPENAI_API_KEY": API_KEY},
    )
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert word_error_rate(references()[clip], out["transcript"]) <= 0.2
    assert chat.received[0][-1]["content"] == out["transcript"]
    assert out["reply"] == chat.reply
    timeline = out["timeline"]
    assert [s["text"].strip() for s in timeline["sentences"]] == [
        "Experience is a fine teacher.",
        "It proves many things.",
    ]
    for key in ("transcript_ready_ms", "first_token_ms", "first_audio_ms"):
        assert timeline[key] is not None and timeline[key] >= 0
    assert timeline["connections_opened"] == 2
    assert API_KEY not in result.stdout + result.stderr


def test_converse_in_push_to_talk_ends_with_its_input(tmp_path: Path) -> None:
    # No sound card needed: Enter toggles Talk, and the end of input ends the conversation.
    result = run_cli("converse", "--mode", "push_to_talk", "--json", home=tmp_path, stdin="")
    assert result.returncode == 0, result.stderr
    assert "Press Enter to start talking" in result.stderr
    assert result.stdout == ""  # --json: one line per finished turn, and there was none
