"""Submitting the create modal: validate in the ack; check the data, then create, after it."""

from __future__ import annotations

import hashlib
import logging
import time
from dataclasses import dataclass, replace
from typing import Any

from slack_bolt.context.ack.async_ack import AsyncAck
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.handlers.datasets import DatasetVerdict
from bot.handlers.errors import CreateUnconfirmed, GoogleFailed, HandlerError, Refused
from bot.handlers.jobs import Actor, Created
from bot.i18n import render, translate
from bot.slack import ids
from bot.slack.messages.create_again import create_again_blocks
from bot.slack.messages.create_form import (
    ModalMetadata,
    create_modal,
    field_errors,
    message_modal,
    read_form,
)
from bot.slack.messages.dataset_report import reports_mrkdwn
from bot.slack.messages.shared import job_title
from bot.slack.mrkdwn import code, code_text, escape, literal
from bot.slack.surface import Surface, observe, problem_text
from bot.tuning.problems import DomainError, Problem
from bot.tuning.refs import JobRef
from bot.tuning.rerun import rerun_labels
from bot.tuning.spec import TuningJobSpec

log = logging.getLogger(__name__)

# A modal cannot wait long for its answer; a longer check ends as a partial report.
PREFLIGHT_SECONDS = 20.0
# Slack's answers to a card posted where the bot is not (or no longer) a member.
NOT_IN_CHANNEL = frozenset({"not_in_channel", "channel_not_found"})


@dataclass(frozen=True)
class Started:
    """How a create went: what to tell the user, and Google's refusal when the form should
    come back with it on top."""

    text: str
    outcome: str
    refusal: str | None = None


