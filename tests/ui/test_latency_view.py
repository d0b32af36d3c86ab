"""The timings waterfall: what each row and the summary say about a turn."""

from __future__ import annotations

from typing import Any

import pytest

from assistant.core.timeline import TurnKind, TurnTimeline
from assistant.ui.latency_view import (
    EMPTY_TEXT,
    LatencyView,
    Stage,
    rows_of,
    summary_of,
    title_of,
)

pytestmark = pytest.mark.gui


def spoken_turn(sentences: int = 3) -> TurnTimeline:
    """Released at 100.0 s; transcript at +0.3, first token at +0.5; 1 s sentences."""
    timeline = TurnTimeline(input_start=98.0, input_end=100.0)
    timeline.transcript_ready = 100.3
    timeline.first_token = 100.5
    for index in range(sentences):
        sentence = timeline.add_sentence(f"Sentence {index}.")
        sentence.request_sent = 100.6 + index * 0.1
        sentence.first_byte = sentence.request_sent + 0.2
        sentence.first_sample = 100.9 + index * 1.01
        sentence.last_sample = sentence.first_sample + 1.0
    timeline.finished = 104.0
    timeline.connections_opened = 2
    return timeline


def test_a_spoken_turn_shows_transcription_the_model_and_each_sentence() -> None:
    rows = rows_of(spoken_turn())
    assert [row.label for row in rows] == [
        "Transcription",
        "Model's first word",
        "Sentence 1",
        "Sentence 2",
        "Sentence 3",
    ]
    assert rows[0].note == "300 ms" and rows[0].spans[0].stage is Stage.TRANSCRIBING
    assert rows[1].note == "200 ms"
    first = rows[2]
    assert [span.stage for span in first.spans] == [Stage.VOICING, Stage.PLAYING]
    assert first.spans[1].start == pytest.approx(0.9)
    assert first.note == "heard at 900 ms"
    assert rows[3].note == "gap 10 ms"
    assert summary_of(spoken_turn()) == (
        "First audio 900 ms after you let go; transcribed in 300 ms; first word from the model "
        "at 500 ms; longest gap between sentences 10 ms; 2 new connections."
    )


def test_a_typed_message_has_no_transcription_row() -> None:
    timeline = spoken_turn(1)
    timeline.transcript_ready = timeline.input_end
    assert [row.label for row in rows_of(timeline)] == ["Model's first word", "Sentence 1"]
    assert "transcribed" not in summary_of(timeline)


def test_long_replies_show_the_first_sentences_and_a_count() -> None:
    rows = rows_of(spoken_turn(9))
    assert rows[-1].label == "… and 3 more" and rows[-1].spans == ()
    assert len(rows) == 2 + 6 + 1


def test_an_interrupted_turn_says_so() -> None:
    timeline = spoken_turn(2)
    timeline.interrupted = True
    assert summary_of(timeline).endswith("; interrupted.")


def test_the_widget_grows_with_the_rows_and_paints(qtbot: Any) -> None:
    view = LatencyView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    assert view.summary() == EMPTY_TEXT
    empty = view.heightForWidth(500)
    view.show_timeline(spoken_turn())
    assert view.heightForWidth(500) > empty + 5 * view.fontMetrics().height()
    assert view.accessibleDescription() == f"{view.title()}: {view.summary()}"
    picture = view.grab().toImage()
    colours = {picture.pixel(x, y) for x in range(0, 500, 5) for y in range(0, 200, 5)}
    assert len(colours) > 4  # bars in several colours, not a blank box
    view.clear()
    assert view.rows == [] and view.summary() == EMPTY_TEXT and view.title() == ""


def test_audio_the_microphone_lost_is_told() -> None:
    timeline = spoken_turn(1)
    timeline.input_overflows = 3
    assert summary_of(timeline).endswith("; 3 blocks of audio were lost.")
    timeline.input_overflows = 1
    assert summary_of(timeline).endswith("; 1 block of audio was lost.")


def test_pauses_in_the_voice_say_whose_fault_they_were() -> None:
    timeline = spoken_turn()
    timeline.sentences[1].underruns = 1
    assert summary_of(timeline).endswith("; the voice stopped once to wait for its audio.")
    timeline.sentences[0].dropouts = 2
    assert summary_of(timeline).endswith(
        "; the voice stopped once to wait for its audio; "
        "the sound dropped out 2 times: the computer was too busy."
    )


def test_a_turn_that_ended_at_release_says_nothing_was_timed_but_lost_audio() -> None:
    timeline = TurnTimeline(input_start=98.0, input_end=98.1)  # too short, say
    timeline.finished = 98.1
    assert rows_of(timeline) == []
    assert summary_of(timeline) == "Nothing was timed in this turn."
    timeline.input_overflows = 2
    assert summary_of(timeline) == "2 blocks of audio were lost."


@pytest.mark.parametrize(
    ("kind", "title", "since"),
    [
        (TurnKind.PUSH_TO_TALK, "Your last question (push to talk)", "after you let go"),
        (TurnKind.HANDS_FREE, "Your last question (hands-free)", "after you stopped speaking"),
        (TurnKind.TYPED, "Your last typed message", "after you sent it"),
        (TurnKind.READ_ALOUD, "The text read aloud", "after you pressed Read aloud"),
    ],
)
def test_the_panel_names_the_turn_and_times_it_in_the_words_of_its_kind(
    kind: TurnKind, title: str, since: str
) -> None:
    timeline = spoken_turn(1)
    timeline.kind = kind
    assert title_of(timeline) == title
    assert summary_of(timeline).startswith(f"First audio 900 ms {since};")
    others = {"after you let go", "after you stopped speaking", "after you sent it"} - {since}
    assert not any(other in summary_of(timeline) for other in others)


def test_a_spoken_turn_with_no_reply_is_what_you_said() -> None:
    dictated = TurnTimeline(input_start=98.0, input_end=100.0, kind=TurnKind.HANDS_FREE)
    dictated.transcript_ready = 100.3
    assert title_of(dictated) == "What you last said"
    assert summary_of(dictated) == "Transcribed in 300 ms."


def test_the_heading_is_painted_above_the_summary(qtbot: Any) -> None:
    view = LatencyView()
    qtbot.addWidget(view)
    view.resize(500, 300)
    typed = spoken_turn(1)
    typed.kind = TurnKind.TYPED
    view.show_timeline(typed)
    assert view.title() == "Your last typed message"
    assert view.toolTip().startswith("Your last typed message: First audio 900 ms after you sent")
    heading = view.fontMetrics().height()
    picture = view.grab().toImage()
    background = picture.pixel(499, 1)
    inked = [x for x in range(0, 300) if picture.pixel(x, heading // 2 + 1) != background]
    assert inked, "the heading line is painted"
