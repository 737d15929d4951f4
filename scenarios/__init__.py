"""Bundled scenario files (*.toml). Found at run time with importlib.resources."""
