"""Safe mrkdwn: escaping of user and API text, and Slack's date formatting."""

from __future__ import annotations

import datetime as dt


def escape(text: str | None) -> str:
    """Escape `&`, `<`, `>` so text can never become a mention, a link or `<!channel>`."""
    if not text:
        return ""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def code(text: str | None) -> str:
    """Inline code: escaped, with backticks removed so the span cannot be broken out of."""
    return "`" + escape(text).replace("`", "'") + "`" if text else ""


def slack_date(when: dt.datetime, fmt: str = "{date_short_pretty} {time}") -> str:
    """A timestamp Slack renders in each reader's own time zone."""
    stamp = int(when.timestamp())
    fallback = when.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{stamp}^{fmt}|{fallback}>"


def format_duration(delta: dt.timedelta) -> str:
    """`1h 05m`, `12m 03s` or `45s`."""
    seconds = max(0, int(delta.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}h {minutes:02d}m"
    if minutes:
        return f"{minutes}m {secs:02d}s"
    return f"{secs}s"


def truncate(text: str, limit: int) -> str:
    """Cut text to `limit` characters, marking the cut with an ellipsis."""
    return text if len(text) <= limit else text[: max(0, limit - 1)] + "…"
