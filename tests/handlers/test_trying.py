"""The Try it use case: both models asked at once, each side's outcome kept, refusals clear."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from bot.emulator import SUCCEEDED
from bot.handlers.errors import BadInput, Refused
from bot.handlers.trying import TryHandlers, TryRequest
from bot.tuning.access import AccessPolicy
from bot.tuning.trying import ModelAnswer, Prompt
from bot.vertex.errors import PermissionDenied
from tests.handlers.test_jobs import ALICE, PROJECT, REGION, Rig, _rig


class BothAtOnce:
    """Answers only once both calls are in flight, so a sequential caller would wait forever;
    `fail` names the target prefix whose call is refused."""

    def __init__(self, fail: str | None = None) -> None:
        self.started: list[str] = []
        self.both = asyncio.Event()
        self.fail = fail

    async def generate_content(self, target: str, prompt: Prompt) -> ModelAnswer:
        self.started.append(target)
        if len(self.started) == 2:
            self.both.set()
        await asyncio.wait_for(self.both.wait(), timeout=5)
        if self.fail and self.fail in target:
            raise PermissionDenied(403, "denied")
        return ModelAnswer(f"from {target}", "STOP", None, 2, 3, 5)


@pytest.fixture
async def rig(tmp_path: Any) -> AsyncIterator[Rig]:
    built, tuning, store = await _rig(tmp_path)
    yield built
    await tuning.aclose()
    store.close()


def _job(rig: Rig, state: str = SUCCEEDED) -> str:
    return rig.emulator.add_job(PROJECT, REGION, state=state)


async def test_both_models_are_asked_concurrently(rig: Rig) -> None:
    models = BothAtOnce()
    tried = await TryHandlers(rig.handlers, models).try_model(
        ALICE, TryRequest(_job(rig), Prompt("hi"))
    )
    assert len(models.started) == 2
    assert tried.tuned.answer is not None
    assert "/endpoints/" in tried.tuned.target
    assert tried.base is not None
    assert tried.base.target.endswith("/publishers/google/models/gemini-2.5-flash")


async def test_a_failing_side_keeps_the_other_and_is_audited_as_partial(rig: Rig) -> None:
    tried = await TryHandlers(rig.handlers, BothAtOnce(fail="publishers")).try_model(
        ALICE, TryRequest(_job(rig), Prompt("a prompt of 23 letters."))
    )
    assert tried.tuned.answer is not None
    assert tried.base is not None
    assert tried.base.problem is not None
    assert tried.base.problem.key == "try.permission_denied"
    entry = next(e for e in rig.store.audit_entries() if e.action == "try")
    assert entry.outcome == "partial"
    assert entry.detail == "prompt_chars=23 compare=1"


@pytest.mark.parametrize("state", ["JOB_STATE_RUNNING", "JOB_STATE_FAILED"])
async def test_a_job_without_a_tuned_model_is_refused(rig: Rig, state: str) -> None:
    with pytest.raises(BadInput) as refused:
        await TryHandlers(rig.handlers, BothAtOnce()).try_model(
            ALICE, TryRequest(_job(rig, state), Prompt("hi"))
        )
    assert refused.value.problem.key == "try.not_succeeded"


async def test_an_unknown_checkpoint_is_refused(rig: Rig) -> None:
    with pytest.raises(BadInput) as refused:
        await TryHandlers(rig.handlers, BothAtOnce()).try_model(
            ALICE, TryRequest(_job(rig), Prompt("hi"), checkpoint="99")
        )
    assert refused.value.problem.key == "try.unknown_checkpoint"


async def test_the_channel_allow_list_applies(tmp_path: Any) -> None:
    rig, tuning, store = await _rig(
        tmp_path, policy=AccessPolicy(allowed_channels=frozenset({"C0ELSEWHERE"}))
    )
    try:
        with pytest.raises(Refused):
            await TryHandlers(rig.handlers, BothAtOnce()).try_model(
                ALICE, TryRequest(_job(rig), Prompt("hi"))
            )
    finally:
        await tuning.aclose()
        store.close()
