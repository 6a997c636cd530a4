"""Visage: a local-first digital-human assistant for the desktop."""

__version__ = "0.1.0"
