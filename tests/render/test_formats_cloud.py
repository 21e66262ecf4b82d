"""The cloud exports MP4: other formats are made on this machine from the download, and the run says so once."""

from __future__ import annotations

from pathlib import Path

import av
import pytest
from helpers.images import write_image
from PIL import Image

from joypix_recipes.cli.main import main
from joypix_recipes.emulator import Emulator


@pytest.mark.usefixtures("logging_restored")
def test_a_cloud_gif_is_made_here_from_the_downloaded_mp4_and_said_once(
    tmp_path: Path, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "photos").mkdir()
    for index in range(2):
        write_image(tmp_path / "photos" / f"p{index}.png", (64, 48), seed=index)
    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(
        "version: 1\nbackend: nemo\ninputs: ['photos/*.png']\nsteps:\n  - animate: {motion: zoom-in, duration: 1}\n"
        "export: {aspect: '1:1', resolution: 480p, fps: 30, quality: low, format: gif}\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("JOYPIX_HOME", str(tmp_path / "home"))
    args = ["run", str(recipe), "--base-url", emulator.base_url, "--poll-interval", "0.05", "--out", str(tmp_path / "out")]
    assert main(args) == 0
    said = capsys.readouterr()
    assert (said.out + said.err).count("the cloud exports MP4: gif files are made on this machine") == 1
    for index in range(2):
        gif = tmp_path / "out" / f"p{index}.gif"
        with av.open(str(gif)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            assert (stream.codec_context.name, frames) == ("gif", 20)  # the emulator's 1 s at 30 fps, thinned to 20
        with Image.open(gif) as image:
            assert image.size == (480, 480) and image.info["loop"] == 0
        with Image.open(tmp_path / "out" / f"p{index}.jpg") as poster:
            assert poster.format == "JPEG"
    assert not list((tmp_path / "out").glob("*.mp4"))
    assert not [path for path in (tmp_path / "out").rglob("*") if path.name.endswith(".partial")]
