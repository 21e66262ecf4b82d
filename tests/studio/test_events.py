"""The page hears of every change over server-sent events: a recipe saved by rename in an editor, and a var
changed in the form (the file untouched), each re-plans within about two seconds and re-drafts only what changed."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from helpers.images import write_image
from helpers.waiting import wait_until

from joypix_recipes.cli.main import main
from joypix_recipes.studio import Studio

from .conftest import RECIPE, all_ready, write_recipe

UPDATE_WITHIN_S = 2.0


def _states(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """The state events of an open event stream, as the page reads them."""
    kind = ""
    for line in response.iter_lines():
        if line.startswith("event: "):
            kind = line.removeprefix("event: ")
        elif line.startswith("data: ") and kind == "state":
            yield json.loads(line.removeprefix("data: "))


def _texts(state: dict[str, Any]) -> dict[str, str]:
    """Each card's caption step, by key."""
    return {card["key"]: card["steps"][1]["text"] for card in state["cards"]}


def _first_state_where(
    states: Iterator[dict[str, Any]], condition: Callable[[dict[str, Any]], bool]
) -> tuple[dict[str, Any], float]:
    started = time.monotonic()
    for state in states:
        if condition(state):
            return state, time.monotonic() - started
    raise AssertionError("the stream ended")


def _stream(http: httpx.Client, studio: Studio) -> Any:
    return http.stream("GET", f"{studio.base_url}/api/events", params={"token": studio.token})


def test_a_save_by_rename_reaches_the_page_and_redrafts_only_the_changed_job(studio: Studio) -> None:
    assert studio.service is not None
    before = {card.key: card.identity for card in studio.service.state.cards.values()}
    with httpx.Client(timeout=httpx.Timeout(10, read=UPDATE_WITHIN_S + 1)) as http, _stream(http, studio) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        states = _states(response)
        first = _texts(next(states))
        assert '"Sale"' in first["previews/a-plain.mp4"] and '"SALE"' in first["previews/a-loud.mp4"]
        # Only the plain variant's caption reads the recipe's own var; the loud one sets its own.
        write_recipe(studio.recipe.parent, RECIPE.replace("vars: {word: Sale}", "vars: {word: Deal}"))
        state, took = _first_state_where(states, lambda state: '"Deal"' in _texts(state)["previews/a-plain.mp4"])
    assert took < UPDATE_WITHIN_S, f"the page heard of the save after {took:.2f} s"
    after = {card["key"]: card["identity"] for card in state["cards"]}
    assert after["previews/a-loud.mp4"] == before["previews/a-loud.mp4"]
    assert after["previews/a-plain.mp4"] != before["previews/a-plain.mp4"]
    wait_until(lambda: all_ready(studio), 30, "the changed draft was not rendered")
    cards = {card.key: card for card in studio.service.state.cards.values()}
    assert cards["previews/a-plain.mp4"].preview == f"/files/previews/a-plain.mp4?v={after['previews/a-plain.mp4']}"


def test_a_replaced_photo_changes_every_job_made_from_it(studio: Studio) -> None:
    assert studio.service is not None
    before = {card.key: card.identity for card in studio.service.state.cards.values()}
    with httpx.Client(timeout=httpx.Timeout(10, read=UPDATE_WITHIN_S + 1)) as http, _stream(http, studio) as response:
        states = _states(response)
        next(states)
        write_image(studio.recipe.parent / "a.jpg", (320, 480), seed=7)
        _, took = _first_state_where(
            states, lambda state: all(card["identity"] != before[card["key"]] for card in state["cards"])
        )
    assert took < UPDATE_WITHIN_S


