"""The cloud backend: a job becomes a JoyPix session, one agent turn per step, a render and a download.

The service's draft goes back to it untouched; the frame size, aspect and fps are asked for in words
(with the first step) and in the render's ``output`` settings (docs/protocol.md). A lost session (1002)
is rebuilt by re-uploading and replaying the steps done so far; a render id is checkpointed right
after its POST so a crashed run re-attaches instead of paying again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import Any

from joypix_recipes.api.client import NemoClient
from joypix_recipes.api.codes import RenderNotFound
from joypix_recipes.api.models import RenderStatus, TurnResult
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.api.wording import translate_reply
from joypix_recipes.atomic import atomic_path
from joypix_recipes.backends.contract import BackendOptions, JobReporter, JobResult, Resume
from joypix_recipes.backends.nemo_output import VideoFacts, check_video, finish_download, save_poster
from joypix_recipes.backends.nemo_settings import settings_from_options
from joypix_recipes.backends.prompts import format_request, prompt_for, sequence_request
from joypix_recipes.errors import JoypixError, ProtocolError, SessionLostError
from joypix_recipes.job.actions import Action, Audio, Prompt, Reframe, action_kind
from joypix_recipes.job.export import fps_value, frame_size
from joypix_recipes.job.model import Job
from joypix_recipes.timeline.draft import summarize_timeline, timeline_parts

log = logging.getLogger("joypix_recipes.backends.nemo")

DEFAULT_CONCURRENCY = 8
MAX_SESSION_LOSSES = 3


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
                render_id = await self.client.start_render(self.session_id, draft, render_output(self.job))
                self.reporter.checkpoint(session_id=self.session_id, render_id=render_id)
                return render_id, draft
            except SessionLostError:
                losses += 1
                if losses > MAX_SESSION_LOSSES:
                    raise
                self.reporter.warn(
                    f"the editing session was lost; starting a new one and replaying {self.steps_done} step(s)"
                )
                self.session_id = None

    async def _open_session(self) -> None:
        self.reporter.stage("starting a session")
        session = await self.client.create_session()
        self.session_id = session.session_id
        self.reporter.checkpoint(session_id=session.session_id)
        source = self.job.input
        if source.path is not None:
            # A group's images all go into this one session, in order: the agent lays them out as uploaded.
            for image in source.files:
                self.reporter.stage(f"uploading {image.name}")
                await self.client.upload_file(session.session_id, image)
        else:
            self.reporter.stage(f"uploading {source.name}")
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
                self.reporter.reply(translated)

        def on_still_working(elapsed: float) -> None:
            self.reporter.stage(f"{label}: still working ({elapsed / 60:.0f} min)")

        prompt = self._prompt(step.action)
        if index == 0:  # the frame the job wants, in words, with the first step rather than a turn of its own
            export = self.job.export
            order = sequence_request(len(self.job.input.images)) if self.job.input.images else ""
            prompt = " ".join(
                part for part in (format_request(export.aspect, export.resolution, export.fps), order, prompt) if part
            )
        result = await self.client.turn(self.session_id, prompt, on_reply=on_reply, on_still_working=on_still_working)
        if not replay and not result.replies:
            self._report_silent_turn(label, result)

    def _prompt(self, action: Action) -> str:
        if isinstance(action, Prompt):
            return action.text
        audio_name = self.audio_names.get(action.file) if isinstance(action, Audio) else None
        return prompt_for(action, audio_name=audio_name, images=len(self.job.input.files) or 1)

    def _report_silent_turn(self, label: str, result: TurnResult) -> None:
        """About 30% of turns carry no text: say what changed in the draft instead."""
        change = describe_change(result.before, result.after)
        if change is None:
            self.reporter.warn(f"{label}: the agent did not reply and the timeline did not change")
            return
        self.reporter.reply(f"{label}: {change}")

    def _export_draft(self, draft: dict[str, Any] | None) -> dict[str, Any]:
        """The session's draft, exactly as the service gave it: it goes back to the service untouched."""
        if not draft:
            raise ProtocolError(f"{self.job.label}: the session has no timeline after the steps")
        return draft

    # ---- render and download ---------------------------------------------------------------------

    async def _reattach(self, resume: Resume) -> JobResult | None:
        assert resume.render_id is not None
        self.reporter.stage("re-attaching to the previous export")
        try:
            status = await self.client.render_status(resume.render_id)
        except RenderNotFound:
            self.reporter.warn("the previous export is unknown to the service; starting the job again")
            return None
        if status.phase == "failed":
            self.reporter.warn("the previous export had failed; starting the job again")
            return None
        draft: dict[str, Any] = {}
        if resume.session_id:
            try:
                draft = (await self.client.state(resume.session_id)).draft or {}
            except JoypixError:
                draft = {}
        self.session_id = resume.session_id
        return await self._finish(resume.render_id, draft)

    async def _finish(self, render_id: str, draft: dict[str, Any]) -> JobResult:
        def on_progress(status: RenderStatus) -> None:
            self.reporter.stage(f"rendering {status.progress:.0f}%")

        url = await self.client.wait_for_render(render_id, on_progress)
        self.reporter.stage("downloading")
        output = self.job.output
        # File work (fsync, rename, decoding, hashing) runs in threads: on the event loop it would
        # stall every other job's turns and polls.
        finished = contextlib.ExitStack()
        temp = await asyncio.to_thread(finished.enter_context, atomic_path(output))
        try:
            await self.client.download(url, temp)
            facts, frame = await asyncio.to_thread(finish_download, temp, self.job, self.reporter.identity, draft)
        except BaseException as error:
            finished.__exit__(type(error), error, error.__traceback__)
            raise
        await asyncio.to_thread(finished.close)
        poster = await asyncio.to_thread(save_poster, frame, output, self.reporter.identity, self.job.label)
        wanted = intended_frame_size(self.job)
        if (facts.width, facts.height) != wanted:
            self.reporter.warn(f"the service exported {facts.width}x{facts.height} instead of the {wanted[0]}x{wanted[1]} asked for")
        return JobResult(
            output=output,
            poster=poster,
            summary=summarize_timeline(draft),
            duration_s=facts.duration_s,
            draft_json=draft,
        )


