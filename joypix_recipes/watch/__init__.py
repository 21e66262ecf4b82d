"""The hot folder: `joypix watch` runs a recipe on every image that lands in a folder, exactly once."""

from joypix_recipes.watch.config import Flow, WatchConfig, load_watch_file
from joypix_recipes.watch.service import observer_factory, watch

__all__ = ["Flow", "WatchConfig", "load_watch_file", "observer_factory", "watch"]
