"""The cloud backend: a job becomes a JoyPix session, one agent turn per step, a render and a download.

A lost session (1002) is rebuilt by re-uploading and replaying the steps done so far; a render id is
checkpointed right after its POST so a crashed run re-attaches instead of paying again.
Also ``fetch_credits`` and ``fetch_status`` for ``joypix credits`` / ``joypix status``.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from joypix_recipes.actions import Action, Audio, Prompt, Reframe, action_kind
from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.codes import RenderNotFound
from joypix_recipes.api.home import last_session
from joypix_recipes.api.models import RenderStatus, TurnResult
from joypix_recipes.api.settings import ClientSettings, resolve_settings
from joypix_recipes.api.wording import translate_reply
from joypix_recipes.atomic import atomic_path
from joypix_recipes.backends import BackendOptions, JobReporter, JobResult, Resume
from joypix_recipes.draft import Draft
from joypix_recipes.errors import (
    DraftError,
    JoypixError,
    ProtocolError,
    RenderError,
    SessionLostError,
    UsageError,
)
from joypix_recipes.export import fps_value, frame_size
from joypix_recipes.job import Job, job_identity, output_metadata

log = logging.getLogger("joypix_recipes.backends.nemo")

DEFAULT_CONCURRENCY = 8
MAX_SESSION_LOSSES = 3


def settings_from_options(options: BackendOptions, **overrides: Any) -> ClientSettings:
    """Client settings from the backend options, then JOYPIX_* variables, then the defaults."""
    return resolve_settings(
        base_url=options.base_url,
        poll_interval=options.poll_interval,
        language=options.language,
        home=options.home,
        **overrides,
    )


class NemoBackend:
    """Runs jobs on the JoyPix cloud agent (or the emulator) through one shared ``NemoClient``."""

    name = "nemo"

    def __init__(self, options: BackendOptions, *, settings: ClientSettings | None = None) -> None:
        self.options = options
        self.settings = settings or settings_from_options(options)
        self._client: NemoClient | None = None

    @property
    def default_concurrency(self) -> int:
        """Jobs at once: each waits on the network, not the CPU."""
        return DEFAULT_CONCURRENCY

    @property
    def client(self) -> NemoClient:
        """The shared client, created on first use."""
        if self._client is None:
            self._client = NemoClient(self.settings)
        return self._client

    async def run_job(self, job: Job, reporter: JobReporter, resume: Resume | None = None) -> JobResult:
        """Make ``job.output`` and its poster on the cloud; NoCreditsError stops the run."""
        return await _CloudJob(self.client, job, reporter).run(resume)

    async def aclose(self) -> None:
        """Close the client's connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class _CloudJob:
    """One job's walk through session, uploads, turns, render and download."""

    def __init__(self, client: NemoClient, job: Job, reporter: JobReporter) -> None:
        self.client = client
        self.job = job
        self.reporter = reporter
        self.session_id: str | None = None
        self.steps_done = 0
        self.audio_names: dict[str, str] = {}
        self.replies: list[str] = []
        self.warnings: list[str] = []

    async def run(self, resume: Resume | None) -> JobResult:
        if resume is not None and resume.render_id:
            attached = await self._reattach(resume)
            if attached is not None:
                return attached
        render_id, draft = await self._edit_and_post()
        return await self._finish(render_id, draft)

    # ---- editing ---------------------------------------------------------------------------------

    async def _edit_and_post(self) -> tuple[str, dict[str, Any]]:
        losses = 0
        while True:
            try:
                if self.session_id is None:
                    await self._open_session()
                while self.steps_done < len(self.job.steps):
                    await self._step(self.steps_done)
                    self.steps_done += 1
                assert self.session_id is not None
                draft = self._export_draft((await self.client.state(self.session_id)).draft)
                self.reporter.stage("starting the export")
                render_id = await self.client.start_render(self.session_id, draft, self.job.export.quality)
                self.reporter.checkpoint(session_id=self.session_id, render_id=render_id)
                return render_id, draft
            except SessionLostError:
                losses += 1
                if losses > MAX_SESSION_LOSSES:
                    raise
                self._warn(
                    f"the editing session was lost; starting a new one and replaying {self.steps_done} step(s)"
                )
                self.session_id = None

    async def _open_session(self) -> None:
        self.reporter.stage("starting a session")
        session = await self.client.create_session()
        self.session_id = session.session_id
        self.reporter.checkpoint(session_id=session.session_id)
        self.reporter.stage(f"uploading {self.job.input.name}")
        source = self.job.input
        if source.path is not None:
            await self.client.upload_file(session.session_id, source.path)
        else:
            await self.client.upload_url(session.session_id, str(source.url))
        self.audio_names = {}  # names belong to a session: a new session uploads them again
        for step in self.job.steps:
            action = step.action
            if isinstance(action, Audio) and Path(action.file).is_absolute() and action.file not in self.audio_names:
                self.reporter.stage(f"uploading {Path(action.file).name}")
                media = await self.client.upload_file(session.session_id, Path(action.file))
                self.audio_names[action.file] = media.name
        for index in range(self.steps_done):
            await self._step(index, replay=True)

    async def _step(self, index: int, replay: bool = False) -> None:
        assert self.session_id is not None
        step = self.job.steps[index]
        label = f"step {index + 1}/{len(self.job.steps)}: {step.name or action_kind(step.action)}"
        self.reporter.stage(f"replaying {label}" if replay else label)

        def on_reply(text: str) -> None:
            translated = translate_reply(text)
            if not replay:
                self.replies.append(translated)
                self.reporter.reply(translated)

        def on_still_working(elapsed: float) -> None:
            self.reporter.stage(f"{label}: still working ({elapsed / 60:.0f} min)")

        result = await self.client.turn(
            self.session_id, self._prompt(step.action), on_reply=on_reply, on_still_working=on_still_working
        )
        if not replay and not result.replies:
            self._report_silent_turn(label, result)

    def _prompt(self, action: Action) -> str:
        if isinstance(action, Prompt):
            return action.text
        from joypix_recipes.backends.prompts import prompt_for

        audio_name = self.audio_names.get(action.file) if isinstance(action, Audio) else None
        return prompt_for(action, audio_name=audio_name)

    def _report_silent_turn(self, label: str, result: TurnResult) -> None:
        """About 30% of turns carry no text: say what changed in the draft instead."""
        change = describe_change(result.before, result.after)
        if change is None:
            self._warn(f"{label}: the agent did not reply and the timeline did not change")
            return
        text = f"{label}: {change}"
        self.replies.append(text)
        self.reporter.reply(text)

    def _export_draft(self, draft: dict[str, Any] | None) -> dict[str, Any]:
        """The draft to render, with the job's frame size, fps and seed unless a step reframed it."""
        if not draft:
            raise ProtocolError(f"{self.job.label}: the session has no timeline after the steps")
        try:
            Draft.from_json(draft)
        except DraftError as error:
            raise ProtocolError(f"{self.job.label}: the service's timeline is not a valid draft ({error})") from error
        patched = copy.deepcopy(draft)
        meta = patched.setdefault("m", {})
        # The service starts every project at its own size and keeps its own resolution when a prompt
        # changes only the aspect; the job's settings and steps decide, exactly as on the local backend.
        meta["w"], meta["h"] = intended_frame_size(self.job)
        meta["fps"] = fps_value(self.job.export.fps)
        meta["seed"] = self.job.seed
        return patched

    # ---- render and download ---------------------------------------------------------------------

    async def _reattach(self, resume: Resume) -> JobResult | None:
        assert resume.render_id is not None
        self.reporter.stage("re-attaching to the previous export")
        try:
            status = await self.client.render_status(resume.render_id)
        except RenderNotFound:
            self._warn("the previous export is unknown to the service; starting the job again")
            return None
        if status.status == "failed":
            self._warn("the previous export had failed; starting the job again")
            return None
        draft: dict[str, Any] = {}
        if resume.session_id:
            try:
                draft = (await self.client.state(resume.session_id)).draft or {}
            except JoypixError:
                draft = {}
        self.session_id = resume.session_id
        # The session's draft is not the one posted (that had the job's geometry), so no size check.
        return await self._finish(resume.render_id, draft, posted=False)

    async def _finish(self, render_id: str, draft: dict[str, Any], posted: bool = True) -> JobResult:
        def on_progress(status: RenderStatus) -> None:
            self.reporter.stage(f"rendering {status.progress:.0f}%")

        url = await self.client.wait_for_render(render_id, on_progress)
        self.reporter.stage("downloading")
        output = self.job.output
        with atomic_path(output) as temp:
            await self.client.download(url, temp)
            facts = await asyncio.to_thread(check_video, temp, self.job.label)
            await asyncio.to_thread(_write_metadata, temp, self._metadata(render_id))
        meta = draft.get("m") if posted and isinstance(draft.get("m"), dict) else None
        if meta and (meta.get("w"), meta.get("h")) != (facts.width, facts.height):
            self._warn(
                f"the service exported {facts.width}x{facts.height} instead of the {meta.get('w')}x{meta.get('h')} asked for"
            )
        poster = await asyncio.to_thread(write_poster, output, self.job.label, draft)
        return JobResult(
            output=output,
            poster=poster,
            summary=summarize(draft),
            duration_s=facts.duration_s,
            replies=tuple(self.replies),
            warnings=tuple(self.warnings),
            draft_json=draft,
        )

    def _metadata(self, render_id: str) -> dict[str, str]:
        # Standard tags only: the MP4 muxer drops custom keys.
        return output_metadata(self.job, job_identity(self.job))

    def _warn(self, message: str) -> None:
        self.warnings.append(message)
        self.reporter.warn(message)


