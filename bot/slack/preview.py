"""`tuning-bot preview`: every message and modal the bot sends, in each language, as Block Kit
JSON files that can be pasted into Slack's Block Kit Builder.

The samples are built from the same renderers the bot uses, with made-up jobs in every state,
so a change to a message shows here before anyone runs a job.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import json
import string
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Any

from bot.datasets.preflight import run_preflight
from bot.datasets.sources import DatasetOpener
from bot.datasets.text import ReportText, report_text
from bot.handlers.home import Home, HomeJob
from bot.i18n import CATALOGUES, placeholders, render, translate
from bot.slack.messages.advanced_form import AdvancedMetadata, advanced_modal
from bot.slack.messages.create_again import create_again_blocks
from bot.slack.messages.create_form import ModalMetadata, create_modal, message_modal
from bot.slack.messages.dataset_report import reports_mrkdwn
from bot.slack.messages.ending import (
    ending_message,
    gone_message,
    paused_message,
    read_failing_message,
    read_recovered_message,
)
from bot.slack.messages.help import help_message
from bot.slack.messages.home import home_view
from bot.slack.messages.job_detail import job_detail_message
from bot.slack.messages.job_list import list_message
from bot.slack.messages.replies import cancel_reply, notice
from bot.slack.messages.rerun import rerun_banner, rerun_values
from bot.slack.messages.shared import Message
from bot.slack.messages.status_card import render_status_card
from bot.slack.messages.subscriptions import (
    debug_message,
    not_yours_reply,
    settings_modal,
    settings_saved_reply,
    subscribed_notice,
    subscribed_reply,
    subscriptions_message,
    unsubscribed_reply,
)
from bot.slack.messages.try_form import TryMetadata, try_modal
from bot.slack.messages.try_result import try_result_message
from bot.slack.messages.unfurl import unfurl_blocks
from bot.tuning.advanced import AdvancedSettings
from bot.tuning.catalogue import default_catalogue
from bot.tuning.curves import Progress
from bot.tuning.job import Checkpoint, DataStats, JobError, TunedModel, TuningJob
from bot.tuning.problems import Problem
from bot.tuning.refs import JobRef, Location
from bot.tuning.states import JobState
from bot.tuning.subscriptions import (
    ChannelDebug,
    ChannelSettings,
    DeliveryError,
    Events,
    JobFilter,
    LocationRead,
    Subscription,
    SubscriptionSpec,
)
from bot.tuning.trying import ModelAnswer, Prompt, SideResult, Tried, base_model_path

Payload = dict[str, Any]

NOW = dt.datetime(2026, 12, 1, 15, 30, tzinfo=dt.UTC)
_PROJECT, _REGION, _JOB_ID = "my-project", "us-central1", "4311802278104121344"
_STARTER = "U0ALICE01"
_CANCELLER = "U0BOB0002"  # shown only on cancelled jobs
_TRAINING = "gs://my-team-tuning/support/train-2026-11.jsonl"
_MORE = "page-2"  # a "More" button appears while Google has more pages


def sample_job(state: JobState, **changes: Any) -> TuningJob:
    """A plausible job of `state`, as Google would describe it at that point of its life."""
    created = NOW - dt.timedelta(hours=3, minutes=12)
    fields: dict[str, Any] = {
        "ref": JobRef(_PROJECT, _REGION, _JOB_ID),
        "state": state,
        "base_model": "gemini-2.5-flash",
        "display_name": "support-answers-v3",
        "training_dataset_uri": _TRAINING,
        "validation_dataset_uri": "gs://my-team-tuning/support/validation-2026-11.jsonl",
        "epochs": 3,
        "adapter_size": 4,
        "learning_rate_multiplier": 1.0,
        "create_time": created,
    }
    if state not in (JobState.QUEUED, JobState.PENDING):
        fields["start_time"] = created + dt.timedelta(minutes=4)
        fields["data_stats"] = DataStats(
            example_count=12_480, billable_tokens=9_731_200, tuning_steps=1_170
        )
    if state.has_ended:
        fields["end_time"] = created + dt.timedelta(hours=2, minutes=47)
    if state.succeeded:
        prefix = f"projects/123456789012/locations/{_REGION}"
        fields["tuned_model"] = TunedModel(
            model=f"{prefix}/models/8417520637282689024@1",
            endpoint=f"{prefix}/endpoints/5032960173470564352",
            checkpoints=(
                Checkpoint("1", epoch=1, step=390),
                Checkpoint("2", epoch=2, step=780),
                Checkpoint("3", epoch=3, step=1170, endpoint=f"{prefix}/endpoints/50329601"),
            ),
        )
        fields["experiment"] = (
            f"projects/123456789012/locations/{_REGION}/metadataStores/default/contexts/"
            f"tuning-experiment-20261201151200000000"
        )
    if state is JobState.FAILED:
        fields["error"] = JobError(
            code=3,
            message="Dataset validation failed: line 812 has no `contents` field.",
        )
    fields.update(changes)
    return TuningJob(**fields)


def _slug(state: JobState) -> str:
    return state.name.lower().replace("_", "-")


def _example(turns: list[tuple[str, str]]) -> str:
    contents = [{"role": role, "parts": [{"text": text}]} for role, text in turns]
    return json.dumps({"contents": contents})


def sample_reports(language: str) -> dict[str, ReportText]:
    """The dataset check's report on a file with only warnings and on one with errors, from the
    real pre-flight run on made-up examples."""
    good = _example([("user", "How do I reset my password?"), ("model", "Settings → Security.")])
    unanswered = _example([("user", "Hi"), ("model", "Hello!"), ("user", "Thanks")])
    files = {"warnings": [good] * 60, "errors": [good] * 60 + [unanswered, ""]}
    model = default_catalogue().default_model(NOW.date())
    opener = DatasetOpener(None, None, None, allow_local_files=True)
    reports = {}
    for kind, lines in files.items():
        with tempfile.TemporaryDirectory() as folder:
            path = f"{folder}/train.jsonl"
            with open(path, "w", encoding="utf-8") as file:
                file.write("\n".join(lines) + "\n")
            found = asyncio.run(run_preflight(path, model=model, validation=False, opener=opener))
        shown = dataclasses.replace(report_text(found, language), source=_TRAINING)
        reports[kind] = shown
    return reports


def _sample_tried(job: TuningJob) -> Tried:
    """Both models' answers to one prompt, as the Try it form would bring them back."""
    endpoint = job.tuned_model.endpoint if job.tuned_model and job.tuned_model.endpoint else ""
    prompt = Prompt("How do I reset my password?", temperature=1.0, max_output_tokens=512)
    tuned = ModelAnswer(
        "Open Settings → Security → Reset password; the link in the e-mail is valid for 24 h.",
        finish_reason="STOP",
        prompt_tokens=9,
        answer_tokens=24,
        total_tokens=33,
    )
    base = ModelAnswer(
        'To reset a password, look for a "Forgot password" link on the sign-in page.',
        finish_reason="MAX_TOKENS",
        prompt_tokens=9,
        answer_tokens=512,
        total_tokens=521,
    )
    base_path = base_model_path(_PROJECT, _REGION, job.base_model or "gemini-2.5-flash")
    return Tried(
        job,
        prompt,
        SideResult(endpoint, 0.84, answer=tuned),
        SideResult(base_path, 1.92, answer=base),
    )


