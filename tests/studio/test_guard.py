"""The studio's door against a real uvicorn on 127.0.0.1: the token, the Host header and a POST's Origin are
checked before anything runs, and every answer forbids other origins."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from joypix_recipes.studio import Studio

from .conftest import write_recipe


@pytest.fixture(scope="module")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    """One studio for the module: these tests need its door, not its drafts (its photo is missing, so none is made)."""
    with Studio(write_recipe(tmp_path_factory.mktemp("guard"))) as running:
        yield running


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _origin(studio: Studio) -> str:
    return f"http://127.0.0.1:{studio.port}"


def _post(http: httpx.Client, studio: Studio, path: str, *, token: str | None = None, origin: str | None = "", host: str | None = None,
          body: object = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if origin is not None:
        headers["Origin"] = origin or _origin(studio)
    if host is not None:
        headers["Host"] = host
    params = {"token": token if token is not None else studio.token}
    return http.post(f"{studio.base_url}{path}", params=params, headers=headers, content=json.dumps(body or {}))


def _nothing_started(studio: Studio) -> bool:
    assert studio.service is not None
    render = studio.service.state.render
    return not render.running and render.total == 0 and not (studio.out_dir / "manifest.json").exists()


def test_the_printed_address_sets_a_cookie_and_leaves_the_token_out_of_the_address(http: httpx.Client, studio: Studio) -> None:
    with httpx.Client(timeout=10) as client:
        first = client.get(studio.url)
        assert first.status_code == 303 and first.headers["location"] == "/"
        assert "httponly" in first.headers["set-cookie"].lower() and "samesite=strict" in first.headers["set-cookie"].lower()
        page = client.get(f"{studio.base_url}/")
        assert page.status_code == 200 and "joypix studio" in page.text
        assert client.get(f"{studio.base_url}/api/state").json()["recipe"] == "recipe.yaml"


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_missing_or_wrong_token_is_refused(http: httpx.Client, studio: Studio, token: str | None) -> None:
    params = {} if token is None else {"token": token}
    for path in ("/", "/api/state", "/static/app.js", "/files/previews/a-plain.mp4"):
        answer = http.get(f"{studio.base_url}{path}", params=params)
        assert answer.status_code == 403, path
    wrong = http.get(f"{studio.base_url}/api/state", headers={"Cookie": f"joypix_studio_{studio.port}=wrong-token"})
    assert wrong.status_code == 403


def test_a_post_with_a_wrong_token_starts_nothing(http: httpx.Client, studio: Studio) -> None:
    assert _post(http, studio, "/api/render", token="wrong-token").status_code == 403
    assert _nothing_started(studio)


@pytest.mark.parametrize("host", ["evil.example:{port}", "evil.example", "127.0.0.1:1", "localhost.evil.example:{port}"])
def test_another_host_name_is_refused_even_with_the_token(http: httpx.Client, studio: Studio, host: str) -> None:
    """A page at evil.example whose name is made to resolve to 127.0.0.1 (DNS rebinding) sends its own Host."""
    named = host.format(port=studio.port)
    answer = http.get(f"{studio.base_url}/api/state", params={"token": studio.token}, headers={"Host": named})
    assert answer.status_code == 403
    assert _post(http, studio, "/api/render", host=named).status_code == 403
    assert _nothing_started(studio)


def test_localhost_by_name_is_let_in(http: httpx.Client, studio: Studio) -> None:
    answer = http.get(f"{studio.base_url}/api/state", params={"token": studio.token},
                       headers={"Host": f"localhost:{studio.port}"})
    assert answer.status_code == 200


@pytest.mark.parametrize("origin", ["https://evil.example", "null", "http://127.0.0.1:1", None])
def test_a_post_from_another_origin_or_none_starts_nothing(http: httpx.Client, studio: Studio, origin: str | None) -> None:
    assert _post(http, studio, "/api/render", origin=origin).status_code == 403
    assert _post(http, studio, "/api/vars", origin=origin, body={"vars": {"word": "Hacked"}}).status_code == 403
    assert _nothing_started(studio)
    assert studio.service is not None and studio.service.state.form_vars == {}


def test_every_answer_forbids_other_origins_and_framing(http: httpx.Client, studio: Studio) -> None:
    for path in ("/", "/static/app.js", "/api/state"):
        answer = http.get(f"{studio.base_url}{path}", params={"token": studio.token}, follow_redirects=False)
        policy = answer.headers["content-security-policy"]
        assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert "http" not in policy and "*" not in policy
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "no-referrer"
    refused = http.get(f"{studio.base_url}/api/state")
    assert "default-src 'self'" in refused.headers["content-security-policy"]


def test_the_page_loads_nothing_from_another_origin(http: httpx.Client, studio: Studio) -> None:
    static = Path(__file__).resolve().parents[2] / "joypix_recipes" / "studio" / "static"
    for name in ("index.html", "app.js", "app.css"):
        text = (static / name).read_text(encoding="utf-8")
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, name
    page = http.get(f"{studio.base_url}/", headers={"Cookie": f"joypix_studio_{studio.port}={studio.token}"})
    assert "<script>" not in page.text and " style=" not in page.text  # nothing inline for the policy to allow


def test_the_form_takes_only_the_recipes_own_vars_as_text(http: httpx.Client, studio: Studio) -> None:
    for body in ({"vars": {"nope": "x"}}, {"vars": {"word": 3}}, {"vars": ["word"]}, {"word": "x"}):
        assert _post(http, studio, "/api/vars", body=body).status_code == 400, body
    assert studio.service is not None and studio.service.state.form_vars == {}


def test_a_recipe_that_cannot_be_planned_still_shows_its_problem_and_its_vars(http: httpx.Client, studio: Studio) -> None:
    state = http.get(f"{studio.base_url}/api/state", params={"token": studio.token}).json()
    assert state["cards"] == [] and len(state["problems"]) == 1 and "a.jpg" in state["problems"][0]
    assert state["vars"] == [{"name": "word", "value": "Sale", "default": "Sale"}]


def test_a_post_that_is_no_json_starts_nothing(http: httpx.Client, studio: Studio) -> None:
    """A plain form cannot send JSON: even from the page's own origin, a form-encoded body is refused."""
    for kind in ("application/x-www-form-urlencoded", "text/plain", "multipart/form-data; boundary=x"):
        answer = http.post(f"{studio.base_url}/api/render", params={"token": studio.token},
                           headers={"Origin": _origin(studio), "Content-Type": kind}, content=b"a=b")
        assert answer.status_code == 415, kind
    assert _nothing_started(studio)