def describe_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str | None:
    """What a turn changed in the draft, from the two summaries; None when nothing changed."""
    if after is None or after == before:
        return None
    new = summarize(after)
    old = summarize(before) if before else ""
    added = [part for part in _parts(new) if part not in _parts(old)]
    removed = [part for part in _parts(old) if part not in _parts(new)]
    pieces = []
    if added:
        pieces.append("added " + "; ".join(added))
    if removed:
        pieces.append("removed " + "; ".join(removed))
    detail = ", ".join(pieces) if pieces else "changed settings"
    return f"no reply from the agent; the timeline changed ({detail}). {new}"


def _parts(summary: str) -> list[str]:
    body = summary.partition(": ")[2]
    return [part.strip() for part in re.split(r"(?:^|\s)\d+\.\s", body) if part.strip()]


def summarize(draft: dict[str, Any] | None) -> str:
    """The reference's one-line timeline summary of a draft, or a note when there is none."""
    if not draft:
        return "Timeline (0 tracks): empty"
    try:
        return Draft.from_json(draft).summary()
    except DraftError:
        return "Timeline: not in a format joypix can summarise"


@dataclass(frozen=True)
class VideoFacts:
    """What the downloaded file turned out to be."""

    width: int
    height: int
    duration_s: float


def check_video(path: Path, label: str) -> VideoFacts:
    """Check that ``path`` decodes as an MP4 video (every frame); returns its size and duration."""
    try:
        from joypix_recipes.render.probe import probe_video
    except ImportError:
        return _decode_facts(path, label)
    try:
        info = probe_video(path)
    except Exception as error:
        raise RenderError(f"{label}: the downloaded video does not decode as MP4; run the job again") from error
    return VideoFacts(info.width, info.height, info.duration_s)


