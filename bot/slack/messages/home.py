"""The App Home tab: the New tuning job button, the user's jobs and the team's active ones.

Nothing drawn here goes stale while the tab is open: times are Slack date tokens, and a
duration appears only once a job has ended.
"""

from __future__ import annotations

import json
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)

from bot.handlers.home import Home, HomeJob
from bot.i18n import translate
from bot.slack import ids
from bot.slack.messages.shared import MAX_TITLE, section, state_label
from bot.slack.messages.status_card import cancel_button
from bot.slack.mrkdwn import code, format_duration, literal, slack_date, truncate
from bot.tuning.job import TuningJob
from bot.tuning.problems import Problem

MAX_HOME_BLOCKS = 100
MAX_METADATA = 3000


def home_metadata(channel_id: str | None) -> str:
    """What a Home view carries for its buttons: the user's direct-message channel with the
    bot, where a job started from Home posts its card."""
    return json.dumps({"c": channel_id or ""}, separators=(",", ":"))


def home_channel(view: Any) -> str | None:
    """The channel a Home view's metadata names; None when it is not ours."""
    if not isinstance(view, dict):
        return None
    try:
        data = json.loads(str(view.get("private_metadata") or ""))
    except (ValueError, RecursionError):
        return None
    channel = data.get("c") if isinstance(data, dict) else None
    return channel if isinstance(channel, str) and channel else None


def _title(name: str, display_name: str | None) -> str:
    if display_name:
        return literal(truncate(display_name, MAX_TITLE))
    return f"#{name.rsplit('/', 1)[-1]}"


def _plain_title(name: str, display_name: str | None) -> str:
    return display_name or f"#{name.rsplit('/', 1)[-1]}"


def _details(job: TuningJob | None, job_id: str, language: str) -> str:
    """`model · created <date> · took 1h 05m · id`: what does not change while shown."""
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    parts = [code(truncate(job.base_model, MAX_TITLE)) if job and job.base_model else "—"]
    if job is not None and job.create_time is not None:
        parts.append(t("home.created", date=slack_date(job.create_time)))
    if job is not None and job.state.has_ended and job.create_time and job.end_time:
        parts.append(
            t("home.took", duration=format_duration(job.end_time - job.create_time, language))
        )
    parts.append(code(job_id))
    return "  ·  ".join(parts)


def _get_button(name: str, language: str) -> ButtonElement:
    return ButtonElement(
        text=translate(language, "home.get"), action_id=ids.HOME_JOB_GET, value=name
    )


def _mine(entry: HomeJob, language: str, *, active: bool) -> list[Block]:
    head = f"{state_label(entry.state, language)}  *{_title(entry.name, entry.display_name)}*"
    text = f"{head}\n{_details(entry.job, entry.ref.job_id, language)}"
    if not active:
        return [
            SectionBlock(
                text=MarkdownTextObject(text=text), accessory=_get_button(entry.name, language)
            )
        ]
    buttons = [_get_button(entry.name, language)]
    if entry.can_cancel:
        title = _plain_title(entry.name, entry.display_name)
        buttons.append(cancel_button(entry.name, title, language))
    return [section(text), ActionsBlock(elements=buttons)]


def _team(job: TuningJob, language: str) -> Block:
    head = f"{state_label(job.state, language)}  *{_title(job.name, job.display_name)}*"
    text = f"{head}\n{_details(job, job.ref.job_id, language)}"
    return SectionBlock(
        text=MarkdownTextObject(text=text), accessory=_get_button(job.name, language)
    )


def _context(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate(text, 3000))])


def home_view(
    home: Home, *, language: str, channel_id: str | None, problem_text: str | None = None
) -> dict[str, Any]:
    """The Home tab's view for `views.publish` (at most 100 blocks, whatever the job counts).

    `problem_text` is the refusal or Google's failure already rendered for mrkdwn.
    """
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    metadata = home_metadata(channel_id)
    if home.refusal is not None:
        blocks: list[Block] = [
            HeaderBlock(text=t("home.refused_title")),
            section(problem_text or t(home.refusal.key)),
            _context(t("home.refused_note")),
        ]
        return _view(blocks, metadata)
    where = t("home.where", project=code(home.location.project), region=code(home.location.region))
    blocks = [HeaderBlock(text=t("home.title")), _context(where)]
    if home.can_create:
        blocks.append(
            ActionsBlock(
                elements=[
                    ButtonElement(
                        text=t("home.new_job"), action_id=ids.HOME_NEW_JOB, style="primary"
                    )
                ]
            )
        )
    blocks += [DividerBlock(), section(f"*{t('home.mine')}*"), _context(t("home.mine_hint"))]
    if not home.active and not home.ended:
        blocks.append(section(t("home.mine_empty")))
    for entry in home.active:
        blocks += _mine(entry, language, active=True)
    if home.ended:
        blocks.append(section(f"*{t('home.ended')}*"))
        for entry in home.ended:
            blocks += _mine(entry, language, active=False)
    blocks += [DividerBlock(), section(f"*{t('home.team')}*")]
    if home.team_problem is not None:
        blocks.append(section(t("home.team_failed", problem=problem_text or home.team_problem.key)))
    elif not home.team:
        blocks.append(section(t("home.team_empty")))
    # What is left of Slack's 100 blocks goes to the team's jobs; the rest are a click away.
    room = MAX_HOME_BLOCKS - len(blocks) - 1
    shown = home.team[: max(0, room)]
    blocks += [_team(job, language) for job in shown]
    if home.team_more or len(shown) < len(home.team):
        blocks.append(_context(t("home.team_more")))
    return _view(blocks[:MAX_HOME_BLOCKS], metadata)


def _view(blocks: list[Block], metadata: str) -> dict[str, Any]:
    return {
        "type": "home",
        "blocks": [b.to_dict() for b in blocks],
        "private_metadata": metadata[:MAX_METADATA],
    }


def problem_of(home: Home) -> Problem | None:
    """What the Home says went wrong, if anything: the refusal, or Google's failure."""
    return home.refusal or home.team_problem


def home_modal(language: str, blocks: list[dict[str, Any]], *, title_key: str) -> dict[str, Any]:
    """A modal opened from the Home tab: a job's detail, a wait, or a refusal (close only)."""
    return {
        "type": "modal",
        "title": {"type": "plain_text", "text": truncate(translate(language, title_key), 24)},
        "close": {"type": "plain_text", "text": translate(language, "home.close")},
        "blocks": blocks[:MAX_HOME_BLOCKS],
    }


def home_notice_modal(language: str, text: str, *, title_key: str) -> dict[str, Any]:
    """`home_modal` with one already-safe mrkdwn paragraph."""
    return home_modal(language, [section(text).to_dict()], title_key=title_key)