def test_a_broken_save_shows_validates_problem_at_its_place_and_a_fix_clears_it(
    studio: Studio, capsys: pytest.CaptureFixture[str]
) -> None:
    with httpx.Client(timeout=httpx.Timeout(10, read=UPDATE_WITHIN_S + 1)) as http, _stream(http, studio) as response:
        states = _states(response)
        write_recipe(studio.recipe.parent, RECIPE.replace("motion: zoom-in", "motion: zoom-sideways"))
        state, took = _first_state_where(states, lambda state: bool(state["problems"]))
        assert took < UPDATE_WITHIN_S
        (problem,) = state["problems"]
        assert problem.startswith(f"{studio.recipe}:8:36: animate.motion 'zoom-sideways'"), problem
        capsys.readouterr()
        assert main(["validate", str(studio.recipe)]) == 2
        assert capsys.readouterr().err.splitlines() == [problem]  # word for word what validate says
        assert len(state["cards"]) == 2  # the last good cards stay while the recipe is broken
        write_recipe(studio.recipe.parent)
        state, took = _first_state_where(states, lambda state: not state["problems"])
        assert took < UPDATE_WITHIN_S


def test_a_var_from_the_form_redrafts_without_touching_the_file_and_names_its_flag(studio: Studio) -> None:
    saved = studio.recipe.read_bytes()
    assert studio.service is not None
    before = {card.key: card.identity for card in studio.service.state.cards.values()}
    origin = {"Origin": f"http://127.0.0.1:{studio.port}"}
    with httpx.Client(timeout=httpx.Timeout(10, read=UPDATE_WITHIN_S + 1)) as http, _stream(http, studio) as response:
        states = _states(response)
        next(states)
        answer = http.post(f"{studio.base_url}/api/vars", params={"token": studio.token}, headers=origin,
                           json={"vars": {"word": "Two words"}})
        assert answer.status_code == 200 and answer.json()["flags"] == "--var 'word=Two words'"
        state, took = _first_state_where(states, lambda state: "Two words" in _texts(state)["previews/a-plain.mp4"])
    assert took < UPDATE_WITHIN_S
    assert state["flags"] == "--var 'word=Two words'"
    assert {"name": "word", "value": "Two words", "default": "Sale"} in state["vars"]
    assert studio.recipe.read_bytes() == saved
    # A --var wins over a variant's own vars too, so both jobs changed and both are drafted again.
    assert all(card["identity"] != before[card["key"]] and card["status"] != "ready" for card in state["cards"])


ONE_JOB = """
version: 1
inputs: [a.jpg]
steps:
  - animate: {duration: 1, motion: zoom-in}
export: {aspect: "9:16", resolution: 480p, fps: 12, quality: low}
"""
"""The smallest final the recipe format allows: one 480p second at 12 fps."""


def test_the_render_button_renders_the_finals_with_progress_and_links_to_them(recipe: Path) -> None:
    with Studio(write_recipe(recipe.parent, ONE_JOB)) as studio:
        _render_from_the_page(studio)


def _render_from_the_page(studio: Studio) -> None:
    origin = {"Origin": f"http://127.0.0.1:{studio.port}"}
    seen: list[tuple[bool, tuple[str, ...]]] = []
    with httpx.Client(timeout=httpx.Timeout(10, read=30)) as http, _stream(http, studio) as response:
        states = _states(response)
        next(states)
        render = f"{studio.base_url}/api/render"
        assert http.post(render, params={"token": studio.token}, headers=origin, json={}).status_code == 202
        assert http.post(render, params={"token": studio.token}, headers=origin, json={}).status_code == 409
        for state in states:
            seen.append((state["render"]["running"], tuple(final["status"] for final in state["render"]["finals"])))
            if not state["render"]["running"] and state["render"]["report"]:
                break
        finals = state["render"]["finals"]
        assert [final["status"] for final in finals] == ["done"]
        assert any(running and "rendering" in statuses for running, statuses in seen)  # progress came as it went
        for final in finals:
            clip = http.get(f"{studio.base_url}{final['url']}", params={"token": studio.token})
            assert clip.status_code == 200 and clip.content == (studio.out_dir / final["url"].removeprefix("/files/")).read_bytes()
        report = http.get(f"{studio.base_url}{state['render']['report']}", params={"token": studio.token})
        assert report.status_code == 200 and "a.mp4" in report.text
        policy = report.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "http" not in policy
