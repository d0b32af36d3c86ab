"""Keys never reach a log line, an error message or the history: the masking filter on its own,
the window's private log file, and whole runs of the command line with every library's debug
logging on (httpx, httpcore, hpack), checked line by line."""

from __future__ import annotations

import logging
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from assistant import logs
from tests.support.chat_server import ChatServer
from tests.support.pulse import VirtualSoundCard
from tests.support.speech import SPEECH
from tests.support.tts_servers import OpenAiSpeechServer, VolcanoV1Server, VolcanoV3Server
from tests.test_cli import run_cli, write_config

LLM_KEY = "sk-llm-SECRET-4f1c2a9e"
OPENAI_KEY = "sk-openai-SECRET-9b3d7710"
VOLCANO_TOKEN = "volc-SECRET-77aa51c0"
KEYS = (LLM_KEY, OPENAI_KEY, VOLCANO_TOKEN)
ENV = {
    "ASSISTANT_LLM_API_KEY": LLM_KEY,
    "ASSISTANT_OPENAI_API_KEY": OPENAI_KEY,
    "ASSISTANT_VOLCANO_TOKEN": VOLCANO_TOKEN,
}


@pytest.fixture
def redactor() -> logs.SecretRedactor:
    masker = logs.SecretRedactor()
    masker.add(*KEYS, None, "  ")
    return masker


@pytest.mark.parametrize(
    "line",
    [
        f"sending key {LLM_KEY} now",
        f"Authorization: Bearer {LLM_KEY}",
        f"Adding b'authorization'=b'Bearer {LLM_KEY}' to the header table",
        f"[(b'authorization', b'Bearer {LLM_KEY}'), (b'accept', b'*/*')]",
        f"Adding b'x-api-access-key'=b'{VOLCANO_TOKEN}' to the header table",
        f'{{"app": {{"appid": "app-1", "token": "{VOLCANO_TOKEN}"}}}}',
        f"headers={{'Authorization': 'Bearer;{VOLCANO_TOKEN}'}}",
        f"url=https://api.example.com/v1?api_key={OPENAI_KEY}",
    ],
)
def test_configured_keys_and_credential_shapes_are_masked(
    redactor: logs.SecretRedactor, line: str
) -> None:
    masked = redactor.redact(line)
    assert all(key not in masked for key in KEYS), masked
    assert logs.MASK in masked


@pytest.mark.parametrize(
    ("line", "hidden"),
    [
        ("Authorization: Bearer sk-unknown-0000", "sk-unknown-0000"),
        ("Bearer;volc-unknown-1111", "volc-unknown-1111"),
        ("bearer abc.def.ghi", "abc.def.ghi"),
        ("proxy-authorization: Basic dXNlcjpwYXNz", "dXNlcjpwYXNz"),
        ("Encoded header block to b'\\x83\\x87\\xa9\\xb4'", "\\x83\\x87"),
    ],
)
def test_credentials_nobody_configured_are_masked_by_their_shape(
    redactor: logs.SecretRedactor, line: str, hidden: str
) -> None:
    assert hidden not in redactor.redact(line)


def test_ordinary_lines_are_left_alone(redactor: logs.SecretRedactor) -> None:
    for line in (
        "Volcano TTS request 1f2e: HTTP 200, X-Tt-Logid 0a1b",
        "chat usage: {'prompt_tokens': 10, 'completion_tokens': 5}",
        'HTTP Request: POST https://127.0.0.1:4443/v1/chat/completions "HTTP/2 200 OK"',
        "The chat service rejected the API key. Check Settings > API keys.",
    ):
        assert redactor.redact(line) == line


