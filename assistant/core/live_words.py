"""The user's words on screen while they speak (issue 17): one utterance's live transcription,
told as `UserSpeaking` events, and its final transcript when they stop.

    push-to-talk:  follow(microphone.so_far)  every PARTIAL_EVERY s while Talk is held
    hands-free:    hear(recording so far)      as the listener hands it over
    then           finish(whole recording)     only the words not settled yet are decoded

A live transcription that fails is not the user's problem: its words stop, the log says why,
and `finish` gives None, so the turn transcribes the whole recording as it always did (as it
does for a short one, which is quicker decoded whole).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from assistant.core.events import Event, UserSpeaking
from assistant.core.protocols import LiveTranscription, Recording, Transcript

log = logging.getLogger(__name__)

PARTIAL_EVERY = 0.5  # seconds between looks at what the user is saying
# Below this, decoding the whole recording once is quicker than settling the live transcript's
# rest (`make bench ARGS=speech_in_live`: 2 s took 483 ms whole against 702 ms live; from 5 s on
# live was quicker, 442-695 ms against 780-1723 ms): the live words only show, then.
FINISH_LIVE_FROM_SECONDS = 4.0


class LiveWords:
    """One utterance's live transcript, for the turn numbered `turn`."""

    def __init__(self, live: LiveTranscription, turn: int, emit: Callable[[Event], None]) -> None:
        self.turn = turn
        self._live = live
        self._emit = emit
        self._update: asyncio.Task[None] | None = None
        self._shown = False  # a UserSpeaking with words went out
        self._failed = False
        self._finished = False  # its transcript was taken: cancelling it changes nothing

    def hear(self, recording: Recording) -> None:
        """The utterance so far (hands-free): decoded unless a decode is still running."""
        if self._failed or (self._update is not None and not self._update.done()):
            return
        self._update = asyncio.create_task(self._tell(recording))

    async def follow(self, so_far: Callable[[], Recording]) -> None:
        """Push-to-talk: look at what the microphone heard every PARTIAL_EVERY seconds, until
        cancelled (at release)."""
        while not self._failed:
            await asyncio.sleep(PARTIAL_EVERY)
            # Joining (and, off 16 kHz mono, converting) what was heard grows with the recording:
            # not on the event loop.
            await self._tell(await asyncio.to_thread(so_far))

    async def finish(self, recording: Recording) -> Transcript | None:
        """The final transcript of `recording` (the whole utterance); None when the caller
        should transcribe it whole: it is short enough to be quicker that way, or the live
        transcription failed. The words shown stay until that transcript replaces them."""
        self._finished = True
        if self._update is not None:
            self._update.cancel()
            await asyncio.gather(self._update, return_exceptions=True)
        if self._failed or recording.duration < FINISH_LIVE_FROM_SECONDS:
            self._live.cancel()  # a decode still running stops: the whole one needs the worker
            return None
        try:
            transcript = await self._live.finish(recording)
        except Exception:
            log.exception("the live transcript failed at the end; transcribing it whole")
            return None
        if not transcript.text:
            self.withdraw()
        self._shown = False  # the transcript takes the live words' place
        return transcript

    def cancel(self) -> None:
        """Abandoned (a cough, a barge-in by button, a cancelled turn): its words go."""
        if self._finished:
            return
        self._finished = True
        if self._update is not None:
            self._update.cancel()
        self._live.cancel()
        self.withdraw()

    def withdraw(self) -> None:
        """Nothing was said after all: the live words leave the screen."""
        if self._shown:
            self._shown = False
            self._emit(UserSpeaking("", "", self.turn))

    async def _tell(self, recording: Recording) -> None:
        try:
            partial = await self._live.update(recording)
        except asyncio.CancelledError:
            raise
        except Exception:
            self._failed = True
            log.exception("the live transcript failed; the words show when the user stops")
            return
        if partial is not None and (partial.committed or partial.tentative):
            self._shown = True
            self._emit(UserSpeaking(partial.committed, partial.tentative, self.turn))


__all__ = ["FINISH_LIVE_FROM_SECONDS", "PARTIAL_EVERY", "LiveWords"]
