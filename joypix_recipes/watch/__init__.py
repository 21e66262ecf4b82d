"""The hot folder: `joypix watch` runs a recipe on every image that lands in a folder, exactly once."""

from joypix_recipes.watch.service import observer_factory, watch
from joypix_recipes.watchfile import Flow, WatchConfig, load_watch_file

__all__ = ["Flow", "WatchConfig", "load_watch_file", "observer_factory", "watch"]
