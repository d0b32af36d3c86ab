"""The Qt GUI: widgets, one per file, and the bridge from core events to Qt signals."""
