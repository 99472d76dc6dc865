"""The answer to Try it: the prompt, then the tuned model's and the base model's answers, each
with its latency, token counts and why it stopped when that was not a natural stop.

Answers longer than a section holds are cut; the full text goes with the message as a file
(`files`), which the listener uploads in the same thread.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from slack_sdk.models.blocks import Block, ContextBlock, MarkdownTextObject

from bot.i18n import render, translate, translate_plain
from bot.slack.messages.shared import job_title, section
from bot.slack.mrkdwn import code, code_text, escape, truncate
from bot.tuning.problems import Problem
from bot.tuning.trying import ModelAnswer, SideResult, Tried

# A section holds 3,000 characters: the heading and the cut mark need some of them.
MAX_ANSWER = 2_700
MAX_PROMPT_SHOWN = 1_500
# Finish reasons that mean a filter stopped the answer, not its length.
SAFETY_REASONS = frozenset(
    {"SAFETY", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "RECITATION", "IMAGE_SAFETY"}
)


@dataclass(frozen=True)
class AnswerFile:
    """A full answer to upload beside the message."""

    filename: str
    title: str
    content: str


@dataclass(frozen=True)
class TryMessage:
    """Fallback text, blocks, and the files of answers that were cut."""

    text: str
    blocks: list[dict[str, Any]]
    files: list[AnswerFile] = field(default_factory=list)


def _problem(language: str, problem: Problem) -> str:
    safe: Mapping[str, str | int | float] = {
        k: code_text(v) if isinstance(v, str) else v for k, v in problem.params.items()
    }
    return render(language, Problem(problem.key, safe))


def _code_block(text: str) -> str:
    # Escaped so Slack shows `&<>` as typed; a ``` inside would close the block early.
    return "```" + escape(text).replace("```", "`\u200b`\u200b`") + "```"


def _figures(side: SideResult, language: str) -> str:
    seconds = f"{side.seconds:.2f}"
    answer = side.answer
    if answer is None or answer.total_tokens is None:
        return translate(language, "try.seconds", seconds=seconds)
    return translate(
        language,
        "try.figures",
        seconds=seconds,
        prompt=answer.prompt_tokens or 0,
        answer=answer.answer_tokens or 0,
        total=answer.total_tokens,
    )


def _stop_line(answer: ModelAnswer, language: str) -> str | None:
    if answer.block_reason is not None:
        return translate(language, "try.blocked", reason=code_text(answer.block_reason))
    reason = answer.finish_reason
    if reason in SAFETY_REASONS:
        return translate(language, "try.safety_stopped", reason=code_text(reason))
    if answer.stopped_early and reason:
        return translate(language, "try.finish_reason", reason=code_text(reason))
    return None


def _side(
    side: SideResult, heading: str, language: str, *, only_me: bool, file: AnswerFile
) -> tuple[list[Block], AnswerFile | None]:
    """The blocks of one model's outcome, and its full answer when it had to be cut."""
    notes = [_figures(side, language)]
    if side.problem is not None:
        body = _problem(language, side.problem)
        return [section(f"{heading}\n{body}"), _context(notes)], None
    answer = side.answer
    assert answer is not None
    stop = _stop_line(answer, language)
    if stop:
        notes.insert(0, stop)
    text = escape(answer.text) or translate(language, "try.no_text")
    cut: AnswerFile | None = None
    if len(text) > MAX_ANSWER:
        text = truncate(text, MAX_ANSWER)
        notes.append(translate(language, "try.cut_only_me" if only_me else "try.cut_file"))
        cut = None if only_me else AnswerFile(file.filename, file.title, answer.text)
    return [section(f"{heading}\n{text}"), _context(notes)], cut


def _context(lines: list[str]) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=truncate("\n".join(lines), 3000))])


def try_result_message(tried: Tried, *, user: str, language: str, only_me: bool) -> TryMessage:
    """The message showing both answers to the prompt `user` asked."""
    t = lambda key, **p: translate(language, key, **p)  # noqa: E731
    job = tried.job
    head = t("try.result_head", user=escape(user), job=job_title(job))
    prompt = truncate(tried.prompt.text, MAX_PROMPT_SHOWN)
    blocks: list[Block] = [
        section(head),
        section(f"{t('try.prompt_heading')}\n{_code_block(prompt)}"),
    ]
    files: list[AnswerFile] = []
    if tried.checkpoint:
        tuned_heading = t("try.checkpoint_heading", checkpoint=code_text(tried.checkpoint))
    else:
        tuned_heading = t("try.tuned_heading")
    sides = [
        (tried.tuned, tuned_heading, AnswerFile("tuned-answer.txt", t("try.file_tuned"), "")),
    ]
    if tried.base is not None:
        base_heading = t("try.base_heading", model=code(job.base_model))
        sides.append(
            (tried.base, base_heading, AnswerFile("base-answer.txt", t("try.file_base"), ""))
        )
    for side, heading, file in sides:
        side_blocks, cut = _side(side, heading, language, only_me=only_me, file=file)
        blocks += side_blocks
        if cut is not None:
            files.append(cut)
    plain_title = escape(job.display_name) if job.display_name else f"#{job.ref.job_id}"
    fallback = translate_plain(language, "try.result_head", user=escape(user), job=plain_title)
    return TryMessage(truncate(fallback, 3000), [b.to_dict() for b in blocks], files)
