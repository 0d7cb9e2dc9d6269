"""Playback: Range parsing (pure), direct streaming over any Source, signed tokens."""
