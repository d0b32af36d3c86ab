"""The reply, measured: how soon after the model's first token the first speakable piece is out,
how long that piece is, and how fast the sentence splitter runs next to the model it follows.

A loopback HTTPS chat server streams typical replies, English and Chinese, at a typical pace;
the app's own chat client reads them over the app-wide HTTP client and the real splitter cuts
them, exactly as in a turn.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.config import NetworkSettings
from assistant.core.protocols import Message
from assistant.core.splitter import SentenceSplitter
from assistant.core.timeline import clock
from assistant.providers.http import make_http_client
from assistant.providers.llm.openai_chat import OpenAiChat
from tests.support.chat_server import ChatServer
from tests.support.loopback import LoopbackServer, TlsFiles

TITLE = "The reply: first piece and splitter speed"

CHARS_PER_DELTA = 4
SECONDS_BETWEEN_DELTAS = 0.02  # 200 characters a second: a typical hosted model's pace
REPEATS = 5
THROUGHPUT_SECONDS = 1.0  # at least this long feeding the splitter per language
MAX_BYTES = 1024  # Volcano's limit per request, the strictest of the voices

REPLIES = {
    "en: weather": "It's 18 degrees and sunny in Paris right now. Later this afternoon, clouds "
    "will roll in, with a chance of light rain around 6 p.m. Take an umbrella if you go out.",
    "en: fact": "The capital of Australia is Canberra, not Sydney as many people think. It was "
    "chosen in 1908 as a compromise between Sydney and Melbourne.",
    "en: short answer": "Yes. Dr. Smith's office opens at 9:30 a.m. on weekdays.",
    "en: how-to": "Sure! To boil an egg, bring a pot of water to the boil, lower the egg in "
    "gently and cook it for about nine minutes. Then cool it in cold water before peeling.",
    "zh: weather": "好的，今天北京天气晴朗，最高气温二十五度。傍晚可能会有小雨，出门记得带伞。",
    "zh: how-to": "当然可以。煮鸡蛋的方法很简单：先把水烧开，再放入鸡蛋煮九分钟，然后用冷水冷却。",
    "zh: fact": "北京是中国的首都，有三千多年的历史，也是全国的政治和文化中心。"
    "每年都有很多游客来这里参观。",
}
SENTENCE_ENDS = ".!?。！？"


@dataclass
class FirstPiece:
    token_to_piece: float  # first delta received -> first piece out of the splitter
    chars: int  # characters in the first piece
    text: str
    mark_arrived: float  # first delta -> the first sentence mark had arrived


async def first_piece(chat: OpenAiChat) -> FirstPiece:
    splitter = SentenceSplitter(max_bytes=MAX_BYTES)
    written = ""
    first_token: float | None = None
    sentence_done: float | None = None
    piece = None
    async for delta in chat.stream([Message("user", "Tell me something.")]):
        now = clock()
        first_token = first_token if first_token is not None else now
        written += delta
        if sentence_done is None and any(mark in written for mark in SENTENCE_ENDS):
            sentence_done = now
        pieces = splitter.feed(delta)
        if piece is None and pieces:
            piece = (pieces[0], clock())
    if piece is None:
        tail = splitter.flush()
        piece = (tail[0], clock())
    assert first_token is not None
    first, at = piece
    return FirstPiece(
        token_to_piece=at - first_token,
        chars=len(first.text.strip()),
        text=first.text.strip(),
        mark_arrived=(sentence_done or at) - first_token,
    )


async def first_pieces() -> dict[str, list[FirstPiece]]:
    results: dict[str, list[FirstPiece]] = {name: [] for name in REPLIES}
    with tempfile.TemporaryDirectory(prefix="bench-reply-") as folder:
        tls = TlsFiles.create(Path(folder))
        server_of = {
            name: ChatServer(text, token_chars=CHARS_PER_DELTA, delay_each=SECONDS_BETWEEN_DELTAS)
            for name, text in REPLIES.items()
        }
        for name, chat_server in server_of.items():
            with LoopbackServer(chat_server.handler, tls) as server:
                client, _ = make_http_client(NetworkSettings(ca_file=str(tls.ca_file)))
                try:
                    chat = OpenAiChat(client, f"{server.url}/v1", "test-model", None)
                    for _ in range(REPEATS):
                        results[name].append(await first_piece(chat))
                finally:
                    await client.aclose()
    return results


def throughput(text: str) -> float:
    """Characters a second the splitter takes, fed CHARS_PER_DELTA characters at a time."""
    deltas = [text[i : i + CHARS_PER_DELTA] for i in range(0, len(text), CHARS_PER_DELTA)]
    fed = 0
    started = time.perf_counter()
    while time.perf_counter() - started < THROUGHPUT_SECONDS:
        splitter = SentenceSplitter(max_bytes=MAX_BYTES)
        for delta in deltas:
            splitter.feed(delta)
        splitter.flush()
        fed += len(text)
    return fed / (time.perf_counter() - started)


def long_reply(language: str) -> str:
    """About 2,000 characters of typical replies in one language, as one long answer."""
    texts = [text for name, text in REPLIES.items() if name.startswith(language)]
    joiner = " " if language == "en" else ""
    reply = joiner.join(texts)
    return joiner.join([reply] * (2000 // len(reply) + 1))


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def table(results: dict[str, list[FirstPiece]]) -> str:
    rows = [
        "| reply | first token → first piece (ms) | chars in first piece | first piece "
        "| first sentence mark arrived (ms) |",
        "|---|---|---|---|---|",
    ]
    for name, runs in results.items():
        rows.append(
            f"| {name} | {ms(statistics.median([r.token_to_piece for r in runs]))} "
            f"| {runs[0].chars} | {runs[0].text} "
            f"| {ms(statistics.median([r.mark_arrived for r in runs]))} |"
        )
    return "\n".join(rows)


def run() -> str:
    results = asyncio.run(first_pieces())
    llm_rate = CHARS_PER_DELTA / SECONDS_BETWEEN_DELTAS
    speeds = {language: throughput(long_reply(language)) for language in ("en", "zh")}
    lines = [
        f"A loopback HTTPS chat server streams each reply {CHARS_PER_DELTA} characters per "
        f"delta, {ms(SECONDS_BETWEEN_DELTAS)} ms apart ({llm_rate:.0f} chars/s); the app's chat "
        "client reads it over the app-wide HTTP client and the real SentenceSplitter cuts it. "
        f"Medians of {REPEATS} runs. The first piece may end at a clause once it has 20 "
        "characters; later pieces are whole sentences. After `.?!` the next character confirms "
        "the end (one more delta); after `。！？` the piece is out at once.",
        "",
        table(results),
        "",
        "| splitter, fed 4 characters at a time | chars/s | times a "
        f"{llm_rate:.0f} chars/s model | share of one core at that pace |",
        "|---|---|---|---|",
    ]
    for language, speed in speeds.items():
        lines.append(
            f"| {language} | {speed:,.0f} | {speed / llm_rate:,.0f}x "
            f"| {llm_rate / speed * 100:.2f}% |"
        )
    return "\n".join(lines)
