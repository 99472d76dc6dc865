"""The watcher's Slack side: status cards edited in place, endings replied in their thread.

Build the `AsyncWebClient` with `retry_handlers=[]`: a transparent retry of `chat.postMessage`
after a lost connection could post an ending twice; the poller decides what to retry instead.

Which failures prove a post did not happen: only Slack's own answer, `{"ok": false, "error":
…}` below HTTP 500, and HTTP 429. Anything else may have been posted before the answer was
lost: a timeout or reset connection, any HTTP 5xx (a proxy or Slack's edge failing after the
message was stored), a body that is not Slack's JSON (slack_sdk raises `SlackApiError` for it,
sometimes with the raw aiohttp response attached), and the `ok: false` codes Slack documents as
"some part may have succeeded" (`internal_error`, `fatal_error`, ...). Those raise
`NotifyError(..., delivered_unknown=True)`, and the poller looks in the thread before posting
an ending again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from bot.metrics import SLACK_CALLS
from bot.slack.messages.ending import (
    ENDING_EVENT_TYPE,
    ending_message,
    ending_metadata,
    gone_message,
    paused_message,
    read_failing_message,
    read_recovered_message,
)
from bot.slack.messages.status_card import render_status_card
from bot.slack.messages.subscription_notes import location_unreadable_message
from bot.tuning.curves import Progress
from bot.tuning.job import TuningJob
from bot.tuning.problems import DomainError
from bot.tuning.refs import JobRef
from bot.tuning.subscriptions import ALL_MESSAGES, Delivery, Subscription
from bot.watch.model import Watch, WatchKind
from bot.watch.notify import ChannelGone, LeaseLapsed, NotifyError, RateLimited, always_ours

log = logging.getLogger(__name__)

# Errors after which the channel will never accept the bot's messages again.
CHANNEL_GONE_ERRORS = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "team_access_not_granted"}
)
# chat.update errors that mean "the card is gone": post a fresh one instead.
_CARD_GONE_ERRORS = frozenset({"message_not_found", "cant_update_message", "edit_window_closed"})
# `ok: false` codes after which Slack does not promise that nothing happened.
_UNSURE_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


def _retry_after(response: Any) -> float:
    headers = getattr(response, "headers", None) or {}
    for key in ("Retry-After", "retry-after"):
        value = headers.get(key)
        if isinstance(value, list):
            value = value[0] if value else None
        if value is not None:
            try:
                return max(float(value), 0.0)
            except ValueError:
                break
    return 1.0


def _form_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# A user waits for the first card: a short 429 is waited out (it proves nothing was posted).
FIRST_CARD_ATTEMPTS = 3
FIRST_CARD_MAX_WAIT = 30.0


class SlackNotifier:
    """The publisher of job messages on the Slack Web API: the watcher's
    `bot.watch.notify.Notifier` and the handlers' `bot.handlers.ports.CardPublisher`."""

    def __init__(
        self,
        client: AsyncWebClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._client = client
        self._clock = clock
        self._sleep = sleep
        # (method, channel) -> monotonic time before which Slack asked us not to call.
        self._blocked: dict[tuple[str, str], float] = {}

    async def _call(
        self,
        method: str,
        channel: str,
        *,
        read: bool = False,
        still_ours: Callable[[], bool] = always_ours,
        target: str = "channel",
        **kwargs: Any,
    ) -> AsyncSlackResponse:
        # `channel` is what Slack limits the method per: a channel, or a user's Home tab.
        key = (method, channel)
        until = self._blocked.get(key)
        if until is not None:
            wait = until - self._clock()
            if wait > 0:
                # Another watch in this channel already hit the limit: don't spend a request.
                raise RateLimited("ratelimited", wait)
            del self._blocked[key]
        try:
            if read:
                # Slack's read methods take form or query arguments, not JSON bodies.
                params = {k: _form_value(v) for k, v in kwargs.items()}
                return await self._client.api_call(
                    method, http_verb="GET", params={"channel": channel, **params}
                )
            if not still_ours():
                # Asked as late as the request allows: a process frozen after the store
                # confirmed its lease must not post what another replica may have posted since.
                raise LeaseLapsed("lease_lapsed")
            return await self._client.api_call(method, json={target: channel, **kwargs})
        except SlackApiError as error:
            raise self._refused(method, key, error.response) from None
        except (aiohttp.ClientError, TimeoutError) as error:
            SLACK_CALLS.labels(method=method, error="connection").inc()
            raise NotifyError(type(error).__name__, delivered_unknown=True) from None
        except (AttributeError, TypeError, ValueError):
            # slack_sdk fails this way on a 200 answer whose body is text, not JSON.
            SLACK_CALLS.labels(method=method, error="bad_answer").inc()
            raise NotifyError("bad_answer", delivered_unknown=True) from None

    def _refused(self, method: str, key: tuple[str, str], response: Any) -> NotifyError:
        """The NotifyError for an answer slack_sdk rejected."""
        # An `AsyncSlackResponse`, or the raw aiohttp response when the body was not JSON.
        status = getattr(response, "status_code", None) or getattr(response, "status", None)
        data = getattr(response, "data", None)
        code = data.get("error") if isinstance(data, dict) else None
        label = str(code) if isinstance(code, str) and code else f"http_{status}"
        SLACK_CALLS.labels(method=method, error=label).inc()
        if status == 429:
            wait = _retry_after(response)
            self._blocked[key] = self._clock() + wait
            return RateLimited(label, wait)
        said_no = (
            isinstance(status, int)
            and status < 500
            and isinstance(data, dict)
            and data.get("ok") is False
            and isinstance(code, str)
            and bool(code)
            and code not in _UNSURE_ERRORS
        )
        if not said_no:
            # 5xx, a body that is not Slack's JSON, or an error Slack does not vouch for:
            # the message may be in the channel already.
            return NotifyError(label, delivered_unknown=True)
        if label in CHANNEL_GONE_ERRORS:
            return ChannelGone(label)
        return NotifyError(label)

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
        """Post a job's first status card in the channel; returns its ts."""
        text, blocks = render_status_card(
            job,
            started_by=started_by,
            watched_by=watched_by,
            language=language,
            preflight_summary=note,
        )
        for attempt in range(1, FIRST_CARD_ATTEMPTS + 1):
            try:
                response = await self._call(
                    "chat.postMessage", channel_id, text=text, blocks=blocks
                )
                return str(response["ts"])
            except RateLimited as limited:
                if attempt == FIRST_CARD_ATTEMPTS or limited.retry_after > FIRST_CARD_MAX_WAIT:
                    raise
                await self._sleep(limited.retry_after)
        raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises

    async def withdraw_card(self, channel_id: str, ts: str) -> None:
        """Delete a card whose watch could not be saved: a card that never changes again would
        tell the channel the job is stuck."""
        try:
            await self._call("chat.delete", channel_id, ts=ts)
        except NotifyError as error:
            log.warning("could not withdraw the card", extra={"error": error.error})

    async def show_status(self, watch: Watch, job: TuningJob) -> str:
        """Edit the status card in place; post a new one when there is none (or it was deleted)."""
        # A `watch` row holds whoever typed `/tune watch`, not whoever started the job.
        created = watch.kind is WatchKind.CREATED
        text, blocks = render_status_card(
            job,
            started_by=watch.started_by if created else None,
            watched_by=None if created else watch.started_by,
            language=watch.language,
            preflight_summary=watch.card_note,
            cancelled_by=watch.cancelled_by,
            progress=Progress.decode(watch.card_progress),
        )
        if watch.message_ts is not None:
            try:
                await self._call(
                    "chat.update", watch.channel_id, ts=watch.message_ts, text=text, blocks=blocks
                )
                return watch.message_ts
            except NotifyError as error:
                if type(error) is not NotifyError or error.error not in _CARD_GONE_ERRORS:
                    raise
        response = await self._call("chat.postMessage", watch.channel_id, text=text, blocks=blocks)
        return str(response["ts"])

    async def _reply(
        self,
        watch: Watch,
        text: str,
        still_ours: Callable[[], bool] = always_ours,
        *,
        in_thread: bool = True,
        **extra: Any,
    ) -> None:
        threaded = in_thread and watch.message_ts is not None
        thread: dict[str, Any] = {"thread_ts": watch.message_ts} if threaded else {}
        await self._call(
            "chat.postMessage",
            watch.channel_id,
            still_ours=still_ours,
            text=text,
            unfurl_links=False,
            **thread,
            **extra,
        )

    async def announce_ending(
        self,
        watch: Watch,
        job: TuningJob,
        *,
        still_ours: Callable[[], bool] = always_ours,
        delivery: Delivery = ALL_MESSAGES,
    ) -> None:
        """Thread reply (also shown in the channel on success, unless the channel's settings
        say otherwise) naming the model and endpoint; a message of its own when the watch has
        no card or the channel wants endings at the top level."""
        mention: str | None = watch.started_by
        if watch.kind is WatchKind.SUBSCRIBED:
            mention = None  # the subscriber did not start the job: nobody to call on
        elif not job.state.succeeded and not delivery.mention_on_failure:
            mention = None
        text, blocks = ending_message(
            job,
            started_by=mention,
            language=watch.language,
            display_name=watch.display_name,
            cancelled_by=watch.cancelled_by,
        )
        threaded = delivery.in_thread and watch.message_ts is not None
        await self._reply(
            watch,
            text,
            still_ours,
            in_thread=delivery.in_thread,
            blocks=blocks,
            reply_broadcast=job.state.succeeded and threaded and delivery.broadcast_success,
            metadata=ending_metadata(watch.job_name, watch.id),
        )

    async def note_location_unreadable(self, subscription: Subscription, reason: str) -> None:
        """Tell a subscribed channel, once, that Google refuses the bot's reads of the
        subscribed project and region."""
        text = location_unreadable_message(subscription, reason)
        await self._call("chat.postMessage", subscription.channel_id, text=text)

    async def announce_gone(
        self, watch: Watch, *, still_ours: Callable[[], bool] = always_ours
    ) -> None:
        """Thread reply saying the job no longer exists."""
        text, blocks = gone_message(
            watch.job_name, display_name=watch.display_name, language=watch.language
        )
        metadata = ending_metadata(watch.job_name, watch.id)
        await self._reply(watch, text, still_ours, blocks=blocks, metadata=metadata)

    async def note_paused(self, watch: Watch, job: TuningJob) -> None:
        """Thread reply saying the job is paused."""
        await self._reply(
            watch, paused_message(job, language=watch.language, display_name=watch.display_name)
        )

    async def note_read_failing(
        self, watch: Watch, *, status: str, message: str, denied: bool
    ) -> None:
        """Thread reply: Google refuses the bot's reads of this job (and what to grant)."""
        await self._reply(
            watch,
            read_failing_message(
                watch.job_name,
                display_name=watch.display_name,
                language=watch.language,
                project=watch.project,
                status=status,
                message=message,
                denied=denied,
            ),
        )

    async def note_read_recovered(self, watch: Watch) -> None:
        """Thread reply: the job can be read again."""
        await self._reply(
            watch,
            read_recovered_message(
                watch.job_name, display_name=watch.display_name, language=watch.language
            ),
        )

    async def publish_home(self, user_id: str, view: dict[str, Any]) -> None:
        """Set the user's Home tab (`views.publish`), held back per user after a 429 as cards
        are per channel; raises `NotifyError`."""
        await self._call("views.publish", user_id, target="user_id", view=view)

    async def ending_posted(self, watch: Watch) -> bool | None:
        """Look in the card's thread for this watch's ending (needs `channels:history`).

        A check that failed for now (rate limit, 5xx, timeout) raises, so the caller retries
        later instead of posting blind; a refusal (no history scope) answers None.
        """
        if watch.message_ts is None:
            return None
        try:
            response = await self._call(
                "conversations.replies",
                watch.channel_id,
                read=True,
                ts=watch.message_ts,
                include_all_metadata=True,
                limit=200,
            )
        except NotifyError as error:
            log.info("could not check thread for an earlier ending", extra={"error": error.error})
            if isinstance(error, RateLimited) or error.delivered_unknown:
                raise
            return None
        messages = response.get("messages")
        if not isinstance(messages, list):
            return None
        for message in messages:
            metadata = message.get("metadata") if isinstance(message, dict) else None
            if not isinstance(metadata, dict) or metadata.get("event_type") != ENDING_EVENT_TYPE:
                continue
            payload = metadata.get("event_payload") or {}
            if payload.get("watch") == str(watch.id) and _names_job(payload.get("job"), watch):
                return True
        return False


def _names_job(name: object, watch: Watch) -> bool:
    # The watch may have learned Google's spelling of the name (by project number) after the
    # ending was posted under the other one.
    try:
        return isinstance(name, str) and JobRef.from_name(name).same_job(watch.ref)
    except DomainError:
        return False
