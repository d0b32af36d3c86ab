"""Speech-to-text engines (core.protocols.Transcriber)."""
