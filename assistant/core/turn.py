"""The turn controller: press, speak, release, hear the answer. The one owner of the turn's state
and tasks; the GUI and the command line only call its intents and observe its events.

The reply's own work lives beside it: `WrittenReply` (written_reply.py) turns the model's text
into paced pieces, `ReplySpeaker` splits and speaks them, `HeardQuestion` carries a question the
user goes on with; this file keeps the states and what each intent does in each of them.

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
from assistant.core.heard_question import HeardQuestion
from assistant.core.history import HistoryRecorder, HistoryStore, StoredMessage
from assistant.core.live_words import LiveWords
from assistant.core.own_words import is_its_own_words
from assistant.core.protocols import (
    AudioInput,
    ChatModel,
    ConnectionCounter,
    LiveTranscribing,
    LoadProgress,
    Recording,
    RecordingSoFar,
    Transcriber,
    Transcript,
    Unpluggable,
)
from assistant.core.reply_feed import ReplyFeed
from assistant.core.reply_speaker import ReplySpeaker, pieces_of
from assistant.core.splitter import Piece
from assistant.core.timeline import TurnKind, TurnTimeline, clock
from assistant.core.transcripts import MIN_SPEECH_SECONDS
from assistant.core.written_reply import SLOW_REPLY, ReplyPacing, WrittenReply

log = logging.getLogger(__name__)

LOST_AUDIO = (
    "{lost} while recording (the computer was too busy to keep up), so some words may be "
    "missing. If it happens again, close programs you do not need."
)
NOTHING_HEARD = "I didn't catch that. Hold the Talk button while you speak, then let go."
TOO_SHORT = "That was very short. Hold the Talk button while you speak, then let go."
HEARING = "Listening… I answer when you pause."
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
    # A sentence that ends the text so far is spoken after this long without new text, rather
    # than held until the next character (which a stalled model may not send for a while).
    sentence_quiet_seconds: float = 0.3
    # Nothing new to say for this long: the state's detail says the model is slow.
    slow_reply_seconds: float = 5.0
    # A reply is cut off once it would take this long to say (an hour-long reply could only be
    # stopped by hand, and a model that loops would otherwise talk until its service stops it).
    max_reply_seconds: float = 600.0

    def pacing(self) -> ReplyPacing:
        return ReplyPacing(
            self.sentence_quiet_seconds, self.slow_reply_seconds, self.max_reply_seconds
        )


@dataclass
class _HeldReply:
    """A reply held silent by speech heard over it, until that speech's words are known: its
    own echo, leaking past the canceller, lets it go on; the user's words cut it off."""

    timeline: TurnTimeline
    onset: float  # when the speech over it began
    held_at: float  # when it was told to fall silent
    question: HeardQuestion | None = None  # that speech, once it ended: being transcribed

    def sounding(self) -> str:
        """What the reply was saying when it was held: the sentence sounding, the one before
        (its echo comes back a little later) and the next (its start may not be reported yet)."""
        sentences = self.timeline.sentences
        begun = [s.index for s in sentences if s.first_sample is not None]
        last = begun[-1] if begun else 0
        return " ".join(s.text for s in sentences[max(0, last - 1) : last + 2])

    def cut_off(self) -> None:
        """The speech was the user's: a barge-in, silent since the reply was held."""
        self.timeline.barge_in_onset = self.onset
        self.timeline.silenced = self.held_at


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
        self._speaking_turn: TurnTimeline | None = None  # the reply being said, if any
        # Hands-free: the question being answered, and one the user went on with (they spoke
        # again before its answer was heard), to be joined to what they say now.
        self._question: HeardQuestion | None = None
        self._carried: HeardQuestion | None = None
        self._heard_so_far: LiveWords | None = None  # hands-free: the utterance being heard
        self._held: _HeldReply | None = None  # hands-free: a reply held by speech over it
        self._judging: asyncio.Task[None] | None = None  # whose words held it
        self._turns_started = 0

    @property
    def detail(self) -> str:
        """What the state's line says besides the state ("Loading the speech model…")."""
        return self._detail

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

    def hear_start(self, onset: float) -> None:
        """Hands-free: the listener heard the user begin to speak at `onset` (a `clock()` time).
        Whatever the assistant was doing (speaking, thinking, transcribing) is cut off, as the
        Talk button's barge-in does, and the state says Listening until `hear` or `hear_nothing`.
        If the answer to their last question has not been heard yet, they are going on with
        that question (see core/heard_question.py): it waits to be joined to what they say."""
        held = self._held
        if held is not None and held.question is not None:
            # Speech again while what held the reply is transcribed: the reply is silent, so
            # this is no echo but the user going on. Cut off; what they said is one question.
            log.info("Speech again over the held reply: the user going on; cut off")
            held.cut_off()
            self._cancel_turn()
            self._carried = held.question
        else:
            question = self._question if self._busy() else None
            going_on = question is not None and not question.answer_begun_before(onset)
            if self._speaking_turn is not None and not going_on and self._hold(onset):
                return
            if self._speaking_turn is not None and not going_on:
                self._speaking_turn.barge_in_onset = onset
            self._cancel_turn()
            if question is not None and going_on:
                question.continued = True
                self._carried = question
        self._set_state(TurnState.LISTENING, HEARING)
        self._drop_heard_so_far()
        self._heard_so_far = self._live_words(self._turns_started + 1)
        self._spawn(self.speaker.synthesizer.warm_up())  # pay the TLS handshake while they speak

    def hear_more(self, recording: Recording) -> None:
        """Hands-free: the utterance so far, while the user goes on speaking (live words)."""
        if self._heard_so_far is not None:
            self._heard_so_far.hear(recording)

    def hear(self, recording: Recording, onset: float, end: float) -> None:
        """Hands-free: the user's utterance, from `onset` to the end of their speech at `end`
        (its audio includes the moments before the onset): transcribed and answered."""
        carried, self._carried = self._carried, None
        live, self._heard_so_far = self._heard_so_far, None
        if (held := self._held) is not None:
            held.question = HeardQuestion(recording, onset, end)
            self._judging = self._spawn(self._judge_held(held, held.question, live))
            return
        if carried is not None:
            question = carried.going_on(recording, end)
            if live is not None:  # its words are half of the question: all of it is decoded
                live.cancel()
                live = None
        else:
            question = HeardQuestion(recording, onset, end)
        self._start_turn(self._heard_turn(question, live))

    def hear_nothing(self) -> None:
        """Hands-free: what began as speech was not (a cough, a door): back to Ready, or back to
        answering the question it seemed to go on with."""
        self._drop_heard_so_far()
        if self._held is not None:  # a cough over the reply: it goes on
            self._go_on()
            return
        carried, self._carried = self._carried, None
        if carried is not None and not self._busy():
            self._start_turn(self._heard_turn(carried.again()))
        elif self.state is TurnState.LISTENING and not self._busy():
            self._idle()

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

    def go_on_from(self, old: TurnController) -> None:
        """Settings were applied and this controller takes over from `old`: the same
        conversation goes on, read back from the history, or (nothing stored to read back: no
        history, or it failed) with `old`'s turns carried over."""
        ongoing = old.history.conversation_id
        if ongoing is not None and self.resume_conversation(ongoing):
            return
        for turn in old.conversation.turns:
            if turn.role == "user":
                self.conversation.add_user(turn.text)
            else:
                self.conversation.add_assistant(turn.text, turn.interrupted)

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

    # ---- a reply held by speech over it (core/own_words.py) --------------------------------

    def _hold(self, onset: float) -> bool:
        """Speech began over the reply being spoken: hold the reply (silent, nothing lost) until
        the speech's words say whose it is. False if no reply is playing to be held."""
        if self._held is not None or self._speaking_turn is None or not self.speaker.pause():
            return False
        self._held = _HeldReply(self._speaking_turn, onset, clock())
        self._set_state(TurnState.LISTENING, HEARING)
        self._drop_heard_so_far()
        self._heard_so_far = self._live_words(self._turns_started + 1)
        return True

    async def _judge_held(
        self, held: _HeldReply, question: HeardQuestion, live: LiveWords | None
    ) -> None:
        """The speech that held the reply, transcribed: the reply goes on if it was its own
        words, else it is cut off (a barge-in from when it fell silent) and the user answered."""
        transcript = None
        try:
            if live is not None:
                transcript = await live.finish(question.recording)
            if transcript is None:
                transcript = await self.transcriber.transcribe(question.recording)
        except Exception:  # the user's turn transcribes it again, and says what went wrong
            log.warning("Speech over the reply could not be transcribed", exc_info=True)
        if transcript is not None and is_its_own_words(transcript.text, held.sounding()):
            log.info(
                "Heard over the reply, its own voice (%r): it goes on, silent for %.0f ms",
                transcript.text,
                (clock() - held.held_at) * 1000,
            )
            if live is not None:
                live.withdraw()
            self._go_on()
            return
        said = transcript.text if transcript is not None else None
        log.info("Heard over the reply, the user's words: cut off")
        log.debug("Their words over the reply: %r", said)
        held.cut_off()
        if transcript is not None:
            question.text, question.language = transcript.text, transcript.language
        self._judging = None  # done: starting the user's turn must not cancel this task
        self._start_turn(self._heard_turn(question))

    def _go_on(self) -> None:
        """The reply held by speech over it goes on: that speech was not the user's."""
        self._held = None
        self.speaker.resume()
        if self._busy():
            self._set_state(TurnState.SPEAKING)
        else:  # it ended meanwhile (its voice failed, say)
            self._idle()

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
        timeline = self._timeline(TurnKind.PUSH_TO_TALK, input_start=clock())
        opened_before = self.connections.opened
        self._set_state(TurnState.LISTENING)
        microphone = self.microphone
        live = following = None
        if isinstance(microphone, RecordingSoFar) and (live := self._live_words(timeline.turn)):
            following = asyncio.create_task(live.follow(microphone.so_far))  # the words so far
        try:
            try:
                recording = await self._record(released)
            finally:
                timeline.input_end = clock()
                if following is not None:
                    following.cancel()
                    await asyncio.gather(following, return_exceptions=True)
            timeline.input_overflows = recording.overflows
            if recording.duration < self.options.min_recording_seconds:
                self._end_early(timeline, opened_before, TOO_SHORT)
                return
            await self._transcribe_and_answer(
                recording, timeline, opened_before, NOTHING_HEARD, live=live
            )
        except Exception as error:  # a bug too: keep the app alive, keep the details in the log
            self._report_once(timeline, opened_before)
            self._fail_any(error)
        finally:
            if live is not None:
                live.cancel()  # nothing, once its transcript was taken
            if timeline.input_overflows:
                self._emit(
                    Notice(LOST_AUDIO.format(lost=lost_blocks_text(timeline.input_overflows)))
                )

    async def _heard_turn(self, question: HeardQuestion, live: LiveWords | None = None) -> None:
        timeline = self._timeline(TurnKind.HANDS_FREE, question.onset, question.end)
        question.timeline = timeline
        self._question = question
        opened_before = self.connections.opened
        try:
            await self._transcribe_and_answer(
                question.recording, timeline, opened_before, "", question, live
            )
        except Exception as error:  # a bug too: keep the app alive, keep the details in the log
            self._report_once(timeline, opened_before)
            self._fail_any(error)
        finally:
            if self._question is question:
                self._question = None

    async def _transcribe_and_answer(
        self,
        recording: Recording,
        timeline: TurnTimeline,
        opened_before: int,
        unheard: str,
        question: HeardQuestion | None = None,
        live: LiveWords | None = None,
    ) -> None:
        """What was said, as text, then answered (or, in dictation, shown). `unheard` is the
        hint when no words were found in it (none hands-free: noise is not the user's fault).
        With `live`, most of it was decoded while the user spoke: only the rest is now."""
        self._set_state(TurnState.TRANSCRIBING)
        await self.wait_ready()
        transcript = None
        if question is not None and question.text is not None:
            transcript = Transcript(question.text, question.language)  # known already
        elif live is not None:
            transcript = await live.finish(recording)
        if transcript is None:
            transcript = await self.transcriber.transcribe(recording)
        if live is not None and not transcript.text:
            live.withdraw()  # the words shown while they spoke were nothing after all
        if question is not None:
            question.text, question.language = transcript.text, transcript.language
        timeline.transcript_ready = clock()
        if not transcript.text:
            if unheard:
                self._end_early(timeline, opened_before, unheard)
            else:
                self._finish(timeline, "", "", opened_before, interrupted=False)
            return
        if self.dictation:
            self._emit(UserSaid(transcript.text, turn=timeline.turn, language=transcript.language))
            self._finish(timeline, transcript.text, "", opened_before, interrupted=False)
            return
        await self._answer(transcript.text, timeline, opened_before, question, transcript.language)

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
        timeline = self._timeline(TurnKind.TYPED, input_start=clock())
        timeline.input_end = timeline.transcript_ready = timeline.input_start
        try:
            await self._answer(text, timeline, self.connections.opened)
        except AssistantError as error:
            self._fail(error)
        except Exception as error:
            self._fail_unexpectedly(error)

    async def _read_aloud(self, text: str) -> None:
        timeline = self._timeline(TurnKind.READ_ALOUD, input_start=clock())
        timeline.input_end = timeline.input_start
        opened_before = self.connections.opened
        pieces = self.speaker.pieces(text)
        self._set_state(TurnState.THINKING, "Preparing the voice…")
        try:
            await self._speak(pieces_of(pieces), timeline)
            self._finish(timeline, "", text, opened_before, interrupted=False)
        except asyncio.CancelledError:
            self._finish(timeline, "", timeline.heard(), opened_before, interrupted=True)
            raise
        except AssistantError as error:
            self._fail(error)
        except Exception as error:
            self._fail_unexpectedly(error)

    async def _answer(
        self,
        user_text: str,
        timeline: TurnTimeline,
        opened_before: int,
        question: HeardQuestion | None = None,
        language: str | None = None,
    ) -> None:
        """The model's reply to `user_text` (spoken in `language`, if known), spoken as it is
        written."""
        restated = question is not None and question.stored is not None
        self._emit(UserSaid(user_text, restated, timeline.turn, language))
        if self.chat is None:
            self._emit(Notice(NO_BRAIN))
            self._finish(timeline, user_text, "", opened_before, interrupted=False)
            return
        number = self._conversation_number
        if question is not None and question.stored is not None:
            self.conversation.restate(user_text)
            question.stored.restate(user_text)
        else:
            self.conversation.add_user(user_text)
            stored = self.history.user(user_text)
            if question is not None:
                question.stored = stored
        self._set_state(TurnState.THINKING)
        feed = ReplyFeed(self.chat.stream(self.conversation.messages()))
        reply = WrittenReply(
            feed,
            self.speaker.splitter(),
            self.history.reply(),
            timeline,
            self.options.pacing(),
            shown=lambda delta: self._emit(ReplyDelta(delta, timeline.turn)),
            slow=lambda slow: self._set_state(self.state, SLOW_REPLY if slow else ""),
        )
        self._speaking_turn = timeline
        try:
            await self._speak(reply.pieces(), timeline)
        except BaseException:
            if question is not None and question.continued:
                # Not heard yet, and the user went on with the question: the next turn answers
                # all of it, so this one takes back what it wrote and ends without a word.
                reply.record.withdraw()
                await feed.aclose()
                raise
            if timeline.silenced is None:  # else silent since it was held (see _judge_held)
                timeline.silenced = clock()
            heard = timeline.heard()
            # A question left without any reply (it failed, or was cut off before the first
            # word) is not sent again: Conversation.messages() skips it, as after a resume.
            if number == self._conversation_number and reply.written:
                self.conversation.add_assistant(heard, interrupted=True)
            reply.record.interrupt(heard)
            written = reply.text
            self._finish(
                timeline, user_text, heard, opened_before, interrupted=True, written=written
            )
            await feed.aclose()  # last: a second cancellation must not skip the lines above
            raise
        finally:
            if self._speaking_turn is timeline:
                self._speaking_turn = None
        await feed.aclose()
        text = reply.text
        self.conversation.add_assistant(text)
        reply.record.finish()
        self._finish(timeline, user_text, text, opened_before, interrupted=False, written=text)

    async def _speak(self, pieces: AsyncIterator[Piece], timeline: TurnTimeline) -> None:
        def started(index: int) -> None:
            if self.state is not TurnState.SPEAKING and self._held is None:
                self._set_state(TurnState.SPEAKING)
            self._emit(SentenceStarted(index, timeline.sentences[index].text, timeline.turn))

        await self.speaker.speak(pieces, timeline, started)

    # ---- helpers ---------------------------------------------------------------------------

    def _live_words(self, turn: int) -> LiveWords | None:
        """Live words for an utterance beginning now (of turn number `turn`), when the speech
        model is loaded and can transcribe while the user speaks."""
        transcriber = self.transcriber
        if self.getting_ready or self.load_error is not None:
            return None
        if not isinstance(transcriber, LiveTranscribing):
            return None
        return LiveWords(transcriber.live(), turn, self._emit)

    def _drop_heard_so_far(self) -> None:
        live, self._heard_so_far = self._heard_so_far, None
        if live is not None:
            live.cancel()

    def _timeline(
        self, kind: TurnKind, input_start: float, input_end: float | None = None
    ) -> TurnTimeline:
        """A new turn's timeline, numbered."""
        self._turns_started += 1
        return TurnTimeline(input_start, input_end, turn=self._turns_started, kind=kind)

    def _finish(
        self,
        timeline: TurnTimeline,
        user_text: str,
        reply: str,
        opened_before: int,
        *,
        interrupted: bool,
        written: str = "",
    ) -> None:
        self._report(timeline, user_text, reply, opened_before, interrupted, written)
        if not interrupted:
            self._idle()

    def _report(
        self,
        timeline: TurnTimeline,
        user_text: str,
        reply: str,
        opened_before: int,
        interrupted: bool,
        written: str = "",
    ) -> None:
        """TurnFinished: the turn is over, and how long each of its steps took."""
        timeline.finished = clock()
        timeline.interrupted = interrupted
        timeline.connections_opened = self.connections.opened - opened_before
        self.last_timeline = timeline
        self._emit(TurnFinished(timeline, user_text, reply, interrupted, written))

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
        self._carried = None
        self._held = None
        judging, self._judging = self._judging, None
        if judging is not None:
            judging.cancel()
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

    def _fail_any(self, error: Exception) -> None:
        """An error the user is told in its own words, or a bug told as one."""
        if isinstance(error, AssistantError):
            self._fail(error)
        else:
            self._fail_unexpectedly(error)

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
