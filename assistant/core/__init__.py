"""The pure-asyncio heart of the assistant: protocols, the turn, splitting, timing.

Nothing here imports Qt, PyAudio, httpx or faster-whisper; adapters implement these protocols.
"""