def _message(fallback: str, blocks: list[Payload]) -> Payload:
    return {"text": fallback, "blocks": blocks}


def _pair(built: Message) -> Payload:
    return _message(*built)


def _text(text: str) -> Payload:
    return _pair(notice(text))


def sample_subscriptions() -> tuple[Subscription, ...]:
    """A channel's subscriptions: one to every job, one filtered, one Google refuses to list."""
    created = NOW - dt.timedelta(days=6)
    filtered = JobFilter(
        labels=MappingProxyType({"team": "support"}),
        name_prefix="support-",
        model="gemini-2.5-flash",
    )
    return (
        Subscription(
            1, "C0TUNING01", SubscriptionSpec(Location(_PROJECT, _REGION)), _STARTER, created, NOW
        ),
        Subscription(
            2,
            "C0TUNING01",
            SubscriptionSpec(Location("nlp-research", "europe-west4"), filtered, Events.FAILED),
            _CANCELLER,
            created + dt.timedelta(days=2),
            NOW,
        ),
        Subscription(
            3,
            "C0TUNING01",
            SubscriptionSpec(Location("vision-team", "us-east4"), events=Events.ENDED),
            _STARTER,
            created + dt.timedelta(days=3),
            NOW,
            access_error="403 Permission 'aiplatform.tuningJobs.list' denied on resource "
            "'//aiplatform.googleapis.com/projects/vision-team/locations/us-east4'",
        ),
    )