@dataclass(frozen=True)
class Submission:
    """One accepted submission of the form: who, which view, what they typed and asked for."""

    actor: Actor
    view_id: str
    form: dict[str, str | None]
    spec: TuningJobSpec
    warnings: tuple[Problem, ...]
    metadata: ModalMetadata
    started: float

    @property
    def datasets_digest(self) -> str:
        """Identifies the checked inputs: warnings seen for them need not be shown again."""
        spec = self.spec
        text = "\n".join(
            [spec.base_model, spec.training_dataset_uri, spec.validation_dataset_uri or ""]
        )
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class CreateJobSubmission:
    """`view_submission` of `tuning_job_create`."""

    def __init__(self, surface: Surface) -> None:
        self.surface = surface

    async def handle(
        self, ack: AsyncAck, body: dict[str, Any], view: dict[str, Any], client: AsyncWebClient
    ) -> None:
        """Errors under the fields in the ack, or a "checking…" view while the work goes on."""
        started = time.monotonic()
        user = str((body.get("user") or {}).get("id") or "")
        metadata = ModalMetadata.parse(view.get("private_metadata"))
        if metadata is None:
            log.warning("create modal without our metadata", extra={"view": view.get("id")})
            await ack()
            observe("modal.create", "malformed", user=user, started=started)
            return
        language = metadata.language
        form = read_form(_state_values(view))
        # A form that asks where to post: the chosen channel, or none for a DM with the bot
        # (opened after the ack, once the form is valid).
        channel = form.get(ids.POST_IN) if metadata.choose_channel else metadata.channel_id
        actor = Actor(user, channel, language)
        try:
            check = self.surface.handlers.check_submission(
                actor, form, pre_tuned_model=metadata.tuned_model
            )
        except Refused as refused:
            if metadata.choose_channel and refused.problem.key == "auth.channel_not_allowed":
                # The user can choose another channel: say so under the channel field.
                errors = field_errors(language, {ids.POST_IN: refused.problem})
                await ack(response_action="errors", errors=errors)
                self.surface.after_ack(self._audit_refusal(actor, refused, started))
                return
            shown = message_modal(language, problem_text(language, refused.problem))
            await ack(response_action="update", view=shown)
            self.surface.after_ack(self._audit_refusal(actor, refused, started))
            return
        if check.spec is None or not check.ok:
            await ack(response_action="errors", errors=field_errors(language, check.errors))
            observe("modal.create", "invalid", user=user, started=started)
            return
        # The advanced view's settings once saved; until then the configured defaults.
        advanced = metadata.advanced
        if advanced is None:
            advanced = self.surface.handlers.advanced_defaults
        spec = advanced.apply(check.spec).with_labels(_source_labels(metadata, self.surface))
        submission = Submission(
            actor, str(view.get("id")), form, spec, check.warnings, metadata, started
        )
        # Not when the user saw the warnings and pressed Submit again.
        dataset_check = (
            self.surface.handlers.checks_datasets
            and metadata.warnings_seen != submission.datasets_digest
        )
        waiting = "modal.checking" if dataset_check else "modal.creating"
        await ack(
            response_action="update", view=message_modal(language, translate(language, waiting))
        )
        if not self.surface.submissions.first_time(submission.view_id):
            # Submit pressed again (or Slack repeated it): the first submission is at work.
            observe("modal.create", "repeat", user=user, started=started)
            return
        self.surface.after_ack(
            self.submit(submission, dataset_check, client),
            if_abandoned=lambda: self._restarting(submission, client),
        )

    async def _audit_refusal(self, actor: Actor, refused: Refused, started: float) -> None:
        await self.surface.handlers.record_refusal("submit", actor, refused)
        observe("modal.create", "refused", user=actor.user_id, started=started)

    async def submit(
        self, submission: Submission, dataset_check: bool, client: AsyncWebClient
    ) -> None:
        """Pre-flight (errors stop here, warnings once), then create the job."""
        if submission.actor.channel_id is None:
            opened = await self._open_dm(submission, client)
            if opened is None:
                return
            submission = opened
        summary: str | None = None
        verdict = None
        if dataset_check:
            verdict = await self.surface.handlers.check_submitted_datasets(
                submission.actor, submission.spec, max_seconds=PREFLIGHT_SECONDS
            )
        if verdict is not None:
            if verdict.has_errors or verdict.has_warnings:
                await self._back_to_form(submission, verdict, client)
                return
            summary = verdict.summary
            creating = translate(submission.actor.language, "modal.creating")
            # Submit was pressed and the data passed: the job is created even if the user
            # closed the "checking…" view meanwhile.
            await self._show(client, submission, message_modal(submission.actor.language, creating))
        await self.create(submission, summary, client)

    async def _open_dm(self, submission: Submission, client: AsyncWebClient) -> Submission | None:
        """The submission with the user's DM with the bot as its channel; None (and the form
        back, values kept) when Slack would not open it."""
        actor = submission.actor
        try:
            answer = await client.conversations_open(users=actor.user_id)
            channel = answer.get("channel")
            channel_id = channel.get("id") if isinstance(channel, dict) else None
            if not isinstance(channel_id, str) or not channel_id:
                raise LookupError("no channel in the answer")
        except (SlackApiError, LookupError) as exc:
            error = exc.response.get("error") if isinstance(exc, SlackApiError) else "no_channel"
            log.warning("could not open a DM", extra={"error": error})
            self.surface.submissions.forget(submission.view_id)
            banner = translate(actor.language, "modal.dm_failed", error=escape(str(error)))
            await self._show(
                client, submission, self._form(submission, banner, submission.metadata)
            )
            observe("modal.create", "slack_error", user=actor.user_id, started=submission.started)
            return None
        return replace(submission, actor=replace(actor, channel_id=channel_id))

    async def _show(
        self,
        client: AsyncWebClient,
        submission: Submission,
        view: dict[str, Any],
        instead: str | None = None,
    ) -> None:
        """Update the modal; if the user closed it, say `instead` in the channel (only to them)."""
        try:
            await client.views_update(view_id=submission.view_id, view=view)
        except SlackApiError as exc:
            log.info("modal no longer open", extra={"error": exc.response.get("error")})
            if instead is None:
                return
            try:
                await client.chat_postEphemeral(
                    channel=str(submission.actor.channel_id),
                    user=submission.actor.user_id,
                    text=instead,
                )
            except SlackApiError:
                log.warning("could not tell the user", extra={"user": submission.actor.user_id})

    async def _back_to_form(
        self, submission: Submission, verdict: DatasetVerdict, client: AsyncWebClient
    ) -> None:
        # The form comes back with the report on top and every value kept; after warnings
        # only, the metadata remembers them so that the next Submit starts the job.
        language = submission.actor.language
        self.surface.submissions.forget(submission.view_id)
        if verdict.has_errors:
            lead, metadata, outcome = "modal.preflight_errors", submission.metadata, "bad_data"
        else:
            lead = "modal.preflight_warnings"
            metadata = replace(submission.metadata, warnings_seen=submission.datasets_digest)
            outcome = "data_warnings"
        banner = reports_mrkdwn(verdict.reports, lead=translate(language, lead))
        form = self._form(submission, banner, metadata, after_warnings=not verdict.has_errors)
        # A closed form has no Start anyway button: the channel note says how to go on.
        closed_lead = lead if verdict.has_errors else "modal.preflight_warnings_closed"
        instead = reports_mrkdwn(verdict.reports, lead=translate(language, closed_lead))
        await self._show(client, submission, form, instead)
        observe("modal.create", outcome, user=submission.actor.user_id, started=submission.started)

    def _form(
        self,
        submission: Submission,
        banner: str,
        metadata: ModalMetadata,
        *,
        after_warnings: bool = False,
    ) -> dict[str, Any]:
        return create_modal(
            submission.actor.language,
            catalogue=self.surface.handlers.catalogue,
            today=self.surface.now().date(),
            metadata=metadata,
            location=self.surface.handlers.location,
            values=submission.form,
            banner=banner,
            after_warnings=after_warnings,
        )

    async def create(
        self, submission: Submission, summary: str | None, client: AsyncWebClient
    ) -> None:
        """Create the job and say how it went in the modal; Google's refusal brings the form
        back with the values kept."""
        started = await self.start(submission, summary, client)
        if started.refusal is not None:
            form_view = self._form(submission, started.refusal, submission.metadata)
            await self._show(client, submission, form_view, started.refusal)
            return
        # An unconfirmed create is also said in the channel if the form was closed meanwhile.
        instead = started.text if started.outcome == "create_unknown" else None
        await self._show(
            client, submission, message_modal(submission.actor.language, started.text), instead
        )

    async def start(
        self, submission: Submission, summary: str | None, client: AsyncWebClient
    ) -> Started:
        """Create the job once, post its status card and remember the watch."""
        actor, view_id, started = submission.actor, submission.view_id, submission.started
        try:
            created = await self.surface.handlers.submit(
                actor, view_id, submission.spec, _card_note(submission, summary)
            )
        except CreateUnconfirmed:
            # Never sent again on the bot's own initiative: keep looking, then ask the user.
            self.surface.after_ack(
                self.keep_looking(submission, summary, client),
                if_abandoned=lambda: self._restarting(submission, client),
            )
            observe("modal.create", "create_unknown", user=actor.user_id, started=started)
            channel = f"<#{actor.channel_id}>" if actor.channel_id else ""
            text = translate(actor.language, "create.looking", channel=channel)
            return Started(text, "create_unknown")
        except HandlerError as exc:
            # Keep the modal and the user's values; Google's message and the fix lead it.
            self.surface.submissions.forget(view_id)
            text = f":x: {problem_text(actor.language, exc.problem)}"
            observe("modal.create", exc.outcome, user=actor.user_id, started=started)
            return Started(text, exc.outcome, refusal=text)
        job = created.job
        if created.repeat:
            observe("modal.create", "repeat", user=actor.user_id, job=job.name, started=started)
        else:
            observe("modal.create", "ok", user=actor.user_id, job=job.name, started=started)
        return Started(
            await self._created_text(actor, created, client), "repeat" if created.repeat else "ok"
        )

    async def _created_text(self, actor: Actor, created: Created, client: AsyncWebClient) -> str:
        """What the modal says once the job exists; a card Slack refused is said in the channel."""
        job = created.job
        if created.card_error in NOT_IN_CHANNEL and not created.watch_lost:
            # Nothing can be said in a channel the bot is not in: the form says it. The watch
            # is kept and the watcher tries the card again at its next poll (and ends the watch
            # if the bot is still not there), hence the fallback to /tune watch.
            return translate(
                actor.language,
                "modal.card_not_in_channel",
                name=job_title(job),
                job=code(job.name),
                channel=f"<#{actor.channel_id}>",
                error=escape(created.card_error),
                ref=code_text(job.name),
            )
        if created.card_error is not None:
            error = escape(created.card_error)
            note = translate(actor.language, "modal.card_failed", job=code(job.name), error=error)
            await self._tell(client, actor, note)
        if created.watch_lost:
            return translate(actor.language, "modal.watch_not_saved", job=code(job.name))
        # A form opened from Home or a shortcut may post the card in the user's DM with the bot.
        channel = str(actor.channel_id or "")
        key = "modal.created_in_dm" if channel.startswith("D") else "modal.created"
        return translate(
            actor.language, key, name=job_title(job), job=code(job.name), channel=f"<#{channel}>"
        )

    async def keep_looking(
        self, submission: Submission, summary: str | None, client: AsyncWebClient
    ) -> None:
        """Look for the unconfirmed job for minutes; post its card when found, else offer to
        create it again (the user's explicit word, never the bot's)."""
        handlers, actor = self.surface.handlers, submission.actor
        for delay in handlers.lookups.background:
            await self.surface.sleep(delay)
            try:
                job = await handlers.find_created(submission.view_id, submission.spec)
            except GoogleFailed as exc:
                log.info("look-up of an unconfirmed create failed", extra={"error": exc.status})
                continue
            if job is None:
                continue
            created = await handlers.follow_created(actor, job, _card_note(submission, summary))
            if created.card_error is not None or created.watch_lost:
                await self._created_text(actor, created, client)
            text = translate(actor.language, "create.found_late", job=code(job.name))
            await self._tell(client, actor, text)
            observe("modal.create", "found_late", user=actor.user_id, job=job.name)
            return
        token = self.surface.pending_creates.put((submission, summary))
        text = translate(
            actor.language,
            "create.not_found",
            name=literal(submission.spec.display_name or submission.spec.base_model),
        )
        await self._tell(client, actor, text, create_again_blocks(actor.language, text, token))
        observe("modal.create", "not_found", user=actor.user_id)

    async def _restarting(self, submission: Submission, client: AsyncWebClient) -> None:
        """A shutdown cut the create short: say where to look before submitting again."""
        text = translate(submission.actor.language, "cmd.restarting_create")
        await self._show(client, submission, message_modal(submission.actor.language, text), text)

    async def _tell(
        self,
        client: AsyncWebClient,
        actor: Actor,
        text: str,
        blocks: list[dict[str, Any]] | None = None,
    ) -> None:
        try:
            await client.chat_postEphemeral(
                channel=str(actor.channel_id), user=actor.user_id, text=text, blocks=blocks
            )
        except SlackApiError as exc:
            log.warning("could not tell the user", extra={"error": exc.response.get("error")})


def _source_labels(metadata: ModalMetadata, surface: Surface) -> dict[str, str]:
    """The label linking a job started from Run again to the job its form was filled from."""
    if metadata.source_job is None:
        return {}
    try:
        source = JobRef.from_name(metadata.source_job)
    except DomainError:  # metadata is the client's to send: a bad name links nothing
        return {}
    return rerun_labels(source, surface.handlers.location)


def _card_note(submission: Submission, summary: str | None) -> str | None:
    """The form's warnings and the data summary, shown on the card (which escapes them)."""
    notes = [render(submission.actor.language, w) for w in submission.warnings]
    return " ".join([*notes, summary or ""]).strip() or None


def _state_values(view: dict[str, Any]) -> dict[str, Any]:
    state = view.get("state")
    values = state.get("values") if isinstance(state, dict) else None
    return values if isinstance(values, dict) else {}
