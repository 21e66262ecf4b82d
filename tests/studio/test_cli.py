"""`joypix studio`: prints the address with its token, serves until SIGTERM or Ctrl-C stops it cleanly, and
says in one line what is wrong with its arguments."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import httpx
import pytest
from helpers.runs import start_joypix
from helpers.waiting import wait_until

from joypix_recipes.cli.main import main


def test_help_shows_examples(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["studio", "--help"])
    shown = capsys.readouterr().out
    assert "joypix studio recipes/quickstart.yaml" in shown and "--no-open" in shown and "--var" in shown


def test_a_missing_recipe_is_one_line_and_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["studio", str(tmp_path / "nope.yaml"), "--no-open"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope.yaml: no such recipe file" in err[0]


def test_the_printed_address_serves_until_sigterm_ends_it_cleanly(recipe: Path) -> None:
    """SIGTERM stops it as Ctrl-C does (the same path), here while its drafts render."""
    process = start_joypix(["studio", str(recipe), "--no-open", "--var", "word=Hi"], cwd=recipe.parent)
    try:
        assert process.stdout is not None
        line = wait_until(process.stdout.readline, 30, "no address printed", process=process)
        url = line.split(": ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:") and "/?token=" in url
        with httpx.Client(timeout=10) as http:
            assert http.get(url).status_code == 303
            state = http.get(url.split("?")[0] + "api/state").json()
        assert state["flags"] == "--var word=Hi"
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=20)
        took = time.monotonic() - started
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()
    assert process.returncode == 0, err
    assert "Traceback" not in err
    assert took < 10, f"stopping took {took:.1f} s"


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
def test_a_wildcard_host_is_refused_because_no_browser_sends_it(recipe: Path, host: str,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["studio", str(recipe), "--host", host, "--no-open"]) == 2
    assert "--host needs the address to serve on" in capsys.readouterr().err
