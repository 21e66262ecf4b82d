"""joypix-recipes: turn still images into short video clips from YAML recipes."""

__version__ = "0.3.0"  # the package version: pyproject.toml reads it from here
