"""Try it: ask a succeeded job's tuned model, and its base model beside it, one prompt.

Both models are asked at once, so the wait is the slower answer rather than their sum; each
side keeps its own outcome (an answer, or the problem that stopped it), so a failing base model
never hides the tuned model's answer. Audited with the prompt's length, never its text: prompts
may hold anything the user pasted.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from bot.handlers.errors import BadInput
from bot.handlers.jobs import Actor, JobHandlers
from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem
from bot.tuning.states import JobState
from bot.tuning.trying import ModelAnswer, Prompt, SideResult, Tried, base_model_path
from bot.vertex.errors import (
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    QuotaExceeded,
    Unauthenticated,
    VertexError,
)

INTENT = "try_model"


class GenerateApi(Protocol):
    """The part of the Vertex client that asks a model."""

    async def generate_content(self, target: str, prompt: Prompt) -> ModelAnswer:
        """The model's answer to one prompt."""
        ...


@dataclass(frozen=True)
class TryRequest:
    """What the user asked: the job (as typed), the prompt, and which models to ask."""

    job: str
    prompt: Prompt
    compare: bool = True
    checkpoint: str | None = None  # a `checkpointId`; None: the model's own endpoint


def _endpoints(job: TuningJob) -> list[str]:
    tuned = job.tuned_model
    if tuned is None:
        return []
    found = [tuned.endpoint] if tuned.endpoint else []
    return found + [c.endpoint for c in tuned.checkpoints if c.endpoint]


class TryHandlers:
    """The Try it use case, authorised and audited through the job handlers."""

    def __init__(
        self,
        jobs: JobHandlers,
        client: GenerateApi,
        *,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        self.jobs = jobs
        self.client = client
        self.clock = clock

    async def job_to_try(self, actor: Actor, text: str) -> TuningJob:
        """The named job once the actor may try it here and it has a tuned endpoint."""
        job = await self.jobs.read_for(INTENT, actor, text)
        if job.state is not JobState.SUCCEEDED:
            raise BadInput(
                Problem.of("try.not_succeeded", job=job.ref.job_id, state=job.state.name)
            )
        if not _endpoints(job):
            raise BadInput(Problem.of("try.no_endpoint", job=job.ref.job_id))
        return job

    async def try_model(self, actor: Actor, request: TryRequest) -> Tried:
        """Ask the tuned model (and, when `compare`, the base model) concurrently."""
        job = await self.job_to_try(actor, request.job)
        endpoint = self._endpoint(job, request.checkpoint)
        asks = [self._ask(endpoint, request.prompt, tuned=True)]
        if request.compare and job.base_model:
            base = base_model_path(job.ref.project, job.ref.region, job.base_model)
            asks.append(self._ask(base, request.prompt, tuned=False))
        results = await asyncio.gather(*asks)
        tuned, base_result = results[0], (results[1] if len(results) > 1 else None)
        failed = [r for r in results if r.problem is not None]
        outcome = "ok" if not failed else ("failed" if len(failed) == len(results) else "partial")
        detail = f"prompt_chars={len(request.prompt.text)} compare={int(base_result is not None)}"
        if request.checkpoint:
            detail += f" checkpoint={request.checkpoint}"
        await self.jobs.audit(actor, "try", job.name, outcome, detail)
        return Tried(job, request.prompt, tuned, base_result, _named(job, request.checkpoint))

    async def thread_for(self, job: TuningJob, channel_id: str) -> str | None:
        """The ts of the job's status message in the channel, whose thread holds its story."""
        return await self.jobs.thread_for(job, channel_id)

    def _endpoint(self, job: TuningJob, checkpoint: str | None) -> str:
        tuned = job.tuned_model
        assert tuned is not None  # job_to_try checked it
        if checkpoint is None:
            return tuned.endpoint or _endpoints(job)[0]
        for saved in tuned.checkpoints:
            if saved.checkpoint_id == checkpoint and saved.endpoint:
                return saved.endpoint
        raise BadInput(Problem.of("try.unknown_checkpoint", checkpoint=checkpoint))

    async def _ask(self, target: str, prompt: Prompt, *, tuned: bool) -> SideResult:
        started = self.clock()
        try:
            answer = await self.client.generate_content(target, prompt)
        except VertexError as exc:
            problem = _problem(exc, tuned=tuned)
            return SideResult(target, self.clock() - started, problem=problem)
        return SideResult(target, self.clock() - started, answer=answer)


def _named(job: TuningJob, checkpoint: str | None) -> str | None:
    # The checkpoint the model's own endpoint serves is no different from asking the model.
    default = job.tuned_model.default_checkpoint if job.tuned_model else None
    return None if default is not None and default.checkpoint_id == checkpoint else checkpoint


def _problem(error: VertexError, *, tuned: bool) -> Problem:
    # Right after a job succeeds Google answers its endpoint with 404 (or a 400/412 saying it
    # is not deployed yet) for some minutes: for the tuned side that is "wait", not "missing".
    refused = isinstance(error, FailedPrecondition | InvalidArgument)
    if tuned and (isinstance(error, NotFound) or (refused and "deploy" in error.message.lower())):
        return Problem.of("try.not_deployed")
    if isinstance(error, QuotaExceeded):
        return Problem.of("try.quota")
    if isinstance(error, PermissionDenied | Unauthenticated):
        return Problem.of("try.permission_denied", message=error.message)
    return Problem.of("try.google_error", status=error.status, message=error.message)
