"""PyAudio microphone and speaker, audio files, resampling: the core's audio protocols, for real."""
