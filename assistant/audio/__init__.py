"""PyAudio microphone and speaker, audio files, resampling: implementations of the core's audio protocols."""
