"""Channel subscriptions: what `/tune subscribe`, `unsubscribe`, `subscriptions` and `debug`
answer, and the `/tune settings` modal with the reading of its submission."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from slack_sdk.models.blocks import (
    Block,
    CheckboxesElement,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    RadioButtonsElement,
)
from slack_sdk.models.views import View

from bot.i18n import translate
from bot.slack import ids
from bot.slack.messages.shared import MAX_MESSAGE_TEXT, Message, message, section
from bot.slack.mrkdwn import code, escape, literal, slack_date, truncate
from bot.tuning.refs import Location
from bot.tuning.subscriptions import (
    DEFAULT_SETTINGS,
    ChannelDebug,
    ChannelSettings,
    DeliveryError,
    Events,
    JobFilter,
    LocationRead,
    Subscription,
)

# Message keys are written out, not composed, so that a test can check each one exists.
EVENTS_KEYS: dict[Events, str] = {
    Events.ALL: "subs.events_all",
    Events.ENDED: "subs.events_ended",
    Events.FAILED: "subs.events_failed",
}
# What to do about a message Slack refused, by Slack's error code.
DELIVERY_ADVICE_KEYS: dict[str, str] = {
    "not_in_channel": "debug.advice_not_in_channel",
    "channel_not_found": "debug.advice_gone",
    "is_archived": "debug.advice_gone",
    "ratelimited": "debug.advice_ratelimited",
}
MAX_LISTED = 40  # subscriptions in `/tune subscriptions` (a channel rarely has more than a few)
MAX_DEBUG_LINES = 10  # lines per part of `/tune debug`
MAX_WORD = 80  # characters of one filter word shown (labels and names may be long)
MAX_ERROR = 300  # characters of Google's or Slack's reason shown
# A part of `/tune debug`: five of them stay under Slack's limit for a whole message.
MAX_DEBUG_SECTION = 2000
MAX_SAMPLE_NAME = 60


def location_text(location: Location) -> str:
    """`project` / `region`, as code."""
    return f"{code(location.project)} / {code(location.region)}"


def filter_text(spec: JobFilter, language: str) -> str:
    """The filter as its command words in code, or "every job" when there is none."""
    if spec.is_empty:
        return translate(language, "subs.no_filters")
    return " ".join(code(truncate(word, MAX_WORD)) for word in spec.words())


def events_text(events: Events, language: str) -> str:
    """Which moments of a job are announced, in words."""
    return translate(language, EVENTS_KEYS[events])


def _details(sub: Subscription, language: str) -> list[str]:
    return [
        f"*{translate(language, 'subs.filters_label')}:* {filter_text(sub.spec.filter, language)}",
        f"*{translate(language, 'subs.events_label')}:* {events_text(sub.spec.events, language)}",
    ]


def _access_error(sub: Subscription, language: str) -> str:
    return translate(
        language,
        "subs.access_error",
        location=location_text(sub.location),
        error=escape(truncate(sub.access_error or "", MAX_ERROR)),
        project=code(sub.location.project),
    )


def subscribed_reply(sub: Subscription, *, created: bool, backfilled: int, language: str) -> str:
    """What the subscriber is told: what is subscribed now, that older jobs are not announced
    (but for the running ones that just got a card) and that endings land in the channel."""
    key = "subs.subscribed" if created else "subs.replaced"
    lines = [translate(language, key, location=location_text(sub.location))]
    lines += _details(sub, language)
    if backfilled > 0:
        lines.append(translate(language, "subs.backfilled", count=backfilled))
    else:
        lines.append(translate(language, "subs.no_backfill"))
    lines.append(translate(language, "subs.endings_here"))
    return "\n".join(lines)


def subscribed_notice(sub: Subscription, *, language: str) -> str:
    """The channel's public note that someone subscribed it."""
    return translate(
        language,
        "subs.notice",
        user=escape(sub.created_by),
        location=location_text(sub.location),
        filters=filter_text(sub.spec.filter, language),
    )


def unsubscribed_reply(removed: Subscription | None, location: Location, language: str) -> str:
    """The subscription was removed, or the channel had none for the location."""
    key = "subs.unsubscribed" if removed is not None else "subs.not_subscribed"
    return translate(language, key, location=location_text(location))


def not_yours_reply(sub: Subscription, language: str) -> str:
    """Only the subscription's creator or an admin may remove it."""
    return translate(
        language,
        "subs.not_yours",
        user=escape(sub.created_by),
        location=location_text(sub.location),
    )


def _subscription_section(sub: Subscription, language: str) -> str:
    lines = [f"*{location_text(sub.location)}*", *_details(sub, language)]
    lines.append(
        translate(
            language,
            "subs.created_by",
            user=escape(sub.created_by),
            date=slack_date(sub.created_at),
        )
    )
    if sub.access_error:
        lines.append(_access_error(sub, language))
    return "\n".join(lines)