@pytest.fixture
def masking() -> Iterator[None]:
    """The real app-wide masking, with this test's keys; the root logger restored afterwards."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    logs.protect(*KEYS)
    try:
        yield
    finally:
        for handler in root.handlers:
            if handler not in handlers:
                root.removeHandler(handler)
                handler.close()
        root.setLevel(level)


def test_every_record_is_masked_whichever_handler_writes_it(
    masking: None, caplog: pytest.LogCaptureFixture
) -> None:
    log = logging.getLogger("some.library")
    with caplog.at_level(logging.DEBUG):
        log.debug("request headers %r", {"authorization": f"Bearer {LLM_KEY}"})
        log.info("token=%s", VOLCANO_TOKEN)
        try:
            raise RuntimeError(f"refused key {OPENAI_KEY}")
        except RuntimeError:
            log.exception("it failed with %s", OPENAI_KEY)
    assert len(caplog.records) == 3
    assert all(key not in caplog.text for key in KEYS), caplog.text
    assert "refused key ***" in caplog.text  # the traceback is there, masked


def test_the_log_file_is_private_small_and_masked(masking: None, tmp_path: Path) -> None:
    path = tmp_path / "logs" / "assistant.log"
    logs.configure(0, log_file=path)
    log = logging.getLogger("assistant.test")
    for index in range(30_000):  # about 3 MB: it must rotate, not grow
        log.info("line %d with key %s", index, LLM_KEY)
    for handler in logging.getLogger().handlers:
        handler.flush()
    files = sorted(path.parent.iterdir())
    assert [f.name for f in files] == ["assistant.log", "assistant.log.1", "assistant.log.2"]
    for file in files:
        assert file.stat().st_size <= logs.LOG_FILE_BYTES + 200
        if os.name == "posix":
            assert stat.S_IMODE(file.stat().st_mode) == 0o600
        text = file.read_text()
        assert LLM_KEY not in text and "with key ***" in text
    if os.name == "posix":
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700


def test_the_window_logs_to_the_per_user_log_folder(tmp_path: Path) -> None:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state")}
    import subprocess

    found = subprocess.run(
        [sys.executable, "-c", "from assistant import logs; print(logs.default_log_file())"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert found == str(tmp_path / "state" / "voice-assistant" / "log" / "assistant.log")


# Whole runs of the command line, every library logging at DEBUG.


def assert_no_key_anywhere(result: Any) -> None:
    output = result.stdout + result.stderr
    leaks = [line for line in output.splitlines() if any(key in line for key in KEYS)]
    assert not leaks, "\n".join(leaks[:5])


def assert_libraries_logged(stderr: str) -> None:
    assert " INFO httpx: HTTP Request: POST" in stderr  # httpx logs its requests at INFO
    for name in ("httpcore", "hpack"):
        assert f" DEBUG {name}" in stderr, f"no DEBUG line from {name}"


@pytest.mark.audio
def test_a_whole_voice_turn_logs_no_key(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: Any, tmp_path: Path
) -> None:
    chat = ChatServer("Keys are safe here. Nothing leaks.")
    speech = VolcanoV3Server(token=VOLCANO_TOKEN, appid="app-1")
    chat_url, speech_url = loopback(chat.handler).url, loopback(speech.handler).url
    config = write_config(
        tmp_path / "config.toml",
        f"""
[llm]
base_url = "{chat_url}/v1"
model = "test-model"

[tts]
provider = "volcano_v3"

[tts.volcano_v3]
endpoint = "{speech_url}/api/v3/tts/unidirectional"
appid = "app-1"
speaker = "test-speaker"

[network]
ca_file = "{tls.ca_file}"
""",
    )
    result = run_cli(
        "turn",
        "--wav",
        str(SPEECH / "ds_2830-3980-0043.wav"),
        "--config",
        str(config),
        "-vv",
        home=tmp_path,
        extra_env=ENV,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    # The keys were really used: the servers got them.
    assert chat.received and speech.requests
    assert speech.requests[0].headers["x-api-access-key"] == VOLCANO_TOKEN
    assert_libraries_logged(result.stderr)
    assert_no_key_anywhere(result)


@pytest.mark.audio
@pytest.mark.parametrize("provider", ["volcano", "openai"])
def test_speaking_with_a_cloud_voice_logs_no_key(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: Any, tmp_path: Path, provider: str
) -> None:
    if provider == "volcano":  # the token goes in the JSON body and a "Bearer;" header
        volcano = VolcanoV1Server(token=VOLCANO_TOKEN, appid="app-1")
        url = loopback(volcano.handler).url
        voice = f'[tts.volcano]\nendpoint = "{url}/api/v1/tts"\nappid = "app-1"\n'
        requests = volcano.requests
    else:
        openai = OpenAiSpeechServer(api_key=OPENAI_KEY)
        url = loopback(openai.handler).url
        voice = f'[tts.openai]\nbase_url = "{url}/v1"\n'
        requests = openai.requests
    config = write_config(
        tmp_path / "config.toml",
        f'[tts]\nprovider = "{provider}"\n\n{voice}\n[network]\nca_file = "{tls.ca_file}"\n',
    )
    result = run_cli(
        "speak", "Nothing to hide.", "--config", str(config), "-vv", home=tmp_path, extra_env=ENV
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert requests
    assert_libraries_logged(result.stderr)
    assert_no_key_anywhere(result)


@pytest.mark.audio
def test_a_rejected_key_is_not_repeated_in_the_error(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: Any, tmp_path: Path
) -> None:
    # Like OpenAI, this server quotes the key it was given in its 401 message.
    openai = OpenAiSpeechServer(api_key="sk-the-right-one")
    url = loopback(openai.handler).url
    config = write_config(
        tmp_path / "config.toml",
        f'[tts]\nprovider = "openai"\n\n[tts.openai]\nbase_url = "{url}/v1"\n\n'
        f'[network]\nca_file = "{tls.ca_file}"\n',
    )
    result = run_cli(
        "speak", "Hello.", "--config", str(config), "-vv", home=tmp_path, extra_env=ENV
    )
    assert result.returncode == 1
    assert "rejected the OpenAI API key" in result.stderr
    assert_no_key_anywhere(result)
