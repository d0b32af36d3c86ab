"""Conversation: the hands-free assistant as `build_services` wires it (the always-open microphone,
WebRTC AEC3 fed by the Speaker's tap, Silero VAD, Smart Turn, openWakeWord, Whisper tiny.en, the
Piper voice) on the speakerphone rig (tests/support/pulse.py: its own voice comes back into the
microphone, attenuated and delayed), answering through a loopback chat model that starts writing
MODEL_DELAY after each request.

Measured, in one run:
- end of the user's speech → first audio, hands-free, and push-to-talk release → first audio, side
  by side: real clips played into the room, each stage from the turn's timeline;
- voice barge-in: a clip spoken over a long reply, from its speech onset to the reply's silence;
- self-triggers: the listener taking the assistant's own voice for the user's, per minute of that
  voice, over a long reply nobody interrupts, with the echo canceller and without it (the control);
- CPU (process time / wall time, in % of one core) of idle listening in each mode over a faint room
  hiss, of the listening thread alone, and of whole conversation turns.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.app import Services, build_services
from assistant.audio.files import read_audio
from assistant.config import Secrets, Settings
from assistant.core.events import Event, StateChanged, TurnFinished, TurnState, UserSaid
from assistant.core.hands_free import HandsFree, ListeningMode
from assistant.core.listening import LISTEN_RATE
from assistant.core.timeline import TurnTimeline, clock
from tests.support.chat_server import ChatServer
from tests.support.environment import environment
from tests.support.loopback import LoopbackServer, TlsFiles
from tests.support.pulse import RECORD_RATE, Recorder, Speakerphone, VirtualSoundCard, similarity
from tests.support.speech import SPEECH, references, word_error_rate
from tests.support.speech_spans import SPEECH_SPANS

TITLE = "Conversation: hands-free latency, voice barge-in, self-triggers, CPU of listening"

ECHO_DELAY_MS = 60
ECHO_GAIN_DB = -6.0
MODEL_DELAY = 0.2  # seconds from the chat request to the model's first byte
TOKEN_CHARS = 6
TOKEN_SECONDS = 0.02  # between the model's deltas: ~50 tokens a second
TURN_CLIPS = (
    "ds_2830-3980-0043.wav",  # "Experience proves this."
    "fw_stereo_diarization_right.wav",  # "The horizon seems extremely distant."
    "fw_stereo_diarization_left.wav",  # "He began a confused complaint against the wizard, ..."
)
ROUNDS = 2  # each clip this many times per mode
AFTER_LAST_WORD = 0.2  # seconds of the clip kept after its last word: the room's quiet follows
PRESS_LEAD = 0.3  # push-to-talk: the button goes down this long before the clip starts
RELEASE_LAG = 0.1  # and up this long after it has played (the room's delay is ~20 ms)
SETTLE = 0.8  # seconds of quiet after each turn: the reply's echo and tail have died out
TURN_TIMEOUT = 30.0
BARGE_INS = 5
BARGE_IN_AFTER = 2.5  # seconds into the reply's sound when the user speaks over it
IDLE_SECONDS = 25.0
BASELINE_SECONDS = 10.0  # push-to-talk idle: the app and the rig's own recorders, no listener
LONG_SECONDS = 80.0  # the long reply lasts ~65 s with its pauses
CONTROL_SECONDS = 20.0  # without the canceller: the assistant answers itself; this is plenty
HISS_DBFS = -60.0  # a real room (and microphone) is never digitally silent
AUDIBLE = 100  # int16 RMS of a 50 ms window of the app's output that counts as sound
GOAL_FIRST_AUDIO_MS = 700.0
GOAL_BARGE_IN_MS = 300.0
GOAL_IDLE_PERCENT = 5.0

SHORT_REPLY = "Of course. Here is a short answer to your question, in two sentences."
LONG_REPLY = (  # about a minute of the Piper voice
    "Here is the plan for the week ahead, day by day. On Monday the morning is free, so it is a "
    "good time to answer the letters that have been waiting. In the afternoon there is the "
    "dentist at three, and the bus leaves twenty minutes before. Tuesday is for the garden: the "
    "roses need cutting back, and the beans want a taller frame before the wind comes. On "
    "Wednesday your sister visits, and she said she would bring the old photographs from the "
    "attic. Thursday looks rainy all day, which suits the long chapter you meant to read. On "
    "Friday the market is open until noon, so buy bread, apples and a little cheese for the "
    "weekend. Saturday is the concert in the town hall; the doors open at seven and the seats "
    "are not numbered, so go early. Sunday is quiet, with nothing planned at all, and that may "
    "be the best day of the whole week. Remember to water the tomatoes every evening if it "
    "stays dry, and to close the greenhouse before dark. The week after starts with a holiday, "
    "so the shops will be closed on Monday and the buses will run as on a Sunday. That is "
    "everything for now, and the week looks rather pleasant."
)
LONG_QUESTION = "What does my week look like?"  # typed: the user says nothing aloud


@dataclass
class Model:
    """What the loopback chat model answers now; each section sets it."""

    reply: str = SHORT_REPLY

    def answer(self, messages: list[dict[str, Any]]) -> str:
        return self.reply


@dataclass
class Session:
    """One assistant on the rig, and every event it emitted."""

    services: Services
    card: VirtualSoundCard
    phone: Speakerphone
    model: Model
    events: list[Event] = field(default_factory=list)
    times: list[float] = field(default_factory=list)  # clock() of each event

    def record(self, event: Event) -> None:
        self.events.append(event)
        self.times.append(clock())

    @property
    def hands_free(self) -> HandsFree:
        assert self.services.hands_free is not None
        return self.services.hands_free

    def finished(self, since: int) -> list[TurnFinished]:
        return [e for e in self.events[since:] if isinstance(e, TurnFinished)]

    async def switch(self, mode: ListeningMode) -> None:
        await self.hands_free.switch(mode)
        if self.hands_free.mode is not mode:
            raise RuntimeError(f"could not switch to {mode.value}: {self.events[-3:]}")

    async def back_to_ready(self) -> None:
        """Stop whatever is going on and wait for Ready (a reply the listener heard start
        leaves the state at Listening with no turn: switching modes ends that)."""
        mode = self.hands_free.mode
        await self.switch(ListeningMode.PUSH_TO_TALK)
        self.services.controller.stop()
        self.services.controller.new_conversation()  # no long history for the next section
        await until(lambda: self.services.controller.state is TurnState.READY, 10)
        await self.switch(mode)
        await asyncio.sleep(SETTLE)


class CpuSpan:
    """Process CPU time (all threads) and the listening thread's, over a stretch of wall time."""

    def __init__(self) -> None:
        self._thread_clock = listening_thread_clock()
        self._thread_start = self._thread_cpu()
        self._wall = time.monotonic()
        self._cpu = time.process_time()

    def _thread_cpu(self) -> float | None:
        if self._thread_clock is None:
            return None
        return time.clock_gettime(self._thread_clock)

    def percent(self) -> float:
        """Process CPU in % of one core since the span began."""
        return (time.process_time() - self._cpu) / (time.monotonic() - self._wall) * 100

    def thread_percent(self) -> float | None:
        """The listening thread's CPU in % of one core, if one was listening."""
        now = self._thread_cpu()
        if now is None or self._thread_start is None:
            return None
        return (now - self._thread_start) / (time.monotonic() - self._wall) * 100


