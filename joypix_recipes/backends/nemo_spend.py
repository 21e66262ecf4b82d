"""What a cloud job will pay for, given the ledger of what earlier attempts at its output paid.

Pure bookkeeping, no network: the cloud backend settles the plan against the service (a session may be
gone, a turn may never have arrived), and ``joypix run --dry-run`` shows it before anything is spent.

A session can be continued when the job's basis (input bytes, frame, frame rate) is the one it was
started with and its recorded steps are the first steps of the job: a recipe that only gained steps
at the end pays only for the new ones, then renders once.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from joypix_recipes.backends.ledger import Ledger
from joypix_recipes.job.kinds.registry import action_to_dict
from joypix_recipes.job.model import Job, PlannedStep


def job_basis(job: Job, input_hash: str) -> str:
    """Everything about a job's session but its steps: the input's bytes, how many images, the frame asked for.

    The quality is left out: it is asked of the render, not of the session.
    """
    export = {key: value for key, value in job.export.to_dict().items() if key != "quality"}
    text = json.dumps({"input": input_hash, "images": len(job.input.images), "export": export}, sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def step_fingerprint(step: PlannedStep) -> str:
    """A step's fingerprint: what it asks of the agent (its name is only a label and is left out)."""
    text = json.dumps(action_to_dict(step.action), sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SpendPlan:
    """What a job reuses from its ledger and what it will pay for."""

    session_id: str | None
    """The session to continue; None for a fresh one."""
    steps_in_session: int
    """Steps already sent into that session (the last may still need settling with the service)."""
    steps_to_pay: int
    render_id: str | None
    """A render of exactly this timeline, to be polled before anything is posted."""
    retired: str | None = None
    """Why a recorded session cannot be continued, when there is one."""

    @property
    def reuses(self) -> bool:
        """Whether anything already paid for is reused."""
        return self.session_id is not None


def plan_spend(job: Job, input_hash: str, paid: Ledger | None) -> SpendPlan:
    """What ``job`` can reuse from ``paid`` and what it must pay for."""
    steps = tuple(step_fingerprint(step) for step in job.steps)
    fresh = SpendPlan(None, 0, len(steps), None)
    if paid is None or paid.empty:
        return fresh
    if paid.basis != job_basis(job, input_hash):
        return SpendPlan(None, 0, len(steps), None, retired="the input or the frame changed")
    done = len(paid.steps)
    if steps[:done] != paid.steps:
        return SpendPlan(None, 0, len(steps), None, retired="earlier steps changed")
    render_id = paid.render_id if done == len(steps) else None
    return SpendPlan(paid.session_id, done, len(steps) - done, render_id)


def describe_plan(plan: SpendPlan) -> str:
    """One line for ``--dry-run``: which steps are paid and which are already in a session."""
    render = "re-attach to render " + plan.render_id if plan.render_id else "1 render"
    if not plan.reuses:
        why = f" ({plan.retired}: a fresh session)" if plan.retired else ""
        return f"pays {plan.steps_to_pay} turn(s) and {render}{why}"
    assert plan.session_id is not None
    return (
        f"{plan.steps_in_session} step(s) already in session {plan.session_id}; "
        f"pays {plan.steps_to_pay} turn(s) and {render}"
    )
