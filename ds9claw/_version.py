"""The ds9claw version (read by pyproject.toml; importing it costs nothing)."""

__version__ = "0.1.0"