def _left_out(count: int, language: str) -> ContextBlock:
    text = translate(language, "subs.left_out", count=count)
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def subscriptions_message(
    subs: Sequence[Subscription], *, language: str, channel_id: str
) -> Message:
    """The channel's subscriptions, one section each; when there is none, how to subscribe."""
    heading = translate(language, "subs.list_title", channel=escape(channel_id))
    blocks: list[Block] = [section(f"*{heading}*")]
    if not subs:
        blocks.append(section(translate(language, "subs.list_empty")))
        return message(heading, blocks)
    budget = MAX_MESSAGE_TEXT - len(heading) - 200
    shown = 0
    for sub in subs[:MAX_LISTED]:
        text = _subscription_section(sub, language)
        budget -= min(len(text), 3000)
        if budget < 0:
            break
        blocks.append(section(text))
        shown += 1
    if shown < len(subs):
        blocks.append(_left_out(len(subs) - shown, language))
    return message(heading, blocks)


def _capped(title: str, lines: Sequence[str], language: str, *, total: int | None = None) -> str:
    """A titled list of at most MAX_DEBUG_LINES lines within a section's limit, and how many
    were left out of `total` (the lines given, unless more exist than were handed in)."""
    out = [f"*{title}*"]
    length = len(out[0])
    for line in lines[:MAX_DEBUG_LINES]:
        if length + len(line) + 1 > MAX_DEBUG_SECTION:
            break
        out.append(line)
        length += len(line) + 1
    left = (len(lines) if total is None else max(total, len(lines))) - (len(out) - 1)
    if left > 0:
        out.append(translate(language, "subs.left_out", count=left))
    return "\n".join(out)


def settings_lines(settings: ChannelSettings, language: str) -> list[str]:
    """The channel's settings, one line each."""

    def mark(on: bool) -> str:
        return ":white_check_mark:" if on else ":heavy_minus_sign:"

    endings = "settings.endings_thread" if settings.thread_endings else "settings.endings_top"
    cards = "settings.cards_on" if settings.cards else "settings.cards_off"
    return [
        f"• {translate(language, cards)}",
        f"• {translate(language, endings)}",
        f"{mark(settings.broadcast_success)} {translate(language, 'settings.broadcast')}",
        f"{mark(settings.mention_on_failure)} {translate(language, 'settings.mention')}",
    ]


def _read_line(location: Location, read: LocationRead | None, language: str) -> str:
    where = location_text(location)
    if read is not None and read.error:
        error = escape(truncate(read.error, MAX_ERROR))
        return translate(language, "debug.read_failed", location=where, error=error)
    if read is None or read.read_at is None:
        return translate(language, "debug.read_never", location=where)
    return translate(
        language,
        "debug.read_at",
        location=where,
        date=slack_date(read.read_at),
        calls=read.calls,
    )


def _delivery_line(error: DeliveryError, language: str) -> str:
    advice = translate(language, DELIVERY_ADVICE_KEYS.get(error.error, "debug.advice_other"))
    head = f"{slack_date(error.at)}  {code(truncate(error.error, MAX_WORD))}"
    if error.job_name:
        head += f"  {literal(truncate(error.job_name, MAX_SAMPLE_NAME))}"
    return f"{head}\n    {advice}"


def debug_message(report: ChannelDebug, *, language: str) -> Message:
    """What the bot knows about the channel, to find why a message did not come."""
    heading = translate(language, "debug.title", channel=escape(report.channel_id))
    blocks: list[Block] = [section(f"*{heading}*")]
    subs = [
        f"• {location_text(s.location)}  {filter_text(s.spec.filter, language)}  ·  "
        f"{events_text(s.spec.events, language)}"
        + (f"\n    {_access_error(s, language)}" if s.access_error else "")
        for s in report.subscriptions
    ]
    title = translate(language, "debug.subscriptions", count=len(subs))
    blocks.append(
        section(_capped(title, subs, language) if subs else f"*{title}*\n" + _none(language))
    )
    settings = settings_lines(report.settings, language)
    blocks.append(section(_capped(translate(language, "debug.settings"), settings, language)))
    locations = list(dict.fromkeys([*(s.location for s in report.subscriptions), *report.reads]))
    reads = [_read_line(loc, report.reads.get(loc), language) for loc in locations]
    title = translate(language, "debug.reads")
    blocks.append(
        section(_capped(title, reads, language) if reads else f"*{title}*\n" + _none(language))
    )
    sample = [f"• {literal(truncate(name, MAX_SAMPLE_NAME))}" for name in report.followed_sample]
    title = translate(language, "debug.followed", count=report.followed)
    blocks.append(section(_capped(title, sample, language, total=report.followed)))
    errors = [_delivery_line(e, language) for e in report.delivery_errors]
    title = translate(language, "debug.errors")
    text = (
        _capped(title, errors, language)
        if errors
        else f"*{title}*\n" + translate(language, "debug.no_errors")
    )
    blocks.append(section(text))
    return message(heading, blocks)


