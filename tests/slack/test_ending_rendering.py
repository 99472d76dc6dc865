"""The ending of a job, as Slack renders it: something to act on when tuning succeeded, and
who stopped it when it was cancelled."""

from __future__ import annotations

import datetime as dt
import json
import re
import shlex
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from google import genai
from google.genai import types
from google.oauth2 import credentials

from bot.i18n import translate
from bot.slack.messages.ending import curl_command, ending_message
from bot.tuning.job import JobError, TunedModel, TuningJob
from bot.tuning.refs import JobRef
from bot.tuning.states import JobState

NUMBER = "123456789012"
MODEL = f"projects/{NUMBER}/locations/us-central1/models/7770001@1"
ENDPOINT = f"projects/{NUMBER}/locations/us/endpoints/8880002"
EXPERIMENT = (
    f"projects/{NUMBER}/locations/us-central1/metadataStores/default/contexts/"
    "tuning-experiment-20261204"
)
CREATED = dt.datetime(2026, 12, 4, 1, 0, tzinfo=dt.UTC)
LANGUAGES = ["en", "ja"]
CODE_BLOCK = re.compile(r"```(.*?)```", re.DOTALL)


def _job(state: JobState = JobState.SUCCEEDED, **extra: Any) -> TuningJob:
    fields: dict[str, Any] = {
        "display_name": "support-bot",
        "create_time": CREATED,
        "end_time": CREATED + dt.timedelta(hours=1, minutes=5, seconds=30),
    }
    if state.succeeded:
        fields |= {"tuned_model": TunedModel(MODEL, ENDPOINT), "experiment": EXPERIMENT}
    return TuningJob(ref=JobRef(NUMBER, "us-central1", "4242"), state=state, **fields | extra)


def _texts(blocks: list[dict[str, Any]]) -> list[str]:
    found: list[str] = []
    for block in blocks:
        if "text" in block:
            found.append(block["text"]["text"])
        found += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return found


