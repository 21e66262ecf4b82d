"""Every error joypix raises on purpose, rooted in one type whose text is what the user reads.

The tree (exit code in brackets; the CLI's error boundary maps each to its code):

    JoypixError [1]
    ├── UsageError [2]                  bad command line
    ├── RecipeError [2]                 a recipe file is wrong; carries every Problem found
    │   └── RequiresError [2]           the recipe needs a newer joypix
    ├── PlanError [2]                   inputs missing, two jobs writing one output, template failed
    ├── JobError [1]                    fails one job; the run goes on
    │   ├── ImageError                  unreadable, too large, truncated or bomb image
    │   ├── InterpretError              a prompt phrase the local interpreter does not understand
    │   ├── MediaError                  an audio file or other media that cannot be used
    │   ├── RenderError                 encoding or composition failed
    │   ├── UnsupportedFileError        the service refused the file type (4001)
    │   ├── FileTooLargeError           the file is over the service's limit (4002)
    │   └── ExportBlockedError          the plan does not allow export (402)
    ├── RunError [1]                    stops starting new work
    │   └── NoCreditsError              the account has no credits (2001)
    ├── ApiError [1]                    the cloud service failed in a way retries did not fix
    │   ├── AuthError                   token refused or expired (1001)
    │   ├── SessionLostError            the session is gone (1002)
    │   ├── RateLimitedError            too many requests (429)
    │   ├── ServerError                 5xx or network trouble
    │   ├── AgentRefusedError           the agent refused a step (an event with an errorCode)
    │   ├── StepInDoubtError            a step may or may not have run; not sent twice
    │   └── ProtocolError               a reply that does not have the documented shape
    ├── DraftError [1]                  a timeline JSON that is not a valid draft
    └── WatchError [2]                  a hot folder or watch file that cannot be used

Messages never contain a token, a traceback or a Python repr.
"""

from __future__ import annotations

from dataclasses import dataclass


class JoypixError(Exception):
    """Root of every error joypix raises on purpose; ``str()`` is the line the user sees."""

    exit_code: int = 1


class UsageError(JoypixError):
    """The command line asks for something impossible."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a file, at a 1-based line and column."""

    file: str
    line: int
    column: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}: {self.message}"


class RecipeError(JoypixError):
    """A recipe file is invalid; holds every problem found, in file order."""

    exit_code = 2

    def __init__(self, problems: list[Problem] | tuple[Problem, ...]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.file, p.line, p.column)))
        super().__init__("\n".join(str(p) for p in self.problems))


class RequiresError(RecipeError):
    """The recipe states a minimum joypix version newer than this one."""


class PlanError(JoypixError):
    """The recipe is valid but cannot be turned into jobs (missing inputs, clashing outputs)."""

    exit_code = 2


class JobError(JoypixError):
    """One job failed; the others go on."""


class ImageError(JobError):
    """An input image cannot be used."""


class InterpretError(JobError):
    """A prompt contains words the local interpreter does not understand."""


class MediaError(JobError):
    """An audio file or other media referenced by a step cannot be used."""


class RenderError(JobError):
    """Composing or encoding the video failed."""


class UnsupportedFileError(JobError):
    """The service does not accept this file type (code 4001)."""


class FileTooLargeError(JobError):
    """The file is larger than the service accepts (code 4002)."""


class ExportBlockedError(JobError):
    """The account's plan does not allow export (HTTP 402); not a credits problem."""


class RunError(JoypixError):
    """Stops the whole run from starting new work."""


class NoCreditsError(RunError):
    """The account has no credits left (code 2001)."""


class ApiError(JoypixError):
    """The cloud service failed in a way that retrying did not fix."""


class AuthError(ApiError):
    """The token was refused or has expired (code 1001)."""


class SessionLostError(ApiError):
    """The editing session no longer exists (code 1002)."""


class RateLimitedError(ApiError):
    """The service asked us to slow down (HTTP 429)."""


class ServerError(ApiError):
    """A 5xx reply or a network failure."""


class AgentRefusedError(ApiError):
    """The editing agent refused a step (an event carrying an errorCode, e.g. a safety refusal)."""


class StepInDoubtError(ApiError):
    """A paid request may or may not have reached the service, and nothing proves it did not."""


class ProtocolError(ApiError):
    """A reply that does not have the documented shape."""


class DraftError(JoypixError):
    """A timeline (draft) JSON document that is not valid."""


class WatchError(JoypixError):
    """A hot folder or watch file that cannot be used."""

    exit_code = 2
