"""The virtual sound card for tests (PulseAudio null sink); being written."""
