"""Safe mrkdwn: escaping of user and API text, and Slack's date formatting."""

from __future__ import annotations

import datetime as dt
import re

from bot.i18n import translate


def escape(text: str | None) -> str:
    """Escape `&`, `<`, `>` so text can never become a mention, a link or `<!channel>`."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


# Slack's mrkdwn has no escape for its formatting marks: a backslash shows as typed. A
# zero-width space on each side keeps a mark from pairing with another into bold, italics,
# strike-through or code, and is not seen.
_MARKS = re.compile(r"([*_~`])")


def literal(text: str | None) -> str:
    """Escaped text whose `*`, `_`, `~` and backticks show as typed instead of formatting it
    (for names users chose, such as a tuned model's display name)."""
    return _MARKS.sub("\u200b\\1\u200b", escape(text))


def code_text(text: str | None) -> str:
    """Text that is safe inside a code span: escaped, and with no backtick to close the span
    (a catalogue template may put a user's value between backticks)."""
    return escape(text).replace("`", "'")


def code(text: str | None) -> str:
    """Inline code whose content cannot break out of the span."""
    return f"`{code_text(text)}`" if text else ""


def slack_date(when: dt.datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A timestamp Slack renders in each reader's own time zone."""
    stamp = int(when.timestamp())
    fallback = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{fmt}|{fallback}>"


def format_duration(delta: dt.timedelta, language: str) -> str:
    """A duration in `language`: `1h 05m`, `12m 03s` or `45s` (`1時間05分`, `12分03秒`, `45秒`)."""
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return translate(language, "duration.hours_minutes", hours=hours, minutes=f"{minutes:02d}")
    if minutes:
        return translate(
            language, "duration.minutes_seconds", minutes=minutes, seconds=f"{secs:02d}"
        )
    return translate(language, "duration.seconds", seconds=secs)


def truncate(text: str, limit: int) -> str:
    """Cut text to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