def sample_debug() -> ChannelDebug:
    """A channel whose messages did not all arrive."""
    subs = sample_subscriptions()
    return ChannelDebug(
        "C0TUNING01",
        subs,
        ChannelSettings(thread_endings=False, mention_on_failure=False),
        MappingProxyType(
            {
                subs[0].location: LocationRead(NOW - dt.timedelta(seconds=40), 1),
                subs[1].location: LocationRead(NOW - dt.timedelta(minutes=2), 3),
                subs[2].location: LocationRead(
                    NOW - dt.timedelta(minutes=1), 1, subs[2].access_error
                ),
            }
        ),
        14,
        ("support-answers-v3", "support-answers-v4", "4311802278104121345"),
        (
            DeliveryError(NOW - dt.timedelta(minutes=5), "ratelimited", "support-answers-v3"),
            DeliveryError(NOW - dt.timedelta(hours=2), "not_in_channel", None),
            DeliveryError(NOW - dt.timedelta(days=1), "invalid_blocks", "support-answers-v2"),
        ),
    )


def _subscription_messages(language: str) -> dict[str, Payload]:
    subs = sample_subscriptions()
    filtered = subs[1]
    settings = ChannelSettings(thread_endings=False, cards=True, mention_on_failure=False)
    return {
        "subscribed": _text(
            subscribed_reply(subs[0], created=True, backfilled=0, language=language)
        ),
        "subscribed-backfilled": _text(
            subscribed_reply(filtered, created=True, backfilled=2, language=language)
        ),
        "subscribed-replaced": _text(
            subscribed_reply(filtered, created=False, backfilled=0, language=language)
        ),
        "subscribed-notice": _text(subscribed_notice(filtered, language=language)),
        "unsubscribed": _text(unsubscribed_reply(filtered, filtered.location, language)),
        "unsubscribed-none": _text(unsubscribed_reply(None, filtered.location, language)),
        "unsubscribe-not-yours": _text(not_yours_reply(filtered, language)),
        "subscriptions": _pair(
            subscriptions_message(subs, language=language, channel_id="C0TUNING01")
        ),
        "subscriptions-empty": _pair(
            subscriptions_message((), language=language, channel_id="C0TUNING01")
        ),
        "debug": _pair(debug_message(sample_debug(), language=language)),
        "modal-channel-settings": settings_modal(
            settings, channel_id="C0TUNING01", language=language
        ),
        "settings-saved": _text(settings_saved_reply(settings, language)),
    }


