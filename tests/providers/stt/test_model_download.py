"""Downloading a Whisper model by size name, from a fake hub on 127.0.0.1 that serves the real
tiny.en files: progress, checksums, faults, cancellation, and the model that comes out of it
transcribing real speech.

Run with `-s` to see the download throughput and the event loop's lag while downloading.
"""

from __future__ import annotations

import asyncio
import filecmp
import socket
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import faster_whisper.utils
import httpx
import pytest

from assistant.config import NetworkSettings, Settings, SttSettings, validate_settings
from assistant.core.errors import ConfigError, ModelError, ModelMissing
from assistant.core.protocols import LoadProgress
from assistant.providers.http import make_http_client
from assistant.providers.stt.model_download import (
    download_model,
    is_downloaded,
    repo_of,
    size_names,
)
from assistant.providers.stt.whisper_local import WhisperTranscriber
from tests.providers.stt.test_whisper_local import MAX_WORD_ERROR_RATE, read_clip
from tests.support.loopback import LoopbackServer, TlsFiles
from tests.support.model_hub import (
    COMMIT,
    LISTING,
    MODEL_FILE,
    NAME,
    REPO,
    HubFault,
    ModelHub,
    model_folder,
)
from tests.support.speech import references, word_error_rate

CLIP = "ds_2830-3980-0043.wav"
MODEL_FILES = {"config.json", "model.bin", "tokenizer.json", "vocabulary.txt"}
Loopback = Callable[..., LoopbackServer]


@asynccontextmanager
async def http_client(
    tls: TlsFiles, read_timeout: float = 30.0
) -> AsyncIterator[httpx.AsyncClient]:
    client, _ = make_http_client(
        NetworkSettings(ca_file=str(tls.ca_file), read_timeout=read_timeout)
    )
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def client(tls: TlsFiles, loopback: Loopback) -> AsyncIterator[httpx.AsyncClient]:
    # Asks for `loopback` so that the client closes first: a server stopping while a client
    # still holds a kept-alive connection to it waits seconds for that connection.
    async with http_client(tls) as client:
        yield client


@pytest.fixture
def hub() -> ModelHub:
    return ModelHub()


@pytest.fixture
def hub_url(loopback: Loopback, hub: ModelHub) -> str:
    return str(loopback(hub.handler).url)


def transcriber(
    client: httpx.AsyncClient | None, hub_url: str, models_dir: Path
) -> WhisperTranscriber:
    # English, as tiny.en can do no other: the multilingual model is not loaded beside it.
    settings = SttSettings(model=NAME, hub_url=hub_url, language="en")
    return WhisperTranscriber(settings, client=client, models_dir=models_dir)


def contents(folder: Path) -> set[str]:
    """Everything in `folder`, hidden entries too."""
    return {entry.name for entry in folder.iterdir()}


def a_port_nobody_listens_on() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def until_steady(count: Callable[[], int], seconds: float = 0.5) -> None:
    """Wait until `count()` stops changing for `seconds` (at most 20 s)."""
    async with asyncio.timeout(20):
        while True:
            before = count()
            await asyncio.sleep(seconds)
            if count() == before:
                return


async def transcribes_the_clip(local: WhisperTranscriber) -> None:
    transcript = await local.transcribe(read_clip(CLIP))
    assert word_error_rate(references()[CLIP], transcript.text) <= MAX_WORD_ERROR_RATE


# --- a download that works ---


