"""The turn controller: press, speak, release, hear the answer. The one owner of the turn's state
and tasks; the GUI and the command line only call its intents and observe its events.

    press ─► LISTENING ─ release ─► TRANSCRIBING ─► THINKING ─► SPEAKING ─► READY
                 any error ─► ERROR (message says what to do; the next press starts over)
    press or stop while busy: barge-in (the running turn is cancelled, history keeps what was heard)
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Coroutine
from dataclasses import dataclass
from typing import Any

from assistant.core.conversation import Conversation
from assistant.core.errors import AssistantError
from assistant.core.events import (
    Event,
    InputLevel,
    LoadingProgress,
    Notice,
    ReplyDelta,
    SentenceStarted,
    Signal,
    StateChanged,
    TurnFinished,
    TurnState,
    UserSaid,
)
from assistant.core.history import HistoryRecorder, HistoryStore, StoredMessage
from assistant.core.protocols import (
    AudioInput,
    ChatModel,
    ConnectionCounter,
    LoadProgress,
    Recording,
    Transcriber,
    Unpluggable,
)
from assistant.core.reply_speaker import ReplySpeaker, pieces_of
from assistant.core.splitter import Piece, SentenceSplitter
from assistant.core.timeline import TurnTimeline, clock
from assistant.core.transcripts import MIN_SPEECH_SECONDS

log = logging.getLogger(__name__)

LOST_AUDIO = (
    "{lost} while recording (the computer was too busy to keep up), so some words may be "
    "missing. If it happens again, close programs you do not need."
)
NOTHING_HEARD = "I didn't catch that. Hold the Talk button while you speak, then let go."
TOO_SHORT = "That was very short. Hold the Talk button while you speak, then let go."
NO_BRAIN = (
    "No language model is set up, so I can only transcribe and read aloud. "
    "Start Ollama, or add a cloud endpoint and key in Settings."
)


def lost_blocks_text(count: int) -> str:
    """'3 blocks of audio were lost': input blocks PortAudio dropped because they came late."""
    return (
        f"{count} block of audio was lost" if count == 1 else f"{count} blocks of audio were lost"
    )


@dataclass
class TurnOptions:
    max_recording_seconds: float = 60.0
    min_recording_seconds: float = MIN_SPEECH_SECONDS


class TurnController:
    """Runs one turn at a time. Public methods return at once; the work runs in tasks it owns."""

    def __init__(
        self,
        *,
        microphone: AudioInput,
        transcriber: Transcriber,
        chat: ChatModel | None,
        speaker: ReplySpeaker,
        conversation: Conversation,
        connections: ConnectionCounter,
        options: TurnOptions | None = None,
        history: HistoryStore | None = None,
    ) -> None:
        self.microphone = microphone
        self.transcriber = transcriber
        self.chat = chat
        self.speaker = speaker
        self.conversation = conversation
        self.connections = connections
        self.options = options or TurnOptions()
        self.events: Signal[Event] = Signal()
        # Every message goes to the history store as it happens; a failing store only warns.
        self.history = HistoryRecorder(history, lambda error: self._emit(Notice(error.message)))
        self.state = TurnState.LOADING
        self.last_timeline: TurnTimeline | None = None
        self.load_error: AssistantError | None = None  # why the speech model is not ready
        # Counts conversations started or resumed: a reply cut off by one must not land in the
        # next one (it finishes unwinding after the new conversation has been filled).
        self._conversation_number = 0
        # Dictation: what was said lands in the conversation view (and the clipboard, in the
        # GUI) without going to the model. Works with no network and no account.
        self.dictation = False
        self._turn: asyncio.Task[None] | None = None
        self._released = asyncio.Event()
        self._background: set[asyncio.Task[None]] = set()
        self._unwinding: set[asyncio.Task[None]] = set()  # cancelled turns, still cleaning up
        self._loaded: asyncio.Task[None] | None = None
        self._loading = False  # from start() until the model is loaded or has failed to
        self._detail = ""  # of the state now

    @property
    def getting_ready(self) -> bool:
        """Whether the speech model is still loading (or not started yet): Talk waits for it, a
        typed message does not. Ready, and the load's own Error, are said once it is over."""
        return self._loading or self._loaded is None

    # ---- intents -------------------------------------------------------------------------

    def start(self) -> None:
        """Load the speech model in the background; the state says Getting ready until then."""
        self._loading = True
        self._set_state(TurnState.LOADING, "Loading the speech model…")
        self._loaded = self._spawn(self._load())

    def press(self) -> None:
        """Talk button down: start listening (interrupting whatever the assistant was doing)."""
        if self.state is TurnState.LISTENING:
            return
        self._cancel_turn()
        self._released = asyncio.Event()
        self._turn = asyncio.create_task(self._voice_turn(self._released))
        self._spawn(self.speaker.synthesizer.warm_up())  # pay the TLS handshake while they speak

    def release(self) -> None:
        """Talk button up: what was said goes to the model."""
        self._released.set()

    def stop(self) -> None:
        """Stop button: silence now, and back to Ready."""
        if self._cancel_turn():
            self._idle()

    def send_text(self, text: str) -> None:
        """A typed message: answered and spoken like a spoken one."""
        if text.strip():
            self._start_turn(self._text_turn(text.strip()))

    def read_aloud(self, text: str) -> None:
        """Speak `text` as it is, without the model and without touching the conversation."""
        if text.strip():
            self._start_turn(self._read_aloud(text))

    def new_conversation(self) -> None:
        self._cancel_turn()
        self._conversation_number += 1
        self.conversation.clear()
        self.history.new_conversation()
        self._idle()

    def resume_conversation(self, conversation_id: int | None = None) -> list[StoredMessage]:
        """Go on with a stored conversation (None: the latest): the model is sent its messages
        again, and they are returned for the window to show. Empty if there is none."""
        if self._cancel_turn():
            self._idle()
        self._conversation_number += 1
        return self.history.resume(conversation_id, self.conversation)

    async def wait(self) -> None:
        """Wait until the current turn (if any) has ended."""
        if self._turn is not None:
            await asyncio.gather(self._turn, return_exceptions=True)

    async def wait_ready(self) -> None:
        """Wait until the speech model has loaded (or failed to)."""
        if self._loaded is not None:
            await asyncio.gather(self._loaded, return_exceptions=True)

    async def aclose(self) -> None:
        self._cancel_turn()
        await self.wait()
        await asyncio.gather(*self._unwinding, return_exceptions=True)
        for task in list(self._background):
            task.cancel()
        await asyncio.gather(*self._background, return_exceptions=True)

    # ---- the turns -------------------------------------------------------------------------

    async def _load(self) -> None:
        def progress(update: LoadProgress) -> None:
            self._emit(LoadingProgress(update.text, update.fraction))

        self.load_error = None
        try:
            await self.transcriber.load(progress)
        except AssistantError as error:
            self.load_error = error
            self._loading = False
            if self._busy():  # a typed message is being answered: say it, without cutting in
                self._emit(Notice(error.message, is_error=True))
                self._set_state(self.state, self._detail)  # the same state, but Talk works
            else:
                self._fail(error)
        else:
            self._loading = False
            if self._busy():  # the turn's own end says Ready; meanwhile Talk works
                self._set_state(self.state, self._detail)
            else:
                self._set_state(TurnState.READY)

    async def _voice_turn(self, released: asyncio.Event) -> None:
        timeline = TurnTimeline(input_start=clock())
        opened_before = self.connections.opened
        self._set_state(TurnState.LISTENING)
        try:
            try:
                recording = await self._record(released)
            finally:
                timeline.input_end = clock()
            timeline.input_overflows = recording.overflows
            if recording.duration < self.options.min_recording_seconds:
                self._end_early(timeline, opened_before, TOO_SHORT)
                return
            self._set_state(TurnState.TRANSCRIBING)
            await self.wait_ready()
            transcript = await self.transcriber.transcribe(recording)
            timeline.transcript_ready = clock()
            if not transcript.text:
                self._end_early(timeline, opened_before, NOTHING_HEARD)
                return
            if self.dictation:
                self._emit(UserSaid(transcript.text))
                self._finish(timeline, transcript.text, "", opened_before, interrupted=False)
                return
            await self._answer(transcript.text, timeline, opened_before)
        except AssistantError as error:
            self._report_once(timeline, opened_before)
            self._fail(error)
        except Exception as error:  # a bug: keep the app alive, keep the details in the log
            self._report_once(timeline, opened_before)
            self._fail_unexpectedly(error)
        finally:
            if timeline.input_overflows:
                self._emit(
                    Notice(LOST_AUDIO.format(lost=lost_blocks_text(timeline.input_overflows)))
                )

    async def _record(self, released: asyncio.Event) -> Recording:
        """What the microphone heard until Talk was let go, the longest allowed was reached, or
        the microphone was lost (then stop() raises DeviceError and nothing of it is used)."""
        await self.microphone.start(on_level=lambda level: self._emit(InputLevel(level)))
        try:
            if isinstance(self.microphone, Unpluggable):
                self.microphone.when_lost(released.set)  # end the recording now, not at release
            await asyncio.wait_for(released.wait(), self.options.max_recording_seconds)
        except TimeoutError:
            seconds = round(self.options.max_recording_seconds)
            self._emit(Notice(f"Recording stopped after {seconds} s, the longest allowed."))
        finally:
            recording = await self.microphone.stop()
        return recording

    async def _text_turn(self, text: str) -> None:
        timeline = TurnTimeline(input_start=clock())
        timeline.input_end = timeline.transcript_ready = timeline.input_start
        try:
            await self._answer(text, timeline, self.connections.opened)
        except AssistantError as error:
            self._fail(error)
        except Exception as error:
            self._fail_unexpectedly(error)

    async def _read_aloud(self, text: str) -> None:
        timeline = TurnTimeline(input_start=clock())
        timeline.input_end = timeline.input_start
        opened_before = self.connections.opened
        splitter = SentenceSplitter(max_bytes=self.speaker.synthesizer.max_text_bytes)
        pieces = [*splitter.feed(text), *splitter.flush()]
        self._set_state(TurnState.THINKING, "Preparing the voice…")
        try:
            await self._speak(pieces_of(pieces), timeline)
            self._finish(timeline, "", text, opened_before, interrupted=False)
        except asyncio.CancelledError:
            self._finish(timeline, "", self._heard(pieces), opened_before, interrupted=True)
            raise
        except AssistantError as error:
            self._fail(error)
        except Exception as error:
            self._fail_unexpectedly(error)

    async def _answer(self, user_text: str, timeline: TurnTimeline, opened_before: int) -> None:
        """The model's reply to `user_text`, spoken as it is written."""
        self._emit(UserSaid(user_text))
        if self.chat is None:
            self._emit(Notice(NO_BRAIN))
            self._finish(timeline, user_text, "", opened_before, interrupted=False)
            return
        chat = self.chat
        number = self._conversation_number
        self.conversation.add_user(user_text)
        self.history.user(user_text)
        record = self.history.reply()
        self._set_state(TurnState.THINKING)
        written: list[str] = []
        pieces: list[Piece] = []
        splitter = SentenceSplitter(max_bytes=self.speaker.synthesizer.max_text_bytes)

        async def reply_pieces() -> AsyncIterator[Piece]:
            async for delta in chat.stream(self.conversation.messages()):
                if timeline.first_token is None:
                    timeline.first_token = clock()
                written.append(delta)
                record.add(delta)  # stored before it is shown: a crash cannot lose what was seen
                self._emit(ReplyDelta(delta))
                for piece in splitter.feed(delta):
                    pieces.append(piece)
                    yield piece
            for piece in splitter.flush():
                pieces.append(piece)
                yield piece

        try:
            await self._speak(reply_pieces(), timeline)
        except BaseException:
            heard = self._heard(pieces)
            if number == self._conversation_number:
                self.conversation.add_assistant(heard, interrupted=True)
            record.interrupt(heard)
            self._finish(timeline, user_text, heard, opened_before, interrupted=True)
            raise
        reply = "".join(written)
        self.conversation.add_assistant(reply)
        record.finish()
        self._finish(timeline, user_text, reply, opened_before, interrupted=False)

    async def _speak(self, pieces: AsyncIterator[Piece], timeline: TurnTimeline) -> None:
        def started(index: int) -> None:
            if self.state is not TurnState.SPEAKING:
                self._set_state(TurnState.SPEAKING)
            self._emit(SentenceStarted(index, timeline.sentences[index].text))

        await self.speaker.speak(pieces, timeline, started)

    # ---- helpers ---------------------------------------------------------------------------

    def _heard(self, pieces: list[Piece]) -> str:
        """The reply as far as the listener heard it: every sentence that started playing."""
        heard = set(self.speaker.heard)
        return "".join(p.text for i, p in enumerate(pieces) if i in heard).strip()

    def _finish(
        self,
        timeline: TurnTimeline,
        user_text: str,
        reply: str,
        opened_before: int,
        *,
        interrupted: bool,
    ) -> None:
        self._report(timeline, user_text, reply, opened_before, interrupted=interrupted)
        if not interrupted:
            self._idle()

    def _report(
        self,
        timeline: TurnTimeline,
        user_text: str,
        reply: str,
        opened_before: int,
        *,
        interrupted: bool,
    ) -> None:
        """TurnFinished: the turn is over, and how long each of its steps took."""
        timeline.finished = clock()
        timeline.interrupted = interrupted
        timeline.connections_opened = self.connections.opened - opened_before
        self.last_timeline = timeline
        self._emit(TurnFinished(timeline, user_text, reply, interrupted))

    def _report_once(self, timeline: TurnTimeline, opened_before: int) -> None:
        """A turn that failed before its reply was recorded still shows its timings."""
        if timeline.finished is None:
            self._report(timeline, "", "", opened_before, interrupted=False)

    def _end_early(self, timeline: TurnTimeline, opened_before: int, hint: str) -> None:
        """Too short, or nothing heard: a hint, the timings so far, and Ready again."""
        self._emit(Notice(hint))
        self._finish(timeline, "", "", opened_before, interrupted=False)

    def _start_turn(self, work: Coroutine[Any, Any, None]) -> None:
        self._cancel_turn()
        self._turn = asyncio.create_task(work)

    def _cancel_turn(self) -> bool:
        """Barge-in: cancel the running turn, if any. True if one was running."""
        turn, self._turn = self._turn, None
        if turn is None or turn.done():
            return False
        turn.cancel()
        # Still ours until it has unwound (it records what was heard): aclose() waits for it.
        self._unwinding.add(turn)
        turn.add_done_callback(self._unwinding.discard)
        return True

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    def _fail(self, error: AssistantError) -> None:
        log.warning("turn failed: %s", error.message)
        self._emit(Notice(error.message, is_error=True))
        self._set_state(TurnState.ERROR, error.message)

    def _fail_unexpectedly(self, error: Exception) -> None:
        log.exception("unexpected error in a turn")
        self._fail(
            AssistantError(
                f"Something unexpected went wrong ({type(error).__name__}). Try again; if it "
                "keeps happening, the log file has the details for a bug report."
            )
        )

    def _busy(self) -> bool:
        return self._turn is not None and not self._turn.done()

    def _idle(self) -> None:
        """Waiting for the user again: Ready, or still Getting ready if the model is loading."""
        if self._loading:
            self._set_state(TurnState.LOADING, "Loading the speech model…")
        else:
            self._set_state(TurnState.READY)

    def _set_state(self, state: TurnState, detail: str = "") -> None:
        self.state, self._detail = state, detail
        self._emit(StateChanged(state, detail))

    def _emit(self, event: Event) -> None:
        self.events.emit(event)
