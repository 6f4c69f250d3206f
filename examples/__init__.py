"""Runnable gymie examples (``python -m examples.retro_server``); also importable with ``--import``."""
