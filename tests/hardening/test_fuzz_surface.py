"""Hostile text and payload shapes at the Slack surface's parsers: each yields a command, the
usage, or a message users can read in both languages — never an exception."""

from __future__ import annotations

import json
import re
from typing import Any

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.i18n import CATALOGUES, placeholders, render
from bot.slack.commands import TuneCommand, Verb, parse_command
from bot.slack.messages.create_form import ModalMetadata, read_form
from bot.slack.messages.help import help_message
from bot.tuning.problems import DomainError, Problem
from bot.tuning.refs import JobRef, Location, parse_job_ref
from bot.tuning.spec import FIELDS
from bot.tuning.states import LIST_FILTERS

HOME = Location("my-project", "us-central1")
MANY = settings(max_examples=3000, deadline=None, suppress_health_check=list(HealthCheck))
LEFTOVER = re.compile(r"\{[A-Za-z_][A-Za-z0-9_]*\}")

# Slack's mrkdwn controls, invisible and right-to-left marks, control characters, emoji,
# and words of the grammar, so that generated text reaches every branch of the parsers.
PIECES = st.sampled_from(
    [
        "<!channel>", "<!here>", "<!everyone>", "<@U123>", "<#C0123|general>",
        "<https://x|y>", "<mailto:a@b.test|z>", "&lt;", "&amp;", "`", "```", "*", "_", "~",
        "\x00", "\x07", "\x1b[2J", "\x7f", "\x85", "\u200b", "\u200e", "\u200f", "\u202b",
        "\u202e", "\u2066", "\u2028", "\u2029", "\ufeff", "\ud83d", "🚀", "👩‍💻", "🇯🇵", "日本語",
        "ｌｉｓｔ", "１２３", "٣", " ", "\t", "\n", "\r", "\u3000", "\xa0", "\v", "\f",
        "create", "new", "list", "LIST", "get", "cancel", "watch", "unwatch", "check", "help",
        "active", "succeeded", "failed", "cancelled", "all", "42", "0", "-1", "1e3",
        "projects/p-123456/locations/us-central1/tuningJobs/9", "gs://team-data/train.jsonl",
        "{job}", "{0}", "%s", "{{", "}}",
    ]
)  # fmt: skip
ANY_CHAR = st.characters(exclude_categories=())  # lone surrogates included
WORDY = st.lists(st.one_of(PIECES, st.text(ANY_CHAR, max_size=5)), max_size=12).map(" ".join)
GLUED = st.lists(st.one_of(PIECES, st.text(ANY_CHAR, max_size=5)), max_size=12).map("".join)
HUGE = st.builds(lambda piece, n: piece * n, st.one_of(PIECES, ANY_CHAR), st.integers(1, 10_000))
TEXT = st.one_of(st.text(ANY_CHAR, max_size=80), WORDY, GLUED, HUGE)


def assert_readable(problem: Problem) -> None:
    """Every language has the key, every placeholder gets a value, nothing is left unfilled."""
    for language, catalogue in CATALOGUES.items():
        assert problem.key in catalogue, (language, problem.key)
        assert placeholders(catalogue[problem.key]) <= set(problem.params), problem
        text = render(language, problem)
        assert text
        assert not LEFTOVER.search(text.replace(str(problem.params.get("text", "")), "")), text


def assert_usage_renders() -> None:
    for language in CATALOGUES:
        for unknown in (False, True):
            fallback, blocks = help_message(language, unknown=unknown)
            rendered = fallback + json.dumps(blocks, ensure_ascii=False)
            assert not LEFTOVER.search(rendered), (language, rendered)


def test_usage_renders_in_every_language_without_leftover_placeholders() -> None:
    assert_usage_renders()


@MANY
@given(TEXT)
@example("")
@example("list " + "x" * 10_000)
@example("get <@U123>")
@example("cancel \u202e24\u202c")
@example("watch projects/p-123456/locations/us-central1/tuningJobs/9 extra")
@example("ＧＥＴ 1")
def test_any_text_is_a_command_or_the_usage(text: str) -> None:
    command = parse_command(text)
    assert isinstance(command, TuneCommand)
    assert isinstance(command.verb, Verb)
    assert isinstance(command.argument, str)
    if command.verb is Verb.LIST:
        assert command.argument in LIST_FILTERS
    if command.verb in (Verb.CREATE, Verb.HELP):
        assert command.argument == ""
    if command.verb in (Verb.GET, Verb.CANCEL, Verb.WATCH, Verb.UNWATCH, Verb.CHECK):
        # One argument, taken verbatim from the text: never empty, never with whitespace.
        assert command.argument
        assert command.argument in text
        assert not any(c.isspace() for c in command.argument)
        _ref_or_readable_problem(command.argument)