async def test_a_model_named_by_size_downloads_with_progress_and_transcribes(
    client: httpx.AsyncClient, hub: ModelHub, hub_url: str, tmp_path: Path
) -> None:
    heard: list[tuple[float, LoadProgress]] = []
    lags: list[float] = []
    done = asyncio.Event()

    async def tick_every_10_ms() -> None:
        while not done.is_set():
            due = time.perf_counter() + 0.01
            await asyncio.sleep(0.01)
            lags.append(time.perf_counter() - due)

    def hear(progress: LoadProgress) -> None:
        heard.append((time.perf_counter(), progress))
        if progress.fraction == 1.0:
            done.set()  # the download is over: what follows is loading, in the worker thread

    local = transcriber(client, hub_url, tmp_path)
    ticker = asyncio.create_task(tick_every_10_ms())
    try:
        await local.load(hear)
        await ticker
        await transcribes_the_clip(local)
    finally:
        done.set()
        local.close()

    downloading = [(at, p) for at, p in heard if p.text.startswith("Downloading")]
    fractions = [p.fraction for _, p in downloading if p.fraction is not None]
    assert fractions[0] == 0.0
    assert fractions[-1] == 1.0
    assert fractions == sorted(fractions)
    assert any(0.0 < fraction < 1.0 for fraction in fractions)  # the bar moved on its way
    assert downloading[-1][1].text == "Downloading the speech model tiny.en: 78 of 78 MB"
    seconds = downloading[-1][0] - downloading[0][0]
    assert len(downloading) <= 10 * seconds + 3  # about ten a second at most
    assert heard[-1][1] == LoadProgress("Loading the speech model…")
    # The download runs on the event loop: it must leave it free to tick (the bound is loose,
    # as this machine's two cores are shared).
    assert len(lags) >= seconds / 0.1

    folder = tmp_path / NAME
    assert contents(tmp_path) == {NAME}  # no partial folder left beside it
    assert contents(folder) == MODEL_FILES  # what the model needs, not the README
    for name in MODEL_FILES:
        assert filecmp.cmp(folder / name, model_folder() / name, shallow=False)
    resolved = [path for path in hub.requests if "/resolve/" in path]
    assert all(f"/resolve/{COMMIT}/" in path for path in resolved)  # every file from one commit
    print(
        f"\ndownloaded {hub.download_bytes / 1e6:.0f} MB in {seconds:.2f} s: "
        f"{hub.download_bytes / 1e6 / seconds:.0f} MB/s over HTTP/2 on loopback; "
        f"{len(downloading)} progress updates; loop lag while downloading max "
        f"{max(lags) * 1000:.0f} ms"
    )


async def test_a_downloaded_model_loads_again_with_the_hub_gone(
    client: httpx.AsyncClient, tls: TlsFiles, tmp_path: Path
) -> None:
    hub = ModelHub()
    with LoopbackServer(hub.handler, tls) as server:
        async with http_client(tls) as first_run:
            await download_model(first_run, NAME, tmp_path, hub_url=server.url)
    asked = len(hub.requests)
    assert is_downloaded(NAME, tmp_path)

    again = transcriber(client, server.url, tmp_path)  # nothing listens there any more
    heard: list[LoadProgress] = []
    try:
        await again.load(heard.append)
        await transcribes_the_clip(again)
    finally:
        again.close()
    assert len(hub.requests) == asked
    assert not any(p.text.startswith("Downloading") for p in heard)


async def test_concurrent_loads_share_one_download_and_all_hear_it(
    client: httpx.AsyncClient, hub: ModelHub, hub_url: str, tmp_path: Path
) -> None:
    local = transcriber(client, hub_url, tmp_path)
    first: list[LoadProgress] = []
    second: list[LoadProgress] = []
    try:
        await asyncio.gather(local.load(first.append), local.load(second.append))
    finally:
        local.close()
    assert len([path for path in hub.requests if path.startswith("/cdn/")]) == 1
    for heard in (first, second):
        assert LoadProgress("Downloading the speech model tiny.en: 78 of 78 MB", 1.0) in heard


# --- when it cannot be downloaded ---


