"""A key goes only where the user sent it: https to other machines, Volcano's token only to
Volcano's own domains (or this machine), no user names or lookalike hosts, redirects never followed
(the second server never hears from us), TLS always verified. Turn-level checks run the real app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import trustme

from assistant.app import build_services
from assistant.config import NetworkSettings, Secrets, VolcanoTtsSettings, VolcanoV3TtsSettings
from assistant.core.endpoints import check_vendor_endpoint
from assistant.core.errors import EndpointError
from assistant.providers.http import make_http_client
from assistant.providers.tts._common import VOLCANO_DOMAINS
from assistant.providers.tts.volcano_v1 import VolcanoTts
from assistant.providers.tts.volcano_v3 import VolcanoV3Tts
from tests.reliability.harness import VOLCANO_TOKEN, Assistant, settings_for, short_audio
from tests.support.chat_server import ChatServer
from tests.support.loopback import LoopbackServer, Request, Response, TlsFiles
from tests.support.pulse import VirtualSoundCard
from tests.support.tts_servers import OpenAiSpeechServer

REPLY = "First sentence here. Second one."


def volcano(endpoint: str) -> str:
    return check_vendor_endpoint(
        endpoint, "Volcano TTS endpoint", "Volcano Engine", VOLCANO_DOMAINS
    )


# Which hosts may receive Volcano's token.


@pytest.mark.parametrize(
    "url",
    [
        "https://openspeech.bytedance.com/api/v1/tts",
        "https://openspeech.bytedance.com./api/v1/tts",
        "https://OPENSPEECH.BYTEDANCE.COM/api/v3/tts/unidirectional",
        "https://ark.cn-beijing.volces.com/api/v3",
        "https://openspeech.volcengine.com/api/v1/tts",
        "https://127.0.0.1:8443/api/v1/tts",  # a local gateway, or a test server
        "http://localhost:9000/api/v1/tts",
    ],
)
def test_volcano_endpoints_under_its_own_domains_are_allowed(url: str) -> None:
    assert volcano(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "https://openspeech.bytedance.com.evil.com/api/v1/tts",  # suffix trick
        "https://bytedance.com.evil.com/api/v1/tts",
        "https://evilbytedance.com/api/v1/tts",  # not a subdomain, only ends alike
        "https://openspeech-bytedance.com/api/v1/tts",
        "https://xn--bytednce-5kg.com/api/v1/tts",  # an IDN lookalike in its ASCII form
        "https://10.0.0.8/api/v1/tts",  # an address nobody can vouch for
        "https://api.openai.com/v1",
        # Names that only look like this machine: the system resolver may ask DNS for them.
        "https://openspeech.bytedance.localhost/api/v1/tts",
        "https://api.localhost:9000/api/v1/tts",
        "https://localhost./api/v1/tts",
        "https://localhost.localdomain/api/v1/tts",
    ],
)
def test_lookalike_volcano_hosts_are_refused(url: str) -> None:
    with pytest.raises(EndpointError, match="is not a Volcano Engine server") as caught:
        volcano(url)
    assert "bytedance.com or volces.com or volcengine.com" in caught.value.message


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://openspeech.bytedance.com@evil.com/api/v1/tts", "user name or password"),
        ("https://evil.com@openspeech.bytedance.com/api/v1/tts", "user name or password"),
        ("https://openspeech.bytedаnce.com/api/v1/tts", "non-ASCII"),  # Cyrillic а
        ("http://openspeech.bytedance.com/api/v1/tts", "plain http"),
        ("http://openspeech.bytedance.localhost/api/v1/tts", "plain http"),
        ("https://openspeech.bytedance.com\\.evil.com/api/v1/tts", "not a valid host name"),
    ],
)
def test_other_tricks_are_refused_before_the_vendor_rule(url: str, reason: str) -> None:
    with pytest.raises(EndpointError, match=reason):
        volcano(url)


@pytest.fixture
async def client(tls: TlsFiles) -> Any:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    yield client
    await client.aclose()


def test_both_volcano_voices_refuse_a_lookalike_without_naming_the_token(client: Any) -> None:
    url = "https://openspeech.bytedance.com.evil.com"
    with pytest.raises(EndpointError) as v1:
        VolcanoTts(client, VolcanoTtsSettings(endpoint=f"{url}/api/v1/tts", appid="a"), "tok-123")
    with pytest.raises(EndpointError) as v3:
        settings = VolcanoV3TtsSettings(
            endpoint=f"{url}/api/v3/tts/unidirectional", appid="a", speaker="s"
        )
        VolcanoV3Tts(client, settings, "tok-123")
    for caught in (v1, v3):
        assert "tok-123" not in caught.value.message


def test_the_app_refuses_to_start_a_voice_with_a_lookalike_endpoint(
    tls: TlsFiles, tmp_path: Path
) -> None:
    settings = settings_for(
        "https://127.0.0.1:1", "volcano", "https://127.0.0.1:1", str(tls.ca_file)
    )
    settings.tts.volcano.endpoint = "https://openspeech.bytedance.com.evil.com/api/v1/tts"
    with pytest.raises(EndpointError, match="is not a Volcano Engine server"):
        build_services(settings, Secrets(volcano_token=VOLCANO_TOKEN), history_path=tmp_path / "h")


def test_plain_http_to_another_machine_is_refused_at_start(tls: TlsFiles, tmp_path: Path) -> None:
    settings = settings_for("https://127.0.0.1:1", "openai", "http://speech.example.com", "")
    settings.network.ca_file = None
    with pytest.raises(EndpointError, match="plain http to another machine"):
        build_services(settings, Secrets(openai_api_key="sk-x"), history_path=tmp_path / "h")


@pytest.mark.parametrize("endpoint", ["http://api.localhost:11434", "http://localhost.:11434"])
def test_a_name_that_only_looks_local_gets_no_key_over_plain_http(
    endpoint: str, tls: TlsFiles, tmp_path: Path
) -> None:
    # Only localhost itself, 127.0.0.0/8 and ::1 count as this computer: other names go through
    # the system resolver, which may ask the network, and the key would travel unencrypted.
    settings = settings_for(endpoint, "openai", "https://127.0.0.1:1", str(tls.ca_file))
    with pytest.raises(EndpointError, match="plain http to another machine") as caught:
        build_services(settings, Secrets(llm_api_key="sk-x"), history_path=tmp_path / "h")
    assert "localhost, 127.0.0.1 or [::1]" in caught.value.message


def test_tls_verification_is_always_on(tls: TlsFiles) -> None:
    client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
    context = client._transport._inner._pool._ssl_context  # type: ignore[attr-defined]
    assert context.check_hostname is True
    assert context.verify_mode.name == "CERT_REQUIRED"
    assert client.follow_redirects is False


# Whole turns against servers that redirect, or present a certificate we must not trust.


def counting_target() -> tuple[list[Request], Any]:
    """A server that must never be asked anything: it records what it is sent."""
    received: list[Request] = []

    async def handler(request: Request) -> Response:
        received.append(request)
        return Response.json({"error": {"message": "should not be here"}}, 500)

    return received, handler


def redirecting_to(target: str, status: int) -> Any:
    async def handler(request: Request) -> Response:
        if request.method != "POST":
            return Response(404)  # warm-ups
        return Response(status, {"location": f"{target}{request.path}"})

    return handler


@pytest.mark.audio
@pytest.mark.parametrize("status", [307, 308])
@pytest.mark.parametrize("voice", ["openai", "volcano", "volcano_v3"])
async def test_a_voice_that_redirects_gets_nothing_resent(
    virtual_sound_card: VirtualSoundCard,
    loopback: Any,
    tls: TlsFiles,
    tmp_path: Path,
    voice: str,
    status: int,
) -> None:
    received, target = counting_target()
    elsewhere = loopback(target)
    redirecting = loopback(redirecting_to(elsewhere.url, status))
    chat = loopback(ChatServer(REPLY).handler)
    assistant = Assistant.build(chat.url, voice, redirecting.url, tls, tmp_path / "history")
    try:
        outcome = await assistant.turn(within=15)
        assert (
            outcome.errors and f"redirected the request elsewhere ({status})" in (outcome.errors[0])
        ), outcome.errors
        assert received == [] and elsewhere.connections == 0  # the token went nowhere else
        assert outcome.shown == REPLY  # the reply was still shown, and kept
        messages = assistant.services.history.messages(  # type: ignore[union-attr]
            assistant.controller.history.conversation_id or 0
        )
        assert [m.text for m in messages] == ["Tell me something.", REPLY]
    finally:
        await assistant.aclose()


@pytest.mark.audio
@pytest.mark.parametrize("status", [307, 308])
async def test_a_chat_service_that_redirects_gets_nothing_resent(
    virtual_sound_card: VirtualSoundCard, loopback: Any, tls: TlsFiles, tmp_path: Path, status: int
) -> None:
    received, target = counting_target()
    elsewhere = loopback(target)
    redirecting = loopback(redirecting_to(elsewhere.url, status))
    speech = loopback(OpenAiSpeechServer(audio_for=short_audio).handler)
    assistant = Assistant.build(redirecting.url, "openai", speech.url, tls, tmp_path / "history")
    try:
        outcome = await assistant.turn(within=15)
        assert outcome.errors == [
            f"The chat service at 127.0.0.1:{redirecting.port} redirected the request elsewhere "
            f"({status}). Put the final address in the chat endpoint in Settings."
        ]
        assert received == [] and elsewhere.connections == 0
    finally:
        await assistant.aclose()


def certificate(ca: trustme.CA, name: str, folder: Path) -> TlsFiles:
    """Files for a server certificate for `name` from `ca` (`ca_file` is that CA)."""
    cert = ca.issue_cert(name)
    folder.mkdir(parents=True, exist_ok=True)
    files = TlsFiles(folder / "ca.pem", folder / "server.pem", folder / "server.key")
    ca.cert_pem.write_to_path(str(files.ca_file))
    for index, pem in enumerate(cert.cert_chain_pems):
        pem.write_to_path(str(files.cert_file), append=index > 0)
    cert.private_key_pem.write_to_path(str(files.key_file))
    return files


@pytest.mark.audio
@pytest.mark.parametrize("what", ["chat", "voice"])
@pytest.mark.parametrize("case", ["unknown CA", "another host's certificate"])
async def test_a_certificate_that_cannot_be_verified_is_refused(
    virtual_sound_card: VirtualSoundCard, tls: TlsFiles, tmp_path: Path, what: str, case: str
) -> None:
    if case == "unknown CA":  # a CA the client was never given
        trusted, impostor_files = tls, certificate(trustme.CA(), "127.0.0.1", tmp_path / "bad")
    else:  # the client trusts this CA, but the certificate names another host
        ca = trustme.CA()
        trusted = certificate(ca, "127.0.0.1", tmp_path / "good")
        impostor_files = certificate(ca, "speech.example.com", tmp_path / "bad")
    chat = ChatServer(REPLY).handler
    speech = OpenAiSpeechServer(audio_for=short_audio).handler
    with (
        LoopbackServer(chat if what == "chat" else speech, impostor_files) as impostor,
        LoopbackServer(speech if what == "chat" else chat, trusted) as good,
    ):
        chat_url, voice_url = (
            (impostor.url, good.url) if what == "chat" else (good.url, impostor.url)
        )
        assistant = Assistant.build(chat_url, "openai", voice_url, trusted, tmp_path / "h")
        try:
            outcome = await assistant.turn(within=15)
        finally:
            await assistant.aclose()
        assert outcome.errors, outcome.notices
        assert "could not be verified, so nothing was sent" in outcome.errors[0]
        assert "ca_file" in outcome.errors[0]
        assert impostor.requests == []  # not one request (or key) went over that connection