def messages(language: str) -> dict[str, Payload]:
    """Every message and modal, keyed by a file name without extension."""
    catalogue = default_catalogue()
    today = NOW.date()
    gallery: dict[str, Payload] = {}
    for state in (
        JobState.QUEUED,
        JobState.RUNNING,
        JobState.CANCELLING,
        JobState.SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
    ):
        gallery[f"card-{_slug(state)}"] = _pair(
            render_status_card(
                sample_job(state), started_by=_STARTER, language=language, cancelled_by=_CANCELLER
            )
        )
    # A running job's card once its first training figures are in, and before Google
    # gave a step count.
    for slug, progress in (
        ("card-running-progress", Progress(576, 800, 0.4213, 0.5121, eval_step=480)),
        ("card-running-progress-no-plan", Progress(1204, None, 1.503, None)),
    ):
        gallery[slug] = _pair(
            render_status_card(
                sample_job(JobState.RUNNING),
                started_by=_STARTER,
                language=language,
                progress=progress,
            )
        )
    for state in (
        JobState.SUCCEEDED,
        JobState.PARTIALLY_SUCCEEDED,
        JobState.FAILED,
        JobState.CANCELLED,
        JobState.EXPIRED,
    ):
        gallery[f"ending-{_slug(state)}"] = _pair(
            ending_message(
                sample_job(state), started_by=_STARTER, language=language, cancelled_by=_CANCELLER
            )
        )
    name = sample_job(JobState.RUNNING).name
    gallery["ending-gone"] = _pair(
        gone_message(name, display_name="support-answers-v3", language=language)
    )
    gallery["thread-paused"] = _text(paused_message(sample_job(JobState.PAUSED), language=language))
    gallery["thread-read-denied"] = _text(
        read_failing_message(
            name,
            display_name="support-answers-v3",
            language=language,
            project=_PROJECT,
            status="PERMISSION_DENIED",
            message="Permission 'aiplatform.tuningJobs.get' denied on resource.",
            denied=True,
        )
    )
    gallery["thread-read-recovered"] = _text(
        read_recovered_message(name, display_name="support-answers-v3", language=language)
    )
    jobs = [
        sample_job(JobState.RUNNING),
        sample_job(JobState.SUCCEEDED, display_name="faq-bot", ref=JobRef(_PROJECT, _REGION, "42")),
        sample_job(JobState.FAILED, display_name=None, ref=JobRef(_PROJECT, _REGION, "41")),
    ]
    gallery["list"] = _pair(
        list_message(jobs, filter_word="all", next_page_token=_MORE, language=language, now=NOW)
    )
    gallery["list-empty-active"] = _pair(
        list_message([], filter_word="active", next_page_token=None, language=language, now=NOW)
    )
    for state in (JobState.RUNNING, JobState.SUCCEEDED, JobState.FAILED):
        gallery[f"get-{_slug(state)}"] = _pair(
            job_detail_message(sample_job(state), language=language, now=NOW)
        )
    gallery["help"] = _pair(help_message(language))
    gallery["cancel-requested"] = _text(cancel_reply(sample_job(JobState.CANCELLING), language))
    gallery["cancel-already-ended"] = _text(cancel_reply(sample_job(JobState.SUCCEEDED), language))
    not_found = translate(language, "create.not_found", name="support-answers-v3")
    gallery["create-again"] = _message(not_found, create_again_blocks(language, not_found, "token"))

    def form(banner: str | None = None, *, after_warnings: bool = False) -> Payload:
        return create_modal(
            language,
            catalogue=catalogue,
            today=today,
            metadata=ModalMetadata(channel_id="C0TUNING01", language=language),
            location=Location(_PROJECT, _REGION),
            banner=banner,
            after_warnings=after_warnings,
        )

    reports = sample_reports(language)
    gallery["modal-form"] = form()
    gallery["check-errors"] = _text(reports_mrkdwn([reports["errors"]]))
    gallery["check-warnings"] = _text(reports_mrkdwn([reports["warnings"]]))
    for kind, lead in (
        ("warnings", "modal.preflight_warnings"),
        ("errors", "modal.preflight_errors"),
    ):
        banner = reports_mrkdwn([reports[kind]], lead=translate(language, lead))
        gallery[f"modal-form-after-{kind}"] = form(banner, after_warnings=kind == "warnings")
    running, done = sample_job(JobState.RUNNING), jobs[1]
    home = Home(
        _STARTER,
        Location(_PROJECT, _REGION),
        can_create=True,
        active=(HomeJob(running.name, running.state, running.display_name, running, True),),
        ended=(HomeJob(done.name, done.state, done.display_name, done),),
        team=(running, sample_job(JobState.QUEUED, ref=JobRef(_PROJECT, _REGION, "43"))),
    )
    # Home views open in Block Kit Builder's "App Home" surface.
    gallery["home"] = home_view(home, language=language, channel_id="D0PREVIEW1")
    not_allowed = Problem.of("auth.user_not_allowed")
    refused = Home(_STARTER, Location(_PROJECT, _REGION), refusal=not_allowed)
    gallery["home-refused"] = home_view(
        refused,
        language=language,
        channel_id="D0PREVIEW1",
        problem_text=render(language, not_allowed),
    )
    gallery["modal-form-from-shortcut"] = create_modal(
        language,
        catalogue=catalogue,
        today=today,
        metadata=ModalMetadata("", language, choose_channel=True),
        location=Location(_PROJECT, _REGION),
    )
    for state in (JobState.RUNNING, JobState.SUCCEEDED):
        job = sample_job(state)
        gallery[f"unfurl-{_slug(state)}"] = _message(
            job.display_name or job.name, unfurl_blocks(job, language)
        )
    succeeded = sample_job(JobState.SUCCEEDED)
    gallery["modal-try"] = try_modal(succeeded, TryMetadata(succeeded.name, "C0TUNING01", language))
    tried = _sample_tried(succeeded)
    answered = try_result_message(tried, user=_STARTER, language=language, only_me=False)
    gallery["try-result"] = _message(answered.text, answered.blocks)
    settings = AdvancedSettings(
        labels=MappingProxyType({"team": "support", "dataset": "2026-11"}),
        description="Answers for the support desk, November data.",
        export_last_checkpoint_only=True,
    )
    gallery["modal-advanced"] = advanced_modal(
        language,
        settings,
        metadata=AdvancedMetadata("V0PREVIEW1", {}, {}),
        offer_service_account=True,
        offer_kms_key=False,
    )
    catalogue_now = default_catalogue()
    gallery["modal-form-run-again"] = create_modal(
        language,
        catalogue=catalogue_now,
        today=today,
        metadata=ModalMetadata("C0TUNING01", language, source_job=succeeded.ref.job_id),
        location=Location(_PROJECT, _REGION),
        values=rerun_values(succeeded),
        banner=rerun_banner(succeeded, language, catalogue_now, continuing=False),
    )
    gallery["modal-creating"] = message_modal(language, translate(language, "modal.creating"))
    gallery["modal-checking"] = message_modal(language, translate(language, "modal.checking"))
    gallery.update(_subscription_messages(language))
    return dict(sorted(gallery.items()))


