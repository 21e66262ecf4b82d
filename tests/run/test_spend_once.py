"""Whatever kills a cloud run, the rerun makes the clip and nothing is paid twice: one upload, one turn per step,
one render, counted by the emulator across the kill and the rerun."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers.spending import FAULTS, Fault, run_cell


@pytest.mark.timeout(150)
@pytest.mark.parametrize("fault", FAULTS, ids=[fault.name.replace(" ", "-") for fault in FAULTS])
def test_a_killed_or_faulted_run_pays_each_request_once_and_the_rerun_makes_the_clip(fault: Fault, tmp_path: Path) -> None:
    spent = run_cell(fault, tmp_path)
    assert spent.clip == (480, 480)
    assert (spent.uploads, spent.turns, spent.renders) == (1, 3, 1)
