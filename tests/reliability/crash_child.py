"""The app in a child process, for the crash test: one typed turn through build_services, with every
piece of the reply printed the moment it is shown (stdout stands for the screen), until the test
kills it. Run as `python -m tests.reliability.crash_child CHAT_URL VOICE_URL CA_FILE TEXT`; the
history goes to the default place under $XDG_DATA_HOME."""

from __future__ import annotations

import asyncio
import json
import sys

from assistant.app import build_services
from assistant.config import Secrets
from assistant.core.events import Event, ReplyDelta
from tests.reliability.harness import LLM_KEY, OPENAI_KEY, settings_for


async def main(chat_url: str, voice_url: str, ca_file: str, text: str) -> None:
    settings = settings_for(chat_url, "openai", voice_url, ca_file, 5.0)
    # Keys as the real app would have them (the loopback servers take any).
    services = build_services(settings, Secrets(llm_api_key=LLM_KEY, openai_api_key=OPENAI_KEY))

    def show(event: Event) -> None:
        if isinstance(event, ReplyDelta):
            print(json.dumps(event.text), flush=True)

    services.controller.events.connect(show)
    try:
        services.controller.send_text(text)
        await services.controller.wait()
    finally:
        await services.aclose()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:5]))
