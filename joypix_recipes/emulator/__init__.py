"""A local server speaking the JoyPix cloud protocol, with fault knobs, for tests and credit-free trials.

    with Emulator(Knobs(turn_latency=0.2)) as emulator:
        ...  # point a client at emulator.base_url; inspect emulator.state afterwards
"""

from __future__ import annotations

from joypix_recipes.emulator.server import Emulator, serve
from joypix_recipes.emulator.state import (
    Counters,
    EmulatorState,
    Knobs,
    Paid,
    RecordedRequest,
)

__all__ = ["Counters", "Emulator", "EmulatorState", "Knobs", "Paid", "RecordedRequest", "serve"]