async def test_with_no_hub_listening_the_model_is_missing_and_the_message_says_what_to_do(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    local = transcriber(client, f"https://127.0.0.1:{a_port_nobody_listens_on()}", tmp_path)
    try:
        with pytest.raises(ModelMissing) as error:
            await local.load()
    finally:
        local.close()
    assert error.value.model == NAME
    message = str(error.value)
    assert "'tiny.en' is not on this computer and could not be downloaded" in message
    assert "could not be reached" in message
    assert "Check the internet connection and try again" in message
    assert "CTranslate2 format (model.bin) in Settings > Speech recognition" in message
    assert not local.loaded
    assert contents(tmp_path) == set()


# id: (the fault, where it strikes, the error, part of its message)
FAULTS = {
    "500": (HubFault.SERVER_ERROR, MODEL_FILE, ModelMissing, "server error (500)"),
    "500-listing": (HubFault.SERVER_ERROR, LISTING, ModelMissing, "server error (500)"),
    "404": (HubFault.NOT_FOUND, MODEL_FILE, ModelMissing, "404 (not found) for model.bin"),
    "truncated": (HubFault.TRUNCATED, MODEL_FILE, ModelError, "broke off"),
    "wrong-bytes": (HubFault.WRONG_BYTES, MODEL_FILE, ModelError, "checksum of model.bin"),
    "stall": (HubFault.STALL, MODEL_FILE, ModelMissing, "stopped answering"),
    "plain-http-redirect": (
        HubFault.PLAIN_HTTP_REDIRECT,
        MODEL_FILE,
        ModelMissing,
        "'http://cdn.example.com/repos/",
    ),
    "redirect-loop": (HubFault.REDIRECT_LOOP, MODEL_FILE, ModelMissing, "more than 5 times"),
}


@pytest.mark.parametrize(("fault", "on", "kind", "says"), list(FAULTS.values()), ids=list(FAULTS))
async def test_a_failed_download_says_why_and_leaves_only_what_was_there(
    tls: TlsFiles,
    hub: ModelHub,
    hub_url: str,
    tmp_path: Path,
    fault: HubFault,
    on: str,
    kind: type[ModelError],
    says: str,
) -> None:
    earlier = tmp_path / "base.en"  # a model downloaded before: it must survive
    earlier.mkdir()
    (earlier / "model.bin").write_bytes(b"an earlier model")
    before = contents(tmp_path)
    hub.break_with(fault, on=on)
    heard: list[LoadProgress] = []
    # A short read timeout, so that the stalled body is given up on quickly.
    async with http_client(tls, read_timeout=0.5 if fault is HubFault.STALL else 30.0) as client:
        with pytest.raises(ModelError) as error:
            await download_model(client, NAME, tmp_path, hub_url=hub_url, progress=heard.append)
    hub.heal()
    assert type(error.value) is kind
    message = str(error.value)
    assert says in message
    assert "'tiny.en'" in message
    assert "Try again" in message or "try again" in message
    assert "Signature" not in message  # the CDN address's signature is not repeated
    assert contents(tmp_path) == before
    assert not any(p.fraction == 1.0 for p in heard)
    if fault is HubFault.PLAIN_HTTP_REDIRECT:
        assert not any("cdn.example.com" in path for path in hub.requests)


async def test_cancelling_mid_download_leaves_nothing(
    client: httpx.AsyncClient, loopback: Loopback, tmp_path: Path
) -> None:
    hub = ModelHub(piece_delay=0.01)  # about 3 s for model.bin: time to cancel half-way
    url = loopback(hub.handler).url
    local = transcriber(client, url, tmp_path)
    under_way = asyncio.Event()

    def heard(progress: LoadProgress) -> None:
        if progress.fraction is not None and progress.fraction > 0.05:
            under_way.set()

    loading = asyncio.create_task(local.load(heard))
    try:
        await asyncio.wait_for(under_way.wait(), 20)
        assert any(".partial-" in name for name in contents(tmp_path))
        loading.cancel()
        with pytest.raises(asyncio.CancelledError):
            await loading
    finally:
        local.close()
    assert contents(tmp_path) == set()
    assert not local.loaded
    asked = len(hub.requests)
    await asyncio.sleep(0.2)
    assert len(hub.requests) == asked  # it stopped: nothing more was fetched


async def test_a_download_retried_right_after_a_cancelled_one_succeeds(
    loopback: Loopback, tls: TlsFiles, tmp_path: Path
) -> None:
    hub = ModelHub(piece_delay=0.01)
    url = loopback(hub.handler).url
    under_way = asyncio.Event()

    def heard(progress: LoadProgress) -> None:
        if progress.fraction is not None and progress.fraction > 0.05:
            under_way.set()

    async with http_client(tls, read_timeout=2.0) as client:
        first = asyncio.create_task(
            download_model(client, NAME, tmp_path, hub_url=url, progress=heard)
        )
        await asyncio.wait_for(under_way.wait(), 20)
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        await until_steady(lambda: hub.sent_bytes)  # the server sent all that the window allows
        hub.piece_delay = 0.0
        await download_model(client, NAME, tmp_path, hub_url=url)
    assert is_downloaded(NAME, tmp_path)


async def test_the_next_load_after_a_failed_download_succeeds_once_the_hub_is_back(
    client: httpx.AsyncClient, hub: ModelHub, hub_url: str, tmp_path: Path
) -> None:
    hub.break_with(HubFault.SERVER_ERROR)
    local = transcriber(client, hub_url, tmp_path)
    try:
        with pytest.raises(ModelMissing):
            await local.load()
        assert contents(tmp_path) == set()
        hub.heal()
        await local.load()
        assert local.loaded
    finally:
        local.close()
    assert contents(tmp_path) == {NAME}


async def test_a_models_folder_that_cannot_be_written_is_named_in_the_error(
    client: httpx.AsyncClient, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_bytes(b"")  # a file where a folder should be: nothing can be saved below it
    models_dir = blocked / "models"
    with pytest.raises(ModelError) as error:
        await download_model(client, NAME, models_dir, hub_url="https://huggingface.co")
    assert type(error.value) is ModelError
    assert str(models_dir) in str(error.value)
    assert "try again" in str(error.value)


async def test_without_the_http_client_a_model_not_yet_downloaded_is_missing(
    tmp_path: Path,
) -> None:
    local = transcriber(None, "https://huggingface.co", tmp_path)
    try:
        with pytest.raises(ModelMissing) as error:
            await local.load()
    finally:
        local.close()
    assert error.value.model == NAME
    assert "Settings > Speech recognition" in str(error.value)


# --- names, repositories, settings ---


def test_size_names_map_to_their_hub_repositories() -> None:
    assert {"tiny.en", "base.en", "small", "large-v3", "turbo"} <= set(size_names())
    assert repo_of(NAME) == REPO
    with pytest.raises(ModelError, match="'tiny-english' is not a Whisper model name"):
        repo_of("tiny-english")


def test_a_faster_whisper_without_its_model_table_is_a_clear_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delattr(faster_whisper.utils, "_MODELS")
    with pytest.raises(ModelError) as error:
        repo_of(NAME)
    assert "cannot be downloaded by name" in str(error.value)
    assert "Settings > Speech recognition" in str(error.value)


@pytest.mark.parametrize(
    "url", ["https://hf-mirror.com/", "https://huggingface.co", "http://127.0.0.1:8080"]
)
def test_a_hub_mirror_over_https_or_on_this_computer_is_accepted(url: str) -> None:
    settings = validate_settings(Settings(stt=SttSettings(hub_url=url)))
    assert settings.stt.hub_url == url.rstrip("/")


def test_a_hub_over_plain_http_to_another_machine_is_refused() -> None:
    with pytest.raises(ConfigError) as error:
        validate_settings(Settings(stt=SttSettings(hub_url="http://hf-mirror.com")))
    assert "[stt] hub_url" in str(error.value)
    assert "https" in str(error.value)