def _ref_or_readable_problem(argument: str) -> None:
    try:
        ref = parse_job_ref(argument, HOME)
    except DomainError as error:
        assert_readable(error.problem)
        return
    assert isinstance(ref, JobRef)
    assert ref.job_id.isascii()
    assert ref.job_id.isdigit()
    assert JobRef.from_name(ref.name) == ref


@MANY
@given(TEXT)
@example("`42`")
@example("``")
@example("  \u3000 ")
def test_job_reference_after_the_verb_parses_or_explains(text: str) -> None:
    _ref_or_readable_problem(text)


# --- view.state.values ---------------------------------------------------------------------
# Shapes are cheap to generate with short strings; the 10 kB strings come in at the leaves.
SHORT = st.one_of(st.text(ANY_CHAR, max_size=12), PIECES)
KEYS = st.one_of(st.sampled_from([*FIELDS, "value", "type", "selected_option"]), SHORT)
SCALARS = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), SHORT)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(KEYS, inner, max_size=3)),
    max_leaves=8,
)
ELEMENT = st.one_of(
    JSONISH,
    st.fixed_dictionaries(
        {},
        optional={
            "type": st.one_of(st.sampled_from(["plain_text_input", "static_select"]), JSONISH),
            "value": st.one_of(TEXT, JSONISH),
            "selected_option": st.one_of(
                st.none(),
                JSONISH,
                st.fixed_dictionaries({}, optional={"value": st.one_of(TEXT, JSONISH)}),
            ),
        },
    ),
)
BLOCK = st.one_of(JSONISH, st.dictionaries(KEYS, ELEMENT, max_size=3))
STATE = st.one_of(
    st.dictionaries(KEYS, BLOCK, max_size=len(FIELDS) + 2),
    st.fixed_dictionaries({}, optional=dict.fromkeys(FIELDS, BLOCK)),
)
STATE_SHAPES = settings(MANY, max_examples=1500)


@STATE_SHAPES
@given(STATE)
@example({})
@example({"training_dataset": {"training_dataset": {"value": "x" * 10_000}}})
@example({"base_model": {"base_model": {"type": "static_select", "selected_option": None}}})
@example({"base_model": {"base_model": {"selected_option": ["not", "a", "dict"]}}})
@example({"epochs": {"epochs": {"value": 3}}})
@example({"epochs": []})
@example({"display_name": {"display_name": {"value": "<!channel> \u202e<@U123>"}}})
def test_any_state_values_read_as_a_form_of_strings_or_none(state: dict[str, Any]) -> None:
    form = read_form(state)
    assert set(form) == set(FIELDS)
    for name, value in form.items():
        assert value is None or isinstance(value, str), (name, value)
        if isinstance(value, str):
            # What is read is what was typed: only the element's own value, never another one.
            block = state.get(name)
            assert isinstance(block, dict)
            assert isinstance(block.get(name), dict)


def _shallow(text: str | None) -> bool:
    # Deep bracket nesting is pinned down on its own below (a known failure).
    return text is None or text.count("[") + text.count("{") < 500


@MANY
@given(
    st.one_of(st.none(), TEXT, JSONISH.map(lambda v: json.dumps(v, allow_nan=True))).filter(
        _shallow
    )
)
@example('{"c": 5}')
@example('{"c": "C1", "l": ["en"]}')
@example('["C1"]')
@example('{"c": "", "l": "en"}')
def test_private_metadata_reads_back_or_is_refused(text: str | None) -> None:
    metadata = ModalMetadata.parse(text)
    if metadata is not None:
        assert isinstance(metadata.channel_id, str)
        assert metadata.channel_id
        assert isinstance(metadata.language, str)
        assert metadata.warnings_seen is None or isinstance(metadata.warnings_seen, str)


def test_deeply_nested_private_metadata_is_refused() -> None:
    assert ModalMetadata.parse("[" * 2900) is None