def texts(language: str) -> dict[str, str]:
    """Every catalogue entry, its placeholders filled with their own names (`[job]`)."""
    catalogue = CATALOGUES[language]
    return {
        key: string.Formatter().vformat(
            template, (), {name: f"[{name}]" for name in placeholders(template)}
        )
        for key, template in sorted(catalogue.items())
    }


def write(out: Path) -> list[Path]:
    """Write `out/<language>/<name>.json` for every message and `texts.json`; returns them."""
    written: list[Path] = []
    for language in CATALOGUES:
        folder = out / language
        folder.mkdir(parents=True, exist_ok=True)
        for key, payload in messages(language).items():
            path = folder / f"{key}.json"
            path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
            written.append(path)
        path = folder / "texts.json"
        path.write_text(json.dumps(texts(language), ensure_ascii=False, indent=2) + "\n")
        written.append(path)
    return written


def main(argv: Sequence[str]) -> int:
    """`tuning-bot preview [--out DIR]`."""
    parser = argparse.ArgumentParser(
        prog="tuning-bot preview",
        description="Write every message and modal, in each language, as Block Kit JSON.",
    )
    parser.add_argument("--out", type=Path, default=Path("preview"), help="folder (./preview)")
    args = parser.parse_args(list(argv))
    written = write(args.out)
    print(f"wrote {len(written)} files to {args.out}/ (en/, ja/)", file=sys.stdout)
    return 0
