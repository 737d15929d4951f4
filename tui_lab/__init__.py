"""tui-lab: watch recurrent and memory-augmented networks think, one time step at a time."""

__version__ = "0.1.0"
