"""The studio: a local page that shows every job of a recipe as a playing preview and re-renders as the recipe is edited.

``Studio`` (server.py) serves it on loopback in a background thread; guard.py keeps other sites and
other users out, watcher.py turns saved files into re-plans, state.py holds what the page shows.
"""

from joypix_recipes.studio.planning import Reader
from joypix_recipes.studio.server import Studio

__all__ = ["Reader", "Studio"]