def _none(language: str) -> str:
    return translate(language, "debug.none")


def _option(value: str, key: str, language: str) -> Option:
    return Option(value=value, text=translate(language, key))


def settings_modal(settings: ChannelSettings, *, channel_id: str, language: str) -> dict[str, Any]:
    """The `/tune settings` modal, filled with the channel's current settings."""
    thread = _option(ids.SETTINGS_THREAD, "settings.endings_thread", language)
    top = _option(ids.SETTINGS_TOP_LEVEL, "settings.endings_top", language)
    cards_on = _option(ids.SETTINGS_ON, "settings.cards_on", language)
    cards_off = _option(ids.SETTINGS_OFF, "settings.cards_off", language)
    broadcast = _option(ids.SETTINGS_ON, "settings.broadcast", language)
    mention = _option(ids.SETTINGS_ON, "settings.mention", language)
    intro = translate(language, "settings.intro", channel=escape(channel_id))
    blocks: list[Block] = [
        section(intro),
        InputBlock(
            block_id=ids.SETTINGS_CARDS,
            label=translate(language, "settings.cards_label"),
            element=RadioButtonsElement(
                action_id=ids.SETTINGS_CARDS,
                options=[cards_on, cards_off],
                initial_option=cards_on if settings.cards else cards_off,
            ),
        ),
        InputBlock(
            block_id=ids.SETTINGS_ENDINGS,
            label=translate(language, "settings.endings_label"),
            element=RadioButtonsElement(
                action_id=ids.SETTINGS_ENDINGS,
                options=[thread, top],
                initial_option=thread if settings.thread_endings else top,
            ),
        ),
        InputBlock(
            block_id=ids.SETTINGS_BROADCAST,
            label=translate(language, "settings.broadcast_label"),
            optional=True,
            element=_checkbox(ids.SETTINGS_BROADCAST, broadcast, settings.broadcast_success),
        ),
        InputBlock(
            block_id=ids.SETTINGS_MENTION,
            label=translate(language, "settings.mention_label"),
            optional=True,
            element=_checkbox(ids.SETTINGS_MENTION, mention, settings.mention_on_failure),
        ),
    ]
    view = View(
        type="modal",
        callback_id=ids.CHANNEL_SETTINGS,
        title=translate(language, "settings.title"),
        submit=translate(language, "settings.submit"),
        close=translate(language, "modal.close"),
        private_metadata=channel_id,
        blocks=blocks,
    )
    return view.to_dict()


def _checkbox(action_id: str, option: Option, checked: bool) -> CheckboxesElement:
    # Slack refuses an empty `initial_options`: leave it out when unchecked.
    if checked:
        return CheckboxesElement(action_id=action_id, options=[option], initial_options=[option])
    return CheckboxesElement(action_id=action_id, options=[option])


def _element(values: Mapping[str, Any], block: str) -> dict[str, Any] | None:
    field = values.get(block)
    element = field.get(block) if isinstance(field, dict) else None
    return element if isinstance(element, dict) else None


def _radio(values: Mapping[str, Any], block: str, on: str, off: str, default: bool) -> bool:
    element = _element(values, block)
    selected = element.get("selected_option") if element is not None else None
    value = selected.get("value") if isinstance(selected, dict) else None
    if value == on:
        return True
    if value == off:
        return False
    return default


def _checked(values: Mapping[str, Any], block: str, default: bool) -> bool:
    element = _element(values, block)
    if element is None or not isinstance(element.get("selected_options"), list):
        return default
    chosen = element["selected_options"]
    return any(isinstance(o, dict) and o.get("value") == ids.SETTINGS_ON for o in chosen)


def read_settings(view: Mapping[str, Any]) -> tuple[str, ChannelSettings]:
    """The channel id and the settings of a submitted settings modal; a value missing from the
    submission reads as its default."""
    metadata = view.get("private_metadata")
    channel = metadata if isinstance(metadata, str) else ""
    state = view.get("state")
    raw = state.get("values") if isinstance(state, dict) else None
    values: Mapping[str, Any] = raw if isinstance(raw, dict) else {}
    d = DEFAULT_SETTINGS
    settings = ChannelSettings(
        thread_endings=_radio(
            values,
            ids.SETTINGS_ENDINGS,
            ids.SETTINGS_THREAD,
            ids.SETTINGS_TOP_LEVEL,
            d.thread_endings,
        ),
        broadcast_success=_checked(values, ids.SETTINGS_BROADCAST, d.broadcast_success),
        cards=_radio(values, ids.SETTINGS_CARDS, ids.SETTINGS_ON, ids.SETTINGS_OFF, d.cards),
        mention_on_failure=_checked(values, ids.SETTINGS_MENTION, d.mention_on_failure),
    )
    return channel, settings


def settings_saved_reply(settings: ChannelSettings, language: str) -> str:
    """The channel's settings as saved."""
    return "\n".join([translate(language, "settings.saved"), *settings_lines(settings, language)])
