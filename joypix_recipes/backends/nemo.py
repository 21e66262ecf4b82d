"""The cloud backend: a job becomes a JoyPix session, one agent turn per step, a render and a download.

The service's draft goes back to it untouched; the frame size, aspect and fps are asked for in words
(with the first step) and in the render's ``output`` settings (docs/protocol.md). Every paid request
(upload, turn, render) is written to the job's ledger before it is sent; the next attempt settles the
ledger with the service and pays only for what is proven never to have arrived (docs/protocol.md,
"The ledger"). A lost session (1002) is rebuilt by re-uploading and replaying the steps done so far.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from joypix_recipes.api.client import NemoClient, new_render_id
from joypix_recipes.api.codes import RenderNotFound
from joypix_recipes.api.models import RenderStatus, SessionState, TurnResult
from joypix_recipes.api.settings import ClientSettings
from joypix_recipes.api.wording import translate_reply
from joypix_recipes.backends.contract import BackendOptions, JobReporter, JobResult, Ledger, Upload
from joypix_recipes.backends.nemo_fetch import fetch_export
from joypix_recipes.backends.nemo_output import CLOUD_FORMAT, VideoFacts, check_video, finish_download, save_poster
from joypix_recipes.backends.nemo_settings import settings_from_options
from joypix_recipes.backends.nemo_spend import SpendPlan, describe_plan, job_basis, plan_spend, step_fingerprint
from joypix_recipes.backends.prompts import format_request, prompt_for, sequence_request
from joypix_recipes.errors import (
    JoypixError,
    ProtocolError,
    SessionLostError,
    StepInDoubtError,
)
from joypix_recipes.job.actions import Audio, Overlay, Prompt, Reframe, action_kind
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
        self._said_made_locally = False

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

    async def prepare(self) -> None:
        """Build the client and read the cached credentials while the runner hashes the inputs.

        Nothing is sent (a run whose jobs are all done asks the service nothing); an unreadable cache is
        left for the first request to meet and report.
        """
        if self._client is None:
            # Built in a thread: the first TLS context and the connection pools cost a good part of a
            # second of CPU on a slow machine, which the event loop would spend before any request.
            self._client = await asyncio.to_thread(NemoClient, self.settings)
        with contextlib.suppress(JoypixError, OSError):
            await self._client.prepare()

    async def run_job(self, job: Job, reporter: JobReporter, paid: Ledger | None = None) -> JobResult:
        """Make ``job.output`` and its poster on the cloud, paying only for what ``paid`` does not hold.

        NoCreditsError stops the run.
        """
        if job.export.format != CLOUD_FORMAT and not self._said_made_locally:
            self._said_made_locally = True  # once a run: it holds for every such job
            reporter.warn(
                f"the cloud exports MP4: {job.export.format} files are made on this machine from the downloaded MP4"
            )
        return await _CloudJob(self.client, job, reporter).run(paid)

    def describe_spending(self, job: Job, input_hash: str, paid: Ledger | None) -> str | None:
        """Which steps are already in a recorded session and which turns and render will be paid."""
        return describe_plan(plan_spend(job, input_hash, paid))

    async def aclose(self) -> None:
        """Close the client's connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