def describe_change(before: dict[str, Any] | None, after: dict[str, Any] | None) -> str | None:
    """What a turn changed in the draft, segment by segment; None when nothing changed."""
    if after is None or after == before:
        return None
    _, new_parts = timeline_parts(after)
    _, old_parts = timeline_parts(before)
    added = [part for part in new_parts if part not in old_parts]
    removed = [part for part in old_parts if part not in new_parts]
    pieces = []
    if added:
        pieces.append("added " + "; ".join(added))
    if removed:
        pieces.append("removed " + "; ".join(removed))
    detail = ", ".join(pieces) if pieces else "changed settings"
    return f"no reply from the agent; the timeline changed ({detail}). {summarize_timeline(after)}"


__all__ = [
    "NemoBackend",
    "VideoFacts",
    "check_video",
    "describe_change",
    "render_output",
]


def render_output(job: Job) -> dict[str, Any]:
    """The render's ``output`` settings: the documented format and quality, plus the frame the job wants."""
    aspect, resolution = intended_format(job)
    width, height = frame_size(aspect, resolution)
    return {
        "format": "mp4",
        "quality": job.export.quality,
        "aspect": aspect,
        "resolution": resolution,
        "width": width,
        "height": height,
        "fps": fps_value(job.export.fps),
    }


def intended_frame_size(job: Job) -> tuple[int, int]:
    """The frame size a job's export and steps ask for, worked out as the local backend does."""
    return frame_size(*intended_format(job))


def intended_format(job: Job) -> tuple[str, str]:
    """The aspect and resolution a job's export and steps ask for (a later reframe step wins)."""
    from joypix_recipes.timeline.interpret import interpret_prompt

    aspect, resolution = str(job.export.aspect), str(job.export.resolution)
    for step in job.steps:
        action = step.action
        actions = interpret_prompt(action.text).actions if isinstance(action, Prompt) else (action,)
        for reframe in (a for a in actions if isinstance(a, Reframe)):
            aspect = reframe.aspect or aspect
            resolution = reframe.resolution or resolution
    return aspect, resolution
