"""The use cases in process: the handlers on the real Vertex client against the emulator's ASGI
app, a real SQLite store, and a recording publisher in place of Slack (the handlers' own port)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from bot.emulator import Emulator
from bot.handlers.datasets import DatasetVerdict
from bot.handlers.errors import BadInput, GoogleFailed, NotPosted, Refused, Unavailable
from bot.handlers.jobs import Actor, JobHandlers
from bot.tuning.access import AccessPolicy
from bot.tuning.catalogue import default_catalogue
from bot.tuning.job import TuningJob
from bot.tuning.refs import Location
from bot.tuning.spec import TuningJobSpec
from bot.vertex.auth import NoAuth
from bot.vertex.client import TuningClient
from bot.vertex.submit import find_submitted, submit_job
from bot.watch.model import NewWatch, WatchKind
from bot.watch.notify import ChannelGone, NotifyError
from bot.watch.store import SqlWatchStore

PROJECT, REGION = "test-project", "us-central1"
HOST = "vertex-emulator.test:80"
ALICE = Actor("U0ALICE01", "C0TUNING1", "en")
BOB = Actor("U0BOB0001", "C0TUNING1", "ja")
SPEC = TuningJobSpec(
    base_model="gemini-3.5-flash",
    training_dataset_uri="gs://team-data/train.jsonl",
    epochs=3,
    display_name="support-bot",
)


@dataclass
class Publisher:
    """Records the cards the handlers post and take back; `refuse` makes the next post fail."""

    posted: list[dict[str, Any]] = field(default_factory=list)
    withdrawn: list[tuple[str, str]] = field(default_factory=list)
    refuse: NotifyError | None = None

    async def post_card(
        self,
        channel_id: str,
        job: TuningJob,
        *,
        started_by: str | None,
        language: str,
        note: str | None = None,
        watched_by: str | None = None,
    ) -> str:
        if self.refuse is not None:
            raise self.refuse
        self.posted.append(
            {
                "channel": channel_id,
                "job": job.name,
                "by": started_by,
                "lang": language,
                "note": note,
                "watched_by": watched_by,
            }
        )
        return f"1700000000.{len(self.posted):06d}"

    async def withdraw_card(self, channel_id: str, ts: str) -> None:
        self.withdrawn.append((channel_id, ts))


class FailingWatches(SqlWatchStore):
    """A store whose watch writes fail (the database went read-only)."""

    async def add_watch(self, new: NewWatch, *, now: Any = None) -> Any:
        raise RuntimeError("attempt to write a readonly database")


@dataclass
class Rig:
    handlers: JobHandlers
    emulator: Emulator
    store: SqlWatchStore
    publisher: Publisher


async def _rig(
    tmp_path: Any, *, store_class: type[SqlWatchStore] = SqlWatchStore, **kw: Any
) -> Any:
    emulator = Emulator(seconds_per_state=3600)
    http = httpx.AsyncClient(mounts={f"http://{HOST}": httpx.ASGITransport(app=emulator.app)})
    tuning = TuningClient(http, auth=NoAuth(), emulator_host=HOST)
    store = store_class.open(f"sqlite:///{tmp_path}/watch.db")
    publisher = Publisher()
    location = Location(PROJECT, REGION)

    async def submit(location: Location, spec: TuningJobSpec, key: str) -> Any:
        return await submit_job(tuning, location, spec, key, lookup_delays=(0.01,))

    async def find(location: Location, key: str) -> TuningJob | None:
        return await find_submitted(tuning, location, key)

    handlers = JobHandlers(
        client=tuning,
        submit=submit,
        find_submitted=find,
        store=store,
        location=location,
        policy=kw.pop("policy", AccessPolicy(admins=frozenset({"U0ADMIN01"}))),
        catalogue=default_catalogue(),
        publisher=publisher,
        **kw,
    )
    return Rig(handlers, emulator, store, publisher), tuning, store


@pytest.fixture
async def rig(tmp_path: Any) -> AsyncIterator[Rig]:
    built, tuning, store = await _rig(tmp_path)
    yield built
    await tuning.aclose()
    store.close()


async def test_a_submission_posts_one_card_and_follows_the_job_even_when_repeated(rig: Rig) -> None:
    first = await rig.handlers.submit(ALICE, "V1", SPEC, "120 examples")
    again = await rig.handlers.submit(ALICE, "V1", SPEC, "120 examples")

    assert not first.repeat
    assert again.repeat
    assert again.job.name == first.job.name
    assert len(rig.emulator.jobs()) == 1
    assert rig.publisher.posted == [
        {
            "channel": "C0TUNING1",
            "job": first.job.name,
            "by": ALICE.user_id,
            "lang": "en",
            "note": "120 examples",
            "watched_by": None,
        }
    ]
    [watch] = rig.store.all_watches()
    assert watch.kind is WatchKind.CREATED
    assert watch.message_ts == "1700000000.000001"


async def test_a_card_slack_refuses_still_leaves_the_job_followed(rig: Rig) -> None:
    rig.publisher.refuse = ChannelGone("not_in_channel")

    created = await rig.handlers.submit(ALICE, "V1", SPEC)

    assert created.card_error == "not_in_channel"
    assert not created.watch_lost
    [watch] = rig.store.all_watches()
    assert watch.message_ts is None  # the watcher posts the card once the channel takes it


async def test_a_watch_that_cannot_be_saved_takes_its_card_back(tmp_path: Any) -> None:
    built, tuning, store = await _rig(tmp_path, store_class=FailingWatches)
    try:
        created = await built.handlers.submit(ALICE, "V1", SPEC)
    finally:
        await tuning.aclose()
        store.close()

    assert created.watch_lost
    assert built.publisher.withdrawn == [("C0TUNING1", "1700000000.000001")]


async def test_only_the_starter_or_an_admin_may_cancel(rig: Rig) -> None:
    created = await rig.handlers.submit(ALICE, "V1", SPEC)

    with pytest.raises(Refused) as refused:
        await rig.handlers.cancel(BOB, created.job.ref.job_id)
    assert refused.value.problem.key == "auth.cancel_not_owner"
    assert rig.emulator.stats()["counts"]["cancel"] == 0
    assert [(e.actor, e.action, e.outcome) for e in rig.store.audit_entries()][-1] == (
        BOB.user_id,
        "cancel",
        "refused",
    )

    job = await rig.handlers.cancel(Actor("U0ADMIN01", "C0TUNING1"), created.job.name)
    assert job.state.value in ("JOB_STATE_CANCELLING", "JOB_STATE_CANCELLED")


async def test_watching_posts_one_card_per_channel(rig: Rig) -> None:
    name = rig.emulator.add_job(PROJECT, REGION, display_name="from-a-notebook")

    first = await rig.handlers.watch(BOB, name)
    second = await rig.handlers.watch(BOB, name)

    assert not first.already
    assert second.already
    # The card names who watches the job: who started it elsewhere is not known.
    posted = [(c["by"], c["watched_by"], c["lang"]) for c in rig.publisher.posted]
    assert posted == [(None, BOB.user_id, "ja")]
    assert (await rig.handlers.unwatch(BOB, name)).removed
    assert not (await rig.handlers.unwatch(BOB, name)).removed


async def test_a_channel_that_refuses_the_card_gets_no_watch(rig: Rig) -> None:
    name = rig.emulator.add_job(PROJECT, REGION)
    rig.publisher.refuse = ChannelGone("not_in_channel")

    with pytest.raises(NotPosted) as failed:
        await rig.handlers.watch(ALICE, name)

    assert failed.value.problem.key == "sub.not_in_channel"
    assert rig.store.all_watches() == []


async def test_what_the_user_typed_and_where_it_points_are_checked_before_google(rig: Rig) -> None:
    with pytest.raises(BadInput):
        await rig.handlers.get(ALICE, "not a job")
    with pytest.raises(Refused) as outside:
        await rig.handlers.get(ALICE, "projects/other-project/locations/us-central1/tuningJobs/1")
    assert outside.value.problem.key == "auth.project_not_allowed"
    assert rig.emulator.stats()["counts"]["get"] == 0


async def test_googles_refusal_leaves_as_a_problem_for_the_user(rig: Rig) -> None:
    rig.emulator.inject("get", 403, google_status="PERMISSION_DENIED")

    with pytest.raises(GoogleFailed) as failed:
        await rig.handlers.get(ALICE, "1234")

    assert failed.value.status == "PERMISSION_DENIED"
    assert failed.value.problem.key.startswith("google.")


async def test_an_allow_list_refuses_every_intent_of_someone_not_on_it(tmp_path: Any) -> None:
    policy = AccessPolicy(allowed_users=frozenset({ALICE.user_id}))
    built, tuning, store = await _rig(tmp_path, policy=policy)
    try:
        for attempt in (
            built.handlers.open_form(BOB),
            built.handlers.list_jobs(BOB, ""),
            built.handlers.get(BOB, "1234"),
            built.handlers.watch(BOB, "1234"),
            built.handlers.unwatch(BOB, "1234"),
            built.handlers.check_dataset(BOB, "gs://team-data/train.jsonl"),
        ):
            with pytest.raises(Refused):
                await attempt
        with pytest.raises(Refused):
            built.handlers.check_submission(BOB, {})
    finally:
        await tuning.aclose()
        store.close()
    assert built.emulator.stats()["counts"] == dict.fromkeys(built.emulator.stats()["counts"], 0)


async def test_dataset_checks_keep_to_the_allowed_buckets(tmp_path: Any) -> None:
    checked: list[str] = []

    async def check(uri: str, language: str, **_: Any) -> DatasetVerdict:
        checked.append(uri)
        return DatasetVerdict((), "120 examples", False, False)

    built, tuning, store = await _rig(tmp_path, check=check, allowed_buckets=("gs://team-data/",))
    try:
        with pytest.raises(Refused):
            await built.handlers.check_dataset(ALICE, "gs://someone-else/train.jsonl")
        verdict = await built.handlers.check_dataset(ALICE, "gs://team-data/train.jsonl")
    finally:
        await tuning.aclose()
        store.close()
    assert verdict.summary == "120 examples"
    assert checked == ["gs://team-data/train.jsonl"]


async def test_a_bot_without_dataset_checks_says_so(rig: Rig) -> None:
    with pytest.raises(Unavailable):
        await rig.handlers.check_dataset(ALICE, "gs://team-data/train.jsonl")


async def test_cancelling_a_job_that_already_succeeded_says_so_in_the_users_language(
    rig: Rig,
) -> None:
    from bot.slack.messages.replies import cancel_reply

    name = rig.emulator.add_job(PROJECT, REGION, state="JOB_STATE_SUCCEEDED")

    job = await rig.handlers.cancel(Actor("U0ADMIN01", "C0TUNING1", "ja"), name)

    assert job.state.value == "JOB_STATE_SUCCEEDED"
    reply = cancel_reply(job, "ja")
    assert "すでに終了" in reply
    assert "FAILED_PRECONDITION" not in reply
    assert "JOB_STATE" not in reply
    assert rig.store.audit_entries()[-1].outcome == "already_ended"
