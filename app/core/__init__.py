"""Qt-free core of Visage: pipeline, turns, events, config, errors, audio I/O."""
