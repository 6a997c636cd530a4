"""Visage test suite. (A regular package: textstat 0.7.13 ships a stray top-level `tests` package.)"""