def _decode_facts(path: Path, label: str) -> VideoFacts:
    import av

    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            frames = sum(1 for _ in container.decode(stream))
            rate = float(stream.average_rate or 0) or 30.0
            return VideoFacts(stream.codec_context.width, stream.codec_context.height, frames / rate)
    except (av.FFmpegError, IndexError, OSError) as error:
        raise RenderError(f"{label}: the downloaded video does not decode as MP4; run the job again") from error


def _write_metadata(path: Path, metadata: dict[str, str]) -> None:
    try:
        from joypix_recipes.render.video import write_metadata
    except ImportError:
        return
    write_metadata(path, metadata)


def poster_index(frame_count: int, draft: dict[str, Any]) -> int:
    """The local renderer's choice: a third of the way in, and after any fade from black."""
    meta = draft.get("m") if isinstance(draft.get("m"), dict) else {}
    fps = meta.get("fps", 30) if meta else 30
    fade_ms = meta.get("fi", 0) if meta else 0
    fade_frames = round(fade_ms * fps / 1000) if isinstance(fade_ms, (int, float)) and isinstance(fps, (int, float)) else 0
    return max(0, min(frame_count - 1, max(frame_count // 3, fade_frames)))


def write_poster(video: Path, label: str, draft: dict[str, Any] | None = None) -> Path:
    """Save one frame of ``video`` (as the local renderer picks it) as ``<stem>.jpg`` beside it."""
    import av

    poster = video.with_suffix(".jpg")
    try:
        with av.open(str(video)) as container:
            frames = [frame.to_image() for frame in container.decode(video=0)]  # type: ignore[no-untyped-call]
        image = frames[poster_index(len(frames), draft or {})]
        with atomic_path(poster) as temp:
            image.save(temp, format="JPEG", quality=90)
    except (av.FFmpegError, IndexError, OSError) as error:
        raise RenderError(f"{label}: cannot extract a poster frame from the video") from error
    return poster


# ---- commands ------------------------------------------------------------------------------------


async def fetch_credits(options: BackendOptions) -> dict[str, int]:
    """The account's balance: ``available``, ``frozen`` and ``total`` credits."""
    async with NemoClient(settings_from_options(options)) as client:
        credits = await client.credits()
    return {"available": credits.available, "frozen": credits.frozen, "total": credits.total}


async def fetch_status(options: BackendOptions, session_id: str | None) -> str:
    """The session's timeline summary; without an id, the last session this machine used."""
    settings = settings_from_options(options)
    session = session_id or last_session(settings.home, settings.base_url)
    if session is None:
        raise UsageError(f"no session recorded yet for {settings.base_url}; pass a session id or run a nemo recipe")
    async with NemoClient(settings) as client:
        state = await client.state(session)
    if not state.draft:
        return "Timeline (0 tracks): empty"
    try:
        return Draft.from_json(state.draft).summary()
    except DraftError as error:
        raise ProtocolError(f"session {session}: the service's timeline is not a valid draft ({error})") from error


__all__ = ["NemoBackend", "VideoFacts", "check_video", "describe_change", "fetch_credits", "fetch_status", "write_poster"]


def intended_frame_size(job: Job) -> tuple[int, int]:
    """The frame size a job's export and steps ask for, worked out as the local backend does."""
    from joypix_recipes.interpret import interpret_prompt

    aspect, resolution = str(job.export.aspect), str(job.export.resolution)
    for step in job.steps:
        action = step.action
        actions = interpret_prompt(action.text).actions if isinstance(action, Prompt) else (action,)
        for reframe in (a for a in actions if isinstance(a, Reframe)):
            aspect = reframe.aspect or aspect
            resolution = reframe.resolution or resolution
    return frame_size(aspect, resolution)
