"""gymie: reinforcement-learning environments served over WebSocket."""
__version__ = "1.0.0"