class _CloudJob:
    """One job's walk through session, uploads, turns, render and download, paying for each once.

    ``ledger`` is what the job's session holds; every entry goes to the reporter before the paid
    request it stands for, so a killed run leaves a ledger that the next attempt settles with the
    service (``_settle``) instead of paying again.
    """

    def __init__(self, client: NemoClient, job: Job, reporter: JobReporter) -> None:
        self.client = client
        self.job = job
        self.reporter = reporter
        self.basis = job_basis(job, reporter.input_hash)
        self.ledger = Ledger()
        self.render_id: str | None = None
        """A render of this exact timeline that the service has (found while settling)."""
        self.repost_id: str | None = None
        """A recorded render id the service proved it never received: posted again under the same id."""
        self.turns_done = 0
        """Steps whose turn ended, in this attempt or an earlier one."""
        self.replaying = 0
        """Steps being sent again after a lost session: their replies were already shown once."""
        self.known: SessionState | None = None
        """The session's state as read after the last turn, while nothing has been sent to it since."""
        self.rendered_draft: dict[str, Any] | None = None
        """The draft this attempt posted for its render (what the poster's timing and the summary read)."""

    @property
    def session_id(self) -> str | None:
        return self.ledger.session_id

    def _forget_session(self) -> None:
        """The session is gone (1002): nothing it held can be reused, and a new one starts from nothing."""
        self.ledger, self.render_id, self.repost_id, self.turns_done = Ledger(), None, None, 0
        self.known = None

    async def _record(self, ledger: Ledger) -> None:
        # Kept durably (a synced write) before the paid request it stands for: off the event loop, where
        # the disk's pace would hold up every other job's turns and polls.
        await asyncio.to_thread(self.reporter.record, ledger)
        self.ledger = ledger

    async def run(self, paid: Ledger | None) -> JobResult:
        plan = plan_spend(self.job, self.reporter.input_hash, paid)
        if plan.reuses and paid is not None:
            try:
                await self._settle(paid, plan)
            except SessionLostError:
                self.reporter.warn("the session an earlier attempt paid for is gone; starting a new one")
                self._forget_session()
        elif plan.retired:
            log.info("%s: not continuing the recorded session (%s)", self.job.label, plan.retired)
        render_id = await self._edit_and_post()
        return await self._finish(render_id)

    # ---- settling what earlier attempts paid for -------------------------------------------------

    async def _settle(self, paid: Ledger, plan: SpendPlan) -> None:
        """Take over ``paid``'s session, learning from the service which of its paid requests landed."""
        self.ledger = paid
        assert plan.session_id is not None
        self.reporter.stage("checking what earlier attempts paid for")
        if plan.render_id is not None:
            await self._settle_render(plan.render_id)
            if self.render_id is not None:
                return  # the render of this very timeline exists: nothing else is needed from the session
        state = await self.client.state(plan.session_id)  # SessionLostError when the session is gone
        await self._settle_uploads(state)
        # A render is recorded only after every turn has ended, so then the turns need no settling.
        if self.ledger.steps and paid.render_id is None:
            await self._settle_last_step()
        self.turns_done = len(self.ledger.steps)
        self.reporter.stage(
            f"continuing session: {len(self.ledger.steps)} of {len(self.job.steps)} step(s) already applied"
        )

    async def _settle_uploads(self, state: SessionState) -> None:
        for upload in self.ledger.uploads:
            if upload.name is not None:
                continue
            assert self.session_id is not None
            landed = await self.client.find_upload(self.session_id, _service_name(upload.source), state)
            if landed is None:
                log.info("%s: the service never received %s; it is uploaded again", self.job.label, upload.source)
                await self._record(replace(self.ledger, uploads=tuple(u for u in self.ledger.uploads if u != upload)))
            else:
                await self._record(self.ledger.with_upload(Upload(upload.source, landed.name)))

    async def _settle_last_step(self) -> None:
        """The last recorded turn may not have reached the agent: ask the agent server's own record."""
        assert self.session_id is not None
        index = len(self.ledger.steps) - 1
        text = self._prompt_text(index)
        times = sum(1 for earlier in range(index + 1) if self._prompt_text(earlier) == text)
        landing = await self.client.turn_landing(self.session_id, text, times)
        if landing.arrived is None:
            raise StepInDoubtError(
                f"step {index + 1} of an earlier attempt may or may not have reached the agent, and the service "
                "cannot say; it was not sent again so it is not paid twice; run the job again later"
            )
        if not landing.arrived:
            log.info("%s: step %d never reached the agent; it is sent again", self.job.label, index + 1)
            await self._record(replace(self.ledger, steps=self.ledger.steps[:index]))
            return
        deadline = time.monotonic() + self.client.settings.turn_deadline_s
        while not landing.finished and time.monotonic() < deadline:
            # The agent is still working on it (the run that sent it was killed): let it finish first.
            self.reporter.stage(f"waiting for step {index + 1} of an earlier attempt to finish")
            await asyncio.sleep(self.client.settings.poll_interval_s)
            landing = await self.client.turn_landing(self.session_id, text, times)

    async def _settle_render(self, render_id: str) -> None:
        self.reporter.stage("re-attaching to the recorded export")
        status = await self._poll_recorded(render_id)
        if status is None:
            log.info("%s: the service never received render %s; posting it again", self.job.label, render_id)
            self.repost_id = render_id
        elif status.phase == "failed":
            self.reporter.warn("the recorded export had failed; exporting again (a failed export is not charged)")
            await self._record(self.ledger.with_render(None))
        else:
            self.render_id = render_id

    async def _poll_recorded(self, render_id: str) -> RenderStatus | None:
        """The recorded render's status; None only when the service proves it never received it."""
        assert self.session_id is not None
        try:
            return await self.client.render_status(render_id)
        except RenderNotFound:
            # A POST still in flight when its run was killed may land meanwhile: the client's one rule decides.
            if not await self.client.render_known(render_id, self.session_id):
                return None
        return await self.client.render_status(render_id)

    # ---- editing ---------------------------------------------------------------------------------

    async def _edit_and_post(self) -> str:
        losses = 0
        while True:
            try:
                if self.session_id is None:
                    await self._open_session()
                await self._upload_inputs()
                while len(self.ledger.steps) < len(self.job.steps):
                    await self._step(len(self.ledger.steps))
                if self.render_id is not None:
                    return self.render_id
                return await self._post_render()
            except SessionLostError:
                losses += 1
                if losses > MAX_SESSION_LOSSES:
                    raise
                self.reporter.warn(
                    f"the editing session was lost; starting a new one and replaying {self.turns_done} step(s)"
                )
                self.replaying = self.turns_done
                self._forget_session()

    async def _open_session(self) -> None:
        self.reporter.stage("starting a session")
        session = await self.client.create_session()
        # Kept with the first upload's entry, the first paid request: a session is free, and one lost to a
        # run killed before that write is only an empty session.
        self.ledger = Ledger().with_session(session.session_id, self.basis)

    async def _upload_inputs(self) -> None:
        source = self.job.input
        if source.path is None:
            await self._upload(f"url:{source.url}", None, str(source.url))
            return
        # A group's images all go into this one session, in order: the agent lays them out as uploaded.
        for number, image in enumerate(source.files, start=1):
            await self._upload(f"image {number}:{image.name}", image, image.name)

    async def _upload(self, source: str, path: Path | None, shown: str) -> str:
        """Upload once: the service's name for the file, from the ledger when an earlier attempt sent it."""
        known = self.ledger.upload_named(source)
        if known is not None and known.name is not None:
            return known.name
        assert self.session_id is not None
        await self._record(self.ledger.with_upload(Upload(source)))
        self.known = None  # an upload may change the draft
        self.reporter.stage(f"uploading {Path(shown).name}")
        if path is None:
            media = await self.client.upload_url(self.session_id, shown)
        else:
            media = await self.client.upload_file(self.session_id, path)
        # Kept with the next paid request's entry, not a synced write of its own: a run killed before that
        # write leaves the upload unnamed, and the next attempt finds it in the session's state instead.
        self.ledger = self.ledger.with_upload(Upload(source, media.name))
        return media.name

    async def _step(self, index: int) -> None:
        assert self.session_id is not None
        step = self.job.steps[index]
        action = step.action
        if isinstance(action, Audio) and Path(action.file).is_absolute():
            await self._upload(_audio_source(action.file), Path(action.file), action.file)
        if isinstance(action, Overlay) and Path(action.image).is_absolute():
            await self._upload(_overlay_source(action.image), Path(action.image), action.image)
        replay = index < self.replaying
        label = f"step {index + 1}/{len(self.job.steps)}: {step.name or action_kind(action)}"
        self.reporter.stage(f"replaying {label}" if replay else label)

        def on_reply(text: str) -> None:
            translated = translate_reply(text)
            if not replay:
                self.reporter.reply(translated)

        def on_still_working(elapsed: float) -> None:
            self.reporter.stage(f"{label}: still working ({elapsed / 60:.0f} min)")

        prompt = self._prompt_text(index)
        await self._record(self.ledger.with_step(step_fingerprint(step)))
        before, self.known = self.known, None
        result = await self.client.turn(
            self.session_id, prompt, on_reply=on_reply, on_still_working=on_still_working, before=before
        )
        # A turn that said nothing (or left doubt) had its state read after it: the next turn's "before".
        self.known = result.state_after
        self.turns_done = index + 1
        if not replay and not result.replies:
            self._report_silent_turn(label, result)

    def _prompt_text(self, index: int) -> str:
        """Exactly what step ``index`` says to the agent (the same words on every attempt)."""
        action = self.job.steps[index].action
        if isinstance(action, Prompt):
            prompt = action.text
        else:
            upload = self.ledger.upload_named(_audio_source(action.file)) if isinstance(action, Audio) else None
            audio_name = upload.name if upload is not None else None
            layer = self.ledger.upload_named(_overlay_source(action.image)) if isinstance(action, Overlay) else None
            prompt = prompt_for(
                action,
                audio_name=audio_name,
                images=len(self.job.input.files) or 1,
                overlay_name=layer.name if layer is not None else None,
            )
        if index == 0:  # the frame the job wants, in words, with the first step rather than a turn of its own
            export = self.job.export
            order = sequence_request(len(self.job.input.images)) if self.job.input.images else ""
            prompt = " ".join(
                part for part in (format_request(export.aspect, export.resolution, export.fps), order, prompt) if part
            )
        return prompt

    def _report_silent_turn(self, label: str, result: TurnResult) -> None:
        """About 30% of turns carry no text: say what changed in the draft instead."""
        change = describe_change(result.before, result.after)
        if change is None:
            self.reporter.warn(f"{label}: the agent did not reply and the timeline did not change")
            return
        self.reporter.reply(f"{label}: {change}")

    async def _post_render(self) -> str:
        assert self.session_id is not None
        # The state read after a silent last turn is the one to render; otherwise the draft is read now.
        state = self.known or await self.client.state(self.session_id)
        if not state.draft:
            raise ProtocolError(f"{self.job.label}: the session has no timeline after the steps")
        self.rendered_draft = state.draft
        render_id = self.repost_id or new_render_id()
        # Kept before the POST leaves: a run killed while it is in flight finds the render by this id.
        await self._record(self.ledger.with_render(render_id))
        self.reporter.stage("starting the export")
        # The session's draft, exactly as the service gave it: it goes back to the service untouched.
        return await self.client.start_render(
            self.session_id, state.draft_to_send, render_output(self.job), render_id=render_id
        )

    # ---- render and download ---------------------------------------------------------------------

    async def _finish(self, render_id: str) -> JobResult:
        draft: dict[str, Any] = self.rendered_draft or {}
        if self.rendered_draft is None and self.session_id is not None:
            # A render an earlier attempt posted: its draft is the session's.
            with contextlib.suppress(JoypixError):  # only the poster's timing and the summary read it
                draft = (await self.client.state(self.session_id)).draft or {}
        output = self.job.output
        finished = await fetch_export(
            self.client,
            render_id,
            output,
            lambda temp: finish_download(temp, self.job, self.reporter.identity, draft),
            self.reporter.stage,
            just_posted=self.rendered_draft is not None,
        )
        facts = finished.facts
        poster = await asyncio.to_thread(save_poster, finished.frame, output, self.reporter.identity, self.job.label)
        wanted = intended_frame_size(self.job)
        if (facts.width, facts.height) != wanted:
            self.reporter.warn(
                f"the service exported {facts.width}x{facts.height} instead of the {wanted[0]}x{wanted[1]} asked for"
            )
        return JobResult(
            output=output,
            poster=poster,
            summary=summarize_timeline(draft),
            duration_s=facts.duration_s,
            draft_json=draft,
            thumbnail=finished.thumbnail,
        )


def _audio_source(file: str) -> str:
    return f"audio:{Path(file).name}"


def _overlay_source(file: str) -> str:
    return f"overlay:{Path(file).name}"


def _service_name(source: str) -> str:
    """The file name the service lists an upload under, from its ledger source."""
    kind, _, rest = source.partition(":")
    if kind == "url":
        return PurePosixPath(rest.split("?")[0].rstrip("/")).name
    return rest


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
