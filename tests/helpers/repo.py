"""Files of this repository that tests read or run: the checkout itself, the sample photo."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "recipes" / "samples" / "sample.jpg"