def listening_thread_clock() -> int | None:
    """The CPU-time clock of the hands-free listener's worker thread (VAD, canceller, wake word,
    end of turn all run there; the PortAudio callback thread only queues blocks)."""
    for thread in threading.enumerate():
        if thread.name == "hands-free listener" and thread.ident is not None:
            return time.pthread_getcpuclockid(thread.ident)
    return None


async def until(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


# ---- 1. end of speech → first audio ----------------------------------------------------------


@dataclass
class SpokenTurn:
    mode: ListeningMode
    stages_ms: dict[str, float | None]  # transcript, first token, first audio: from the origin
    heard_right: bool  # WER ≤ 0.25
    cpu_percent: float  # the process, from the clip's start to the reply's end
    vad_lag_ms: float | None = None  # hands-free: the listener's end of speech after the real one


def clip_to_last_word(name: str) -> np.ndarray:
    """The clip at LISTEN_RATE up to AFTER_LAST_WORD after its last word."""
    samples = np.frombuffer(read_audio(SPEECH / name, LISTEN_RATE), dtype="<i2")
    return samples[: round((SPEECH_SPANS[name][1] + AFTER_LAST_WORD) * LISTEN_RATE)]


def stages(
    timeline: TurnTimeline, origin: float, transcribing: float | None
) -> dict[str, float | None]:
    """Each stage in ms from `origin`; `transcribing`: when the turn went to transcription (the
    listener's end of turn, or the microphone closed after Talk was released)."""

    def ms(moment: float | None) -> float | None:
        return None if moment is None else (moment - origin) * 1000

    return {
        "turn_ended_ms": ms(transcribing),
        "transcript_ready_ms": ms(timeline.transcript_ready),
        "first_token_ms": ms(timeline.first_token),
        "first_audio_ms": ms(timeline.first_audio()),
    }


async def spoken_turn(session: Session, name: str, mode: ListeningMode) -> SpokenTurn | None:
    """The clip said into the room, answered with SHORT_REPLY; None if no answer came."""
    controller = session.services.controller
    clip = clip_to_last_word(name)
    since = len(session.events)
    room = session.phone.start_recording()
    span = CpuSpan()
    release = 0.0
    if mode is ListeningMode.PUSH_TO_TALK:
        controller.press()
        await asyncio.sleep(PRESS_LEAD)
        await session.phone.play_user_pcm(clip, LISTEN_RATE).finished()
        await asyncio.sleep(RELEASE_LAG)
        release = clock()
        controller.release()
    else:
        session.phone.play_user_pcm(clip, LISTEN_RATE)

    def answered() -> bool:
        return controller.state is TurnState.READY and any(
            not turn.interrupted and turn.reply_text for turn in session.finished(since)
        )

    done = await until(answered, TURN_TIMEOUT)
    cpu = span.percent()
    heard = room.stop()
    await asyncio.sleep(SETTLE)
    if not done:
        await session.back_to_ready()
        return None
    turn = [t for t in session.finished(since) if not t.interrupted][-1]
    timeline = turn.timeline
    transcribing = max(
        (
            moment
            for event, moment in zip(session.events[since:], session.times[since:], strict=True)
            if isinstance(event, StateChanged)
            and event.state is TurnState.TRANSCRIBING
            and moment <= (timeline.transcript_ready or moment)
        ),
        default=None,
    )
    heard_right = word_error_rate(references()[name], turn.user_text) <= 0.25
    if mode is ListeningMode.PUSH_TO_TALK:
        return SpokenTurn(mode, stages(timeline, release, transcribing), heard_right, cpu)
    assert timeline.input_end is not None
    last_word = played_at(clip, room, heard, SPEECH_SPANS[name][1])
    lag = None if last_word is None else (timeline.input_end - last_word) * 1000
    turn_stages = stages(timeline, timeline.input_end, transcribing)
    return SpokenTurn(mode, turn_stages, heard_right, cpu, lag)


def played_at(clip: np.ndarray, room: Recorder, heard: np.ndarray, second: float) -> float | None:
    """The clock() time at which the room played `second` of the clip, found in what the
    microphone `heard` (the room's recording); None if the clip is not found there."""
    start_seconds, likeness = similarity(clip, LISTEN_RATE, heard, RECORD_RATE)
    if likeness < 0.3:  # the reply's echo is in it too; a wrong place scores below 0.1
        return None
    return room.time_at((start_seconds + second) * RECORD_RATE)


async def first_audio(session: Session) -> list[SpokenTurn | None]:
    """Every clip ROUNDS times in each mode, hands-free and push-to-talk in turn."""
    session.model.reply = SHORT_REPLY
    await session.switch(ListeningMode.HANDS_FREE)
    await asyncio.sleep(SETTLE)
    await spoken_turn(session, TURN_CLIPS[0], ListeningMode.HANDS_FREE)  # warm-up, not counted
    turns: list[SpokenTurn | None] = []
    for _ in range(ROUNDS):
        for mode in (ListeningMode.HANDS_FREE, ListeningMode.PUSH_TO_TALK):
            await session.switch(mode)
            await asyncio.sleep(SETTLE)
            for name in TURN_CLIPS:
                turns.append(await spoken_turn(session, name, mode))
    return turns


# ---- 2. voice barge-in ------------------------------------------------------------------------


@dataclass
class BargeIn:
    clip: str
    listener_ms: float | None = None  # the listener's onset → silence (the timeline's)
    real_ms: float | None = None  # the clip's real first word in the microphone → silence
    missed: bool = False  # the reply went on: the clip was not taken for a barge-in
    own_voice: bool = False  # the reply was cut off before the clip began: by its own voice


async def voice_barge_ins(session: Session) -> list[BargeIn]:
    """BARGE_INS clips, each spoken BARGE_IN_AFTER into a long reply (the first one typed, each
    next one the answer to the clip that cut off the last)."""
    controller = session.services.controller
    session.model.reply = LONG_REPLY
    await session.switch(ListeningMode.HANDS_FREE)
    controller.send_text(LONG_QUESTION)
    results = []
    for number in range(BARGE_INS):
        if not await until(lambda: controller.state is TurnState.SPEAKING, TURN_TIMEOUT):
            raise RuntimeError(f"the reply did not start: {session.events[-5:]}")
        await asyncio.sleep(BARGE_IN_AFTER)
        clip = TURN_CLIPS[number % len(TURN_CLIPS)]
        if controller.state is not TurnState.SPEAKING:  # it cut itself off: counted, asked again
            results.append(BargeIn(clip, own_voice=True))
            await session.back_to_ready()
            controller.send_text(LONG_QUESTION)
            continue
        result = await barge_in(session, clip)
        results.append(result)
        if result.missed:
            await session.back_to_ready()
            controller.send_text(LONG_QUESTION)
    await session.back_to_ready()
    return results


async def barge_in(session: Session, name: str) -> BargeIn:
    """The clip spoken over the reply being said, and how fast the reply fell silent."""
    since = len(session.events)
    clip = clip_to_last_word(name)
    room = session.phone.start_recording()
    playing = session.phone.play_user_pcm(clip, LISTEN_RATE)
    cut = await cut_off(session, since, 10)
    await playing.finished()
    await asyncio.sleep(0.3)  # the clip's last sound reaches the room's recorder
    heard = room.stop()
    if cut is None:
        return BargeIn(name, missed=True)
    onset, silenced = cut.timeline.barge_in_onset, cut.timeline.silenced
    first_word = played_at(clip, room, heard, SPEECH_SPANS[name][0])
    if onset is None or silenced is None or first_word is None:
        return BargeIn(name, cut.timeline.to_dict()["barge_in_ms"])
    if onset < first_word - 0.3:
        return BargeIn(name, own_voice=True)
    return BargeIn(name, (silenced - onset) * 1000, (silenced - first_word) * 1000)


async def cut_off(session: Session, since: int, seconds: float) -> TurnFinished | None:
    """The first reply cut off since event `since`, once there is one (None after `seconds`)."""

    def interrupted() -> list[TurnFinished]:
        return [t for t in session.finished(since) if t.interrupted]

    return interrupted()[0] if await until(lambda: bool(interrupted()), seconds) else None


# ---- 3. self-triggers -------------------------------------------------------------------------


@dataclass
class OwnVoice:
    echo_cancellation: bool
    speech_seconds: float  # of the assistant's voice, as the app played it
    speech_began: int  # the listener heard speech begin (each one a self-trigger here)
    answered_itself: int  # turns the app answered that the user never said
    cut_off: int  # replies cut off by the app's own voice
    into_reply: list[float | None]  # seconds into the reply's sound of each (None: before it)
    cpu_percent: float  # the process, while it speaks and listens
    thread_percent: float | None

    @property
    def per_minute(self) -> float:
        return self.speech_began / (self.speech_seconds / 60) if self.speech_seconds else 0.0


def speaking_seconds(played: np.ndarray) -> float:
    """How long the app was talking: 50 ms windows with sound, bridging the pauses between
    words and sentences (up to a second)."""
    window = RECORD_RATE // 20
    count = len(played) // window
    if not count:
        return 0.0
    frames = played[: count * window].astype(np.float64).reshape(count, window)
    audible = np.sqrt((frames**2).mean(axis=1)) > AUDIBLE
    bridged = np.convolve(audible, np.ones(21), mode="same") > 0  # ±0.5 s around a sound
    return float(bridged.sum()) / 20


async def own_voice(session: Session, *, echo_cancellation: bool, seconds: float) -> OwnVoice:
    """A typed question answered with LONG_REPLY, nobody speaking: until the reply is over, or
    `seconds`; every speech start the listener reports meanwhile is the assistant's own voice."""
    controller = session.services.controller
    session.services.settings.conversation.echo_cancellation = echo_cancellation
    await session.switch(ListeningMode.PUSH_TO_TALK)  # the next listener is made with it
    await session.switch(ListeningMode.HANDS_FREE)
    await asyncio.sleep(SETTLE)
    session.model.reply = LONG_REPLY
    since = len(session.events)
    played = session.card.start_recording()
    span = CpuSpan()
    controller.send_text(LONG_QUESTION)

    def over() -> bool:
        return any(not t.interrupted for t in session.finished(since))

    await until(over, seconds)
    cpu, thread = span.percent(), span.thread_percent()
    stopped = clock()
    await session.back_to_ready()
    sound = played.stop()
    began: list[float | None] = []  # each speech start: seconds into the reply's sound
    reply_began: float | None = None
    for event, moment in zip(session.events[since:], session.times[since:], strict=True):
        if not isinstance(event, StateChanged):
            continue
        if event.state is TurnState.SPEAKING and reply_began is None:
            reply_began = moment
        elif event.state is TurnState.LISTENING:
            began.append(None if reply_began is None else moment - reply_began)
            reply_began = None
    cuts = [t for t in session.finished(since) if t.interrupted]
    return OwnVoice(
        echo_cancellation,
        speaking_seconds(sound),
        len(began),
        sum(isinstance(e, UserSaid) for e in session.events[since:]) - 1,  # 1: the typed one
        sum(t.timeline.finished is not None and t.timeline.finished < stopped for t in cuts),
        began,
        cpu,
        thread,
    )


# ---- 4. CPU of idle listening -----------------------------------------------------------------


@dataclass
class Idle:
    mode: ListeningMode
    cpu_percent: float
    thread_percent: float | None


async def idle_listening(session: Session) -> list[Idle]:
    """The app doing nothing in each mode, the room quiet but for a faint hiss."""
    rows = []
    for mode, seconds in (
        (ListeningMode.PUSH_TO_TALK, BASELINE_SECONDS),
        (ListeningMode.HANDS_FREE, IDLE_SECONDS),
        (ListeningMode.WAKE_WORD, IDLE_SECONDS),
    ):
        await session.switch(mode)
        samples = round((seconds + 2 * SETTLE) * LISTEN_RATE)
        hiss = np.random.default_rng(9).normal(0, 32768 * 10 ** (HISS_DBFS / 20), samples)
        playing = session.phone.play_user_pcm(hiss.astype(np.int16), LISTEN_RATE)
        await asyncio.sleep(SETTLE)
        span = CpuSpan()
        await asyncio.sleep(seconds)
        rows.append(Idle(mode, span.percent(), span.thread_percent()))
        await playing.finished()
    return rows


# ---- the run ----------------------------------------------------------------------------------


@dataclass
class Results:
    idle: list[Idle]
    turns: list[SpokenTurn | None]
    barge_ins: list[BargeIn]
    own_voice: list[OwnVoice]


def run() -> str:
    with tempfile.TemporaryDirectory(prefix="bench-conversation-") as name:
        folder = Path(name)
        tls = TlsFiles.create(folder)
        card = VirtualSoundCard(folder / "pulse")
        try:
            card.start()
            with environment({**card.env, **user_folders(folder)}), speakerphone(card) as phone:
                results = asyncio.run(measure(card, phone, tls, folder))
        finally:
            card.stop()
    return report(results)


def user_folders(folder: Path) -> dict[str, str]:
    """Config, data, cache and state in the run's folder, not the user's."""
    names = ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME", "XDG_STATE_HOME")
    return {name: str(folder / name.lower()) for name in names}


@contextlib.contextmanager
def speakerphone(card: VirtualSoundCard) -> Iterator[Speakerphone]:
    phone = card.speakerphone(echo_delay_ms=ECHO_DELAY_MS, echo_gain_db=ECHO_GAIN_DB)
    try:
        yield phone
    finally:
        phone.close()


async def measure(
    card: VirtualSoundCard, phone: Speakerphone, tls: TlsFiles, folder: Path
) -> Results:
    model = Model()
    chat = ChatServer(
        model.answer, token_chars=TOKEN_CHARS, delay_first=MODEL_DELAY, delay_each=TOKEN_SECONDS
    )
    with LoopbackServer(chat.handler, tls) as server:
        settings = Settings()
        settings.llm.base_url = server.url + "/v1"
        settings.llm.model = "test-model"
        settings.network.ca_file = str(tls.ca_file)
        services = build_services(settings, Secrets(), history_path=folder / "history.sqlite3")
        session = Session(services, card, phone, model)
        services.controller.events.connect(session.record)
        try:
            services.controller.start()
            await services.controller.wait_ready()
            idle = await idle_listening(session)
            turns = await first_audio(session)
            barge_ins = await voice_barge_ins(session)
            with_aec = await own_voice(session, echo_cancellation=True, seconds=LONG_SECONDS)
            control = await own_voice(session, echo_cancellation=False, seconds=CONTROL_SECONDS)
        finally:
            await services.aclose()
    return Results(idle, turns, barge_ins, [with_aec, control])


# ---- the report -------------------------------------------------------------------------------


def median(values: list[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f} ms"


def met(ok: bool) -> str:
    return "yes" if ok else "**NO**"


def latency_rows(turns: list[SpokenTurn | None]) -> list[str]:
    asked = len(turns) // 2
    rows = []
    for mode, origin in (
        (ListeningMode.HANDS_FREE, "end of speech (the listener's)"),
        (ListeningMode.PUSH_TO_TALK, "release of Talk"),
    ):
        done = [t for t in turns if t is not None and t.mode is mode]
        firsts = [t.stages_ms["first_audio_ms"] for t in done]
        known = [f for f in firsts if f is not None]
        first = median(firsts)
        spread = f"({ms(min(known))}-{ms(max(known))})" if known else ""
        lag = median([t.vad_lag_ms for t in done])
        rows.append(
            f"| {mode.value.replace('_', '-')} | {origin} | "
            f"{len(done)} of {asked} ({sum(t.heard_right for t in done)}) | "
            f"{ms(lag) if mode is ListeningMode.HANDS_FREE else '-'} | "
            f"{ms(median([t.stages_ms['turn_ended_ms'] for t in done]))} | "
            f"{ms(median([t.stages_ms['transcript_ready_ms'] for t in done]))} | "
            f"{ms(median([t.stages_ms['first_token_ms'] for t in done]))} | "
            f"**{ms(first)}** {spread} | "
            f"{met(first is not None and first <= GOAL_FIRST_AUDIO_MS)} | "
            f"{median([t.cpu_percent for t in done]) or 0:.0f} % |"
        )
    return rows


def barge_in_rows(results: list[BargeIn]) -> list[str]:
    rows = []
    for label, values in (
        ("speech onset (the listener's) → silence", [r.listener_ms for r in results]),
        ("the clip's real first word → silence", [r.real_ms for r in results]),
    ):
        middle = median(values)
        known = ", ".join(ms(v) for v in values if v is not None)
        rows.append(
            f"| voice barge-in, {label} | {ms(middle)} median ({known}) | "
            f"≤ {GOAL_BARGE_IN_MS:.0f} ms | "
            f"{met(middle is not None and middle <= GOAL_BARGE_IN_MS)} |"
        )
    missed = [r.clip for r in results if r.missed]
    own = sum(r.own_voice for r in results)
    rows.append(
        f"| barge-in clips the reply talked through | {len(missed)} of {len(results)}"
        f"{' (' + ', '.join(missed) + ')' if missed else ''}; {own} cut off by its own voice "
        f"just before the clip | 0 | {met(not missed and not own)} |"
    )
    return rows


def seconds_into(moments: list[float | None]) -> str:
    if not moments:
        return "-"
    return ", ".join("before its sound" if m is None else f"{m:.1f} s" for m in moments)


def report(results: Results) -> str:
    lines = [
        f"Goal: first audio ≤ {GOAL_FIRST_AUDIO_MS:.0f} ms after the user stops speaking (the "
        f"loopback model starts writing {MODEL_DELAY * 1000:.0f} ms after the request; Piper "
        "speaks). Medians (min-max); each stage from the origin.\n",
        "| mode | origin | turns answered (heard right) | last word → listener's end "
        "| to transcription | transcript ready | first token | first audio | ≤ 700 ms "
        "| CPU during the turn |",
        "|---|---|---|---|---|---|---|---|---|---|",
        *latency_rows(results.turns),
        "",
        "| measure | result | goal | met |",
        "|---|---|---|---|",
    ]
    lines += barge_in_rows(results.barge_ins)
    for voice in results.own_voice:
        canceller = "canceller on" if voice.echo_cancellation else "canceller **off** (control)"
        goal = "0" if voice.echo_cancellation else "> 0 (proves it counts)"
        ok = voice.speech_began == 0 if voice.echo_cancellation else voice.speech_began > 0
        lines.append(
            f"| self-triggers per minute of its own voice, {canceller} | "
            f"{voice.per_minute:.1f} ({voice.speech_began} speech starts in "
            f"{voice.speech_seconds:.0f} s of its voice; {voice.cut_off} replies cut off, "
            f"{voice.answered_itself} answered to itself; at {seconds_into(voice.into_reply)} "
            f"into a reply) | {goal} | {met(ok)} |"
        )
    baseline = results.idle[0].cpu_percent
    for idle in results.idle:
        if idle.mode is ListeningMode.PUSH_TO_TALK:
            lines.append(
                f"| CPU idle, push-to-talk (no listener: the baseline) | {baseline:.1f} % of a "
                "core | - | - |"
            )
            continue
        cost = idle.cpu_percent - baseline
        thread = "-" if idle.thread_percent is None else f"{idle.thread_percent:.1f} %"
        lines.append(
            f"| CPU idle listening, {idle.mode.value.replace('_', '-')} | {cost:.1f} % over the "
            f"baseline (process {idle.cpu_percent:.1f} %, listening thread {thread}) | "
            f"≤ {GOAL_IDLE_PERCENT:.0f} % | {met(cost <= GOAL_IDLE_PERCENT)} |"
        )
    speaking = results.own_voice[0]
    thread = "-" if speaking.thread_percent is None else f"{speaking.thread_percent:.1f} %"
    lines += [
        f"| CPU while it speaks a long reply, listening (canceller on) | process "
        f"{speaking.cpu_percent:.0f} % (listening thread {thread}) | - | - |",
        "",
        f"Method: one assistant built by `build_services` on the speakerphone rig (echo "
        f"{ECHO_DELAY_MS} ms, {ECHO_GAIN_DB:.0f} dB), loopback HTTPS model. Turns: "
        f"{len(TURN_CLIPS)} real clips × {ROUNDS} per mode, cut {AFTER_LAST_WORD * 1000:.0f} ms "
        "after the last word; hands-free counts from the end of speech the listener reported "
        "(its lag behind the clip's real last word, found in the microphone's recording, is in "
        f"its own column); push-to-talk releases {RELEASE_LAG * 1000:.0f} ms after the clip "
        'has played. "To transcription": the state went to Transcribing (hands-free: the '
        "end-of-turn decision). First audio is the first sample handed to the sound card "
        "(the device's own buffer comes on top). "
        f"Barge-in: a clip {BARGE_IN_AFTER:.1f} s into a long reply; "
        "silence is when the reply was held silent (the timeline's; its requests are "
        "cancelled once the clip's words are known to be the user's, not its own), its onset "
        "the listener's or the clip's first word as the microphone heard it. "
        "Self-triggers: a typed question answered with ~1 min of "
        "Piper speech, nobody speaking; every speech start the listener reported is one. CPU: "
        f"process time / wall time over {IDLE_SECONDS:.0f} s per mode with a "
        f"{HISS_DBFS:.0f} dBFS hiss in the room; the baseline includes the rig's own "
        "recorder threads.",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    print(run())
