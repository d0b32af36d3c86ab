"""Speech synthesizers (core.protocols.Synthesizer)."""
