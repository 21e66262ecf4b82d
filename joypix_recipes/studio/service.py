"""The studio at work: plans the recipe again on every save or var change, hands the changed jobs to the
previewer, starts the final render when asked, and tells every open page after each change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joypix_recipes.studio.events import Broadcaster
from joypix_recipes.studio.planning import Reader, plan_recipe
from joypix_recipes.studio.renders import Previewer, render_finals
from joypix_recipes.studio.state import StudioState
from joypix_recipes.studio.watcher import FolderWatcher

if TYPE_CHECKING:
    from joypix_recipes.backends.contract import BackendOptions

log = logging.getLogger(__name__)

STATE_EVENT = "state"


class StudioService:
    """Owns the state, the watcher, the previewer and the final render, all on one event loop."""

    def __init__(
        self,
        recipe_path: Path,
        out_dir: Path,
        *,
        command_vars: Mapping[str, str],
        reader: Reader,
        options: BackendOptions | None = None,
    ) -> None:
        self.state = StudioState(recipe_path, out_dir, dict(command_vars), reader)
        self.events = Broadcaster()
        self._options = options
        self._previewer = Previewer(self.state, self.changed, options)
        self._watcher = FolderWatcher(recipe_path.resolve().parent, out_dir, self.replan_soon)
        self._tasks: set[asyncio.Task[None]] = set()
        self._planning = asyncio.Lock()
        self._render: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Plan the recipe, start drafting and start watching its folder."""
        self._spawn(self._previewer.run_forever())
        self._watcher.start()
        await self.replan()

    async def stop(self) -> None:
        """Stop watching and rendering (a final render still writes its report), and end the pages' streams."""
        self._watcher.stop()
        self.events.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def changed(self) -> None:
        """Send every page the new state."""
        self.events.publish(STATE_EVENT, self.state.snapshot_json())

    def replan_soon(self) -> None:
        """A file changed: plan again (on the loop, without waiting here)."""
        self._spawn(self.replan())

    async def replan(self) -> None:
        """Validate and plan the recipe again; drafts of the jobs whose identity changed are made."""
        async with self._planning:
            state = self.state
            planned = await asyncio.to_thread(plan_recipe, state.recipe_path, state.out_dir, state.var_overrides())
            changed = state.apply(planned)
        self.changed()
        self._previewer.want(changed)

    async def set_vars(self, values: Mapping[str, str]) -> None:
        """Plan with these vars instead of the recipe's (the file is not touched)."""
        self.state.form_vars = dict(values)
        await self.replan()

    def start_render(self) -> bool:
        """Render the finals of the jobs on the page; False when a render runs already or nothing can be rendered."""
        if self._render is not None and not self._render.done():
            return False
        jobs = self.state.planned.jobs
        if not jobs:
            return False
        self._render = self._spawn(render_finals(self.state, jobs, self.changed, self._options))
        return True

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("studio task failed", exc_info=task.exception())
