"""Allows ``python -m joypix_recipes``."""

from joypix_recipes.cli import main

raise SystemExit(main())