def _code_blocks(blocks: list[dict[str, Any]]) -> list[str]:
    """The content of every fenced code block, as the reader sees it (entities decoded)."""
    joined = "\n".join(_texts(blocks))
    raw = CODE_BLOCK.findall(joined)
    return [b.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&") for b in raw]


def _curl(blocks: list[dict[str, Any]]) -> list[str]:
    [command] = [b for b in _code_blocks(blocks) if b.startswith("curl")]
    return shlex.split(command)


def _genai_line(blocks: list[dict[str, Any]]) -> str:
    [line] = [b for b in _code_blocks(blocks) if "genai" in b]
    return line


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", [JobState.SUCCEEDED, JobState.PARTIALLY_SUCCEEDED])
def test_a_success_gives_a_curl_that_calls_the_tuned_endpoint(
    language: str, state: JobState
) -> None:
    _, blocks = ending_message(_job(state), started_by="U0ALICE01", language=language)
    argv = _curl(blocks)

    assert argv[:3] == ["curl", "-X", "POST"]
    headers = [argv[i + 1] for i, arg in enumerate(argv) if arg == "-H"]
    assert "Authorization: Bearer $(gcloud auth print-access-token)" in headers
    assert "Content-Type: application/json" in headers
    # A 3.x model's endpoint lives in the multi-region `us`, served from its own host.
    url = f"https://aiplatform.us.rep.googleapis.com/v1/{ENDPOINT}:generateContent"
    assert url in argv
    body = json.loads(argv[argv.index("-d") + 1])
    prompt = translate(language, "ending.sample_prompt")
    assert body == {"contents": [{"role": "user", "parts": [{"text": prompt}]}]}


def test_a_quote_in_the_prompt_cannot_end_the_shell_quoting() -> None:
    argv = shlex.split(curl_command(ENDPOINT, "it's <b> & more"))

    body = json.loads(argv[argv.index("-d") + 1])
    assert body["contents"][0]["parts"][0]["text"] == "it's <b> & more"


@pytest.mark.parametrize("language", LANGUAGES)
def test_code_blocks_escape_what_slack_would_read_as_markup(language: str) -> None:
    _, blocks = ending_message(_job(), started_by="U0ALICE01", language=language)

    for raw in CODE_BLOCK.findall("\n".join(_texts(blocks))):
        assert "<" not in raw
        assert ">" not in raw
        assert "&" not in raw.replace("&lt;", "").replace("&gt;", "").replace("&amp;", "")


class _FakeVertex(BaseHTTPRequestHandler):
    """Answers one generateContent the way Vertex does, remembering what it was asked."""

    seen: list[tuple[str, str, dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.seen.append((self.path, self.headers.get("Authorization", ""), body))
        answer = {
            "candidates": [{"content": {"role": "model", "parts": [{"text": "I sort tickets."}]}}],
            "usageMetadata": {"promptTokenCount": 9, "totalTokenCount": 13},
        }
        data = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def fake_vertex() -> Iterator[str]:
    """A loopback server standing in for the tuned endpoint's host; yields its base URL."""
    _FakeVertex.seen = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeVertex)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_genai_line_runs_and_calls_the_endpoint(
    language: str,
    fake_vertex: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    _, blocks = ending_message(_job(), started_by="U0ALICE01", language=language)
    line = _genai_line(blocks)
    real_client = genai.Client

    def client_on_loopback(**kwargs: Any) -> genai.Client:
        # The line as the reader pastes it, with only the host and the login replaced.
        assert kwargs == {"vertexai": True, "project": NUMBER, "location": "us"}
        return real_client(
            **kwargs,
            credentials=credentials.Credentials(token="pasted-token"),
            http_options=types.HttpOptions(base_url=fake_vertex),
        )

    monkeypatch.setattr(genai, "Client", client_on_loopback)
    warnings.filterwarnings("ignore", message=".*experimental.*")
    exec(compile(line, "<ending>", "exec"), {})

    assert capsys.readouterr().out == "I sort tickets.\n"
    [(path, authorization, body)] = _FakeVertex.seen
    assert path == f"/v1beta1/{ENDPOINT}:generateContent"
    assert authorization == "Bearer pasted-token"
    prompt = translate(language, "ending.sample_prompt")
    assert body["contents"] == [{"role": "user", "parts": [{"text": prompt}]}]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_model_endpoint_and_experiment_link_to_the_console(language: str) -> None:
    _, blocks = ending_message(_job(), started_by="U0ALICE01", language=language)
    joined = "\n".join(_texts(blocks))
    console = "https://console.cloud.google.com/vertex-ai"

    assert (
        f"<{console}/models/locations/us-central1/models/7770001?project={NUMBER}|7770001@1>"
        in joined
    )
    assert (
        f"<{console}/online-prediction/locations/us/endpoints/8880002?project={NUMBER}|8880002>"
        in joined
    )
    assert (
        f"<{console}/experiments/locations/us-central1/experiments/tuning-experiment-20261204"
        f"/runs?project={NUMBER}|tuning-experiment-20261204>" in joined
    )


@pytest.mark.parametrize(
    ("language", "said"), [("en", "*Duration:* 1h 05m"), ("ja", "*所要時間:* 1時間05分")]
)
@pytest.mark.parametrize("state", [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED])
def test_the_ending_says_how_long_the_job_took(language: str, said: str, state: JobState) -> None:
    _, blocks = ending_message(_job(state), started_by="U0ALICE01", language=language)

    assert said in "\n".join(_texts(blocks))


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("state", [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED])
def test_no_long_resource_name_sits_in_inline_code(language: str, state: JobState) -> None:
    _, blocks = ending_message(_job(state), started_by="U0ALICE01", language=language)
    outside_code_blocks = CODE_BLOCK.sub("", "\n".join(_texts(blocks)))

    for span in re.findall(r"`([^`]*)`", outside_code_blocks):
        assert "projects/" not in span, span
    # Full names appear only inside the copyable code blocks, never as wrapping link text.
    assert "projects/" not in re.sub(r"<https?://[^|>]*\|", "<", outside_code_blocks)


@pytest.mark.parametrize(
    ("language", "said"),
    [("en", "Cancelled by <@U0BOB0002>."), ("ja", "<@U0BOB0002> さんが中止しました。")],
)
def test_a_cancelled_ending_says_who_cancelled(language: str, said: str) -> None:
    _, blocks = ending_message(
        _job(JobState.CANCELLED),
        started_by="U0ALICE01",
        language=language,
        cancelled_by="U0BOB0002",
    )

    assert said in "\n".join(_texts(blocks))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_job_cancelled_elsewhere_names_nobody(language: str) -> None:
    _, blocks = ending_message(_job(JobState.CANCELLED), started_by="U0ALICE01", language=language)

    assert "<@" not in "\n".join(_texts(blocks))


@pytest.mark.parametrize("language", LANGUAGES)
def test_a_long_display_name_keeps_every_section_within_slacks_limit(language: str) -> None:
    job = _job(display_name="<&>" * 42)
    _, blocks = ending_message(job, started_by="U0ALICE01", language=language)

    assert all(len(text) <= 3000 for text in _texts(blocks))
    assert len(_code_blocks(blocks)) == 3


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_tuned_models_full_name_copies_whole_from_a_code_block(language: str) -> None:
    _, blocks = ending_message(_job(), started_by="U0ALICE01", language=language)

    assert MODEL in _code_blocks(blocks)


@pytest.mark.parametrize(
    ("language", "next_step"),
    [("en", "Start it again with `/tune`"), ("ja", "`/tune` でもう一度開始してください")],
)
def test_an_expired_job_tells_its_starter_what_to_do(language: str, next_step: str) -> None:
    _, blocks = ending_message(_job(JobState.EXPIRED), started_by="U0ALICE01", language=language)
    text = "\n".join(_texts(blocks))

    assert "<@U0ALICE01>" in text
    assert next_step in text


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_partial_success_says_first_what_did_not_complete(language: str) -> None:
    job = _job(JobState.PARTIALLY_SUCCEEDED, error=JobError(13, "Checkpoint 3 failed to export."))
    _, blocks = ending_message(job, started_by="U0ALICE01", language=language)
    body = _texts(blocks)[1]

    assert body.splitlines()[0].endswith("Checkpoint 3 failed to export.")
    quiet = _job(JobState.PARTIALLY_SUCCEEDED)
    _, blocks = ending_message(quiet, started_by="U0ALICE01", language=language)
    assert "Cloud" in _texts(blocks)[1].splitlines()[0]


@pytest.mark.parametrize("language", ["en", "ja"])
def test_a_failure_points_at_the_dataset_check(language: str) -> None:
    _, blocks = ending_message(_job(JobState.FAILED), started_by="U0ALICE01", language=language)
    text = "\n".join(_texts(blocks))

    # Shown as typed: the placeholder is escaped so that Slack does not swallow it.
    assert "`/tune check &lt;gs://…&gt;`" in text


@pytest.mark.parametrize(
    ("language", "said"),
    [
        ("en", "support-bot finished tuning, <@U0ALICE01>."),
        ("ja", "support-bot のチューニングが完了しました"),
    ],
)
def test_the_notification_text_reads_without_mrkdwn(language: str, said: str) -> None:
    # A phone's notification shows the message's text as typed: no stars, no emoji code.
    text, _ = ending_message(_job(), started_by="U0ALICE01", language=language)

    assert text.startswith(said)
    assert "*" not in text
    assert ":white_check_mark:" not in text
