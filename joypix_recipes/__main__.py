"""Allows ``python -m joypix_recipes``."""

from joypix_recipes.cli.main import main

raise SystemExit(main())
