"""Each turn's timeline says how the turn began, so its timings can be told in the right words
(the window's timings panel says "after you let go" only after push-to-talk)."""

from __future__ import annotations

import pytest

from assistant.core.events import TurnState
from assistant.core.protocols import Recording
from assistant.core.timeline import TurnKind, TurnTimeline, clock
from tests.core.test_turn import Rig, finishes


@pytest.fixture
async def ready_rig() -> Rig:
    rig = Rig()
    rig.controller.start()
    await rig.controller.wait_ready()
    return rig


def last_kind(rig: Rig) -> TurnKind:
    return finishes(rig)[-1].timeline.kind


async def test_a_turn_begun_with_talk_is_push_to_talk(ready_rig: Rig) -> None:
    await ready_rig.voice_turn()
    assert last_kind(ready_rig) is TurnKind.PUSH_TO_TALK


async def test_an_utterance_heard_without_a_button_is_hands_free(ready_rig: Rig) -> None:
    onset = clock()
    ready_rig.controller.hear_start(onset)
    utterance = Recording(b"\x10\x00" * 16_000, 16_000)
    ready_rig.controller.hear(utterance, onset, clock())
    await ready_rig.controller.wait()
    assert last_kind(ready_rig) is TurnKind.HANDS_FREE


async def test_a_typed_message_and_a_text_read_aloud_say_so(ready_rig: Rig) -> None:
    ready_rig.controller.send_text("What is the weather like?")
    await ready_rig.controller.wait()
    assert last_kind(ready_rig) is TurnKind.TYPED
    ready_rig.controller.read_aloud("A short text. Read it.")
    await ready_rig.controller.wait()
    assert last_kind(ready_rig) is TurnKind.READ_ALOUD
    assert ready_rig.controller.state is TurnState.READY


def test_the_kind_is_in_the_json_form() -> None:
    timeline = TurnTimeline(input_start=1.0, input_end=2.0, kind=TurnKind.TYPED)
    assert timeline.to_dict()["kind"] == "typed"
    assert TurnTimeline().kind is TurnKind.PUSH_TO_TALK  # what a timeline made elsewhere means
