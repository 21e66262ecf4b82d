"""A save that changes a job while its draft is being made abandons that draft: the newer version is drafted
next, and the jobs the save left alone are still drafted."""

from __future__ import annotations

import threading
from pathlib import Path

from helpers.waiting import wait_until

from joypix_recipes.studio import Studio
from joypix_recipes.studio.state import StudioState

from .conftest import RECIPE, all_ready, write_recipe

LONG = RECIPE.replace("duration: 1,", "duration: 120,")
"""Two jobs whose drafts take long enough (1,440 frames each) to be caught while rendering."""


def test_a_draft_superseded_while_it_renders_is_abandoned_and_the_newer_version_drafted(tmp_path: Path) -> None:
    from helpers.images import write_image

    folder = tmp_path / "project"
    write_image(folder / "a.jpg", (320, 480))
    recipe = write_recipe(folder, LONG)
    ended: list[tuple[str, str, bool]] = []
    lock = threading.Lock()
    original = StudioState.draft_ended

    def record(state: StudioState, key: str, identity: str, ok: bool, *args: object, **kwargs: object) -> None:
        with lock:
            ended.append((key, identity, ok))
        original(state, key, identity, ok, *args, **kwargs)  # type: ignore[arg-type]

    StudioState.draft_ended = record  # type: ignore[method-assign]
    try:
        with Studio(recipe) as studio:
            service = studio.service
            assert service is not None
            cards = service.state.cards
            wait_until(lambda: any(card.status == "rendering" for card in cards.values()), 30, "no draft started")
            superseded = dict((key, card.identity) for key, card in cards.items())

            write_recipe(folder, RECIPE.replace("vars: {word: Sale}", "vars: {word: Deal}"))
            wait_until(lambda: all_ready(studio), 60, "the drafts of the saved recipe were not all made")
            current = {key: card.identity for key, card in service.state.cards.items()}
    finally:
        StudioState.draft_ended = original  # type: ignore[method-assign]

    plain, loud = "previews/a-plain.mp4", "previews/a-loud.mp4"
    assert current[plain] != superseded[plain] and current[loud] != superseded[loud]
    with lock:
        finished = list(ended)
    assert (plain, superseded[plain], True) not in finished, "the superseded draft was rendered to its end"
    assert (plain, current[plain], True) in finished and (loud, current[loud], True) in finished
    assert not [entry for entry in finished if not entry[2]], "an abandoned draft was shown as failed"
