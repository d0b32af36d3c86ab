"""The server-sent-events parser: the wire quirks real chat servers show, the size caps, and the
promise that however the network cuts the byte stream, the same events come out."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from assistant.core.errors import ServiceError
from assistant.providers.llm.sse import MAX_LINE_BYTES, SseEvent, SseParser


def parse(*chunks: bytes) -> list[SseEvent]:
    parser = SseParser()
    events = [event for chunk in chunks for event in parser.feed(chunk)]
    return events + parser.finish()


def test_data_lines_are_joined_and_the_other_fields_kept() -> None:
    stream = b"event: delta\nid: 7\ndata: first\ndata: second\n\n"
    assert parse(stream) == [SseEvent("first\nsecond", "delta", "7")]


def test_openai_chunks_come_out_one_event_each() -> None:
    stream = b'data: {"a": 1}\n\ndata: {"a": 2}\n\ndata: [DONE]\n\n'
    assert [event.data for event in parse(stream)] == ['{"a": 1}', '{"a": 2}', "[DONE]"]


def test_comments_are_keep_alives_and_dispatch_nothing() -> None:
    assert parse(b": ping\n\n: keep-alive\ndata: x\n\n") == [SseEvent("x")]


@pytest.mark.parametrize("line_end", [b"\n", b"\r\n", b"\r"], ids=["LF", "CRLF", "CR"])
def test_every_line_ending(line_end: bytes) -> None:
    stream = b"data: a" + line_end + b"data: b" + line_end + line_end + b"data: c" + line_end * 2
    assert parse(stream) == [SseEvent("a\nb"), SseEvent("c")]


def test_a_crlf_cut_between_two_chunks_is_one_line_end() -> None:
    # Read as two line ends, the LF would make a blank line and split the event in two.
    assert parse(b"data: a\r", b"\ndata: b\r\n\r\n") == [SseEvent("a\nb")]


def test_a_character_cut_between_chunks_arrives_whole() -> None:
    stream = "data: Grüße, 你好 👋🏽\n\n".encode()
    assert parse(*(stream[i : i + 1] for i in range(len(stream)))) == [SseEvent("Grüße, 你好 👋🏽")]


def test_field_spelling_variants() -> None:
    # No space after the colon, a field name alone, an unknown field, and an extra space kept.
    assert parse(b"data:x\ndata\nfoo: bar\ndata:  y\n\n") == [SseEvent("x\n\n y")]


def test_an_event_without_data_is_not_dispatched_and_its_type_is_forgotten() -> None:
    assert parse(b"event: ping\n\ndata: x\n\n") == [SseEvent("x", "message")]


def test_the_last_event_id_carries_over() -> None:
    assert parse(b"id: 1\ndata: a\n\ndata: b\n\n") == [SseEvent("a", id="1"), SseEvent("b", id="1")]


def test_a_byte_order_mark_at_the_start_is_skipped() -> None:
    assert parse(b"\xef\xbb", b"\xbfdata: x\n\n") == [SseEvent("x")]


def test_a_last_event_without_its_blank_line_still_counts_when_the_stream_ends() -> None:
    parser = SseParser()
    assert parser.feed(b"data: [DONE]") == []
    assert parser.finish() == [SseEvent("[DONE]")]


def test_the_retry_hint_is_kept() -> None:
    parser = SseParser()
    parser.feed(b"retry: 2500\n\n")
    assert parser.retry_ms == 2500


def test_an_endless_line_is_refused_before_it_fills_memory() -> None:
    parser = SseParser()
    chunk = b"x" * 65_536
    fed = 0
    with pytest.raises(ServiceError, match="line longer than 1,048,576 bytes"):
        parser.feed(b"data: ")
        while fed <= 2 * MAX_LINE_BYTES:
            parser.feed(chunk)
            fed += len(chunk)
    assert fed <= MAX_LINE_BYTES


def test_an_overlong_line_is_refused_even_in_one_piece() -> None:
    with pytest.raises(ServiceError, match="line longer than 100 bytes"):
        SseParser(max_line_bytes=100).feed(b"data: " + b"x" * 100 + b"\n\n")


def test_an_endless_event_is_refused() -> None:
    parser = SseParser(max_event_chars=1000)
    with pytest.raises(ServiceError, match="event larger than 1,000 characters"):
        for _ in range(200):
            parser.feed(b"data: 0123456789\n")


# Any cut of the byte stream gives the same events.


def _line_text(max_size: int, also_excluded: str = "") -> st.SearchStrategy[str]:
    """Text that fits on one line (any character UTF-8 can carry, but no line end)."""
    return st.text(
        st.characters(codec="utf-8", exclude_characters="\r\n" + also_excluded), max_size=max_size
    )


_event = st.tuples(
    st.lists(_line_text(12), max_size=3),  # data lines
    st.one_of(st.none(), _line_text(6)),  # event type
    st.one_of(st.none(), _line_text(4, also_excluded="\0")),  # id (a NUL voids an id)
    st.one_of(st.none(), _line_text(12)),  # a comment
)


@given(
    events=st.lists(_event, max_size=6),
    line_end=st.sampled_from(["\n", "\r\n", "\r"]),
    cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=30),
)
def test_any_chunking_gives_the_same_events(
    events: list[tuple[list[str], str | None, str | None, str | None]],
    line_end: str,
    cuts: list[int],
) -> None:
    lines: list[str] = []
    expected: list[SseEvent] = []
    last_id = ""
    for data, event_type, event_id, comment in events:
        if comment is not None:
            lines.append(f":{comment}")
        if event_type is not None:
            lines.append(f"event: {event_type}")
        if event_id is not None:
            lines.append(f"id: {event_id}")
            last_id = event_id
        lines.extend(f"data: {line}" for line in data)
        lines.append("")
        if data:
            expected.append(SseEvent("\n".join(data), event_type or "message", last_id))
    stream = "".join(line + line_end for line in lines).encode()
    bounds = sorted({0, len(stream), *(cut for cut in cuts if cut < len(stream))})
    chunks = [stream[start:end] for start, end in zip(bounds, bounds[1:], strict=False)]
    assert parse(*chunks) == parse(stream) == expected
