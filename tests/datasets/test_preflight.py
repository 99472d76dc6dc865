"""The pre-flight end to end: files served by the Cloud Storage stand-in, checked, reported."""

from __future__ import annotations

import asyncio
import json

import httpx

from bot.datasets import Budget, DatasetOpener, Finding, run_preflight
from bot.datasets.findings import FINDINGS_KEPT
from bot.datasets.text import report_lines
from tests.conftest import free_port
from tests.datasets.conftest import gemini_example, jsonl, legacy_example, model
from tests.fakes.gcs import FakeGcs

FLASH = model("gemini-2.5-flash")
PRO_1_5 = model("gemini-1.5-pro-002")
PRO_1_0 = model("gemini-1.0-pro-002")


def _keys(findings: list[Finding]) -> list[str]:
    return [f.problem.key for f in findings]


async def test_good_training_file_is_ok_with_totals(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    fake_gcs.put("team-data", "train.jsonl", jsonl(*[gemini_example("abcdefgh", "日本語")] * 150))
    report = await run_preflight(
        "gs://team-data/train.jsonl", model=FLASH, validation=False, opener=opener, epochs=3
    )
    assert report.ok
    assert report.errors == []
    assert report.warnings == []
    assert report.example_count == 150
    per_example = len("Answer briefly.") + 8 + 3
    assert report.characters == 150 * per_example
    # "Answer briefly." 15 chars → 4, "abcdefgh" → 2, three kanji → 3.
    assert report.estimated_tokens == 150 * 9
    assert report.estimated_billable_tokens == 150 * 9 * 3
    assert report.bytes_read == report.total_bytes
    assert not report.partial


async def test_missing_object_says_so(fake_gcs: FakeGcs, opener: DatasetOpener) -> None:
    report = await run_preflight(
        "gs://team-data/nothing.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert not report.ok
    assert _keys(report.errors) == ["preflight.no_object"]
    assert "gs://team-data/nothing.jsonl does not exist" in "\n".join(report_lines(report, "en"))


async def test_an_object_the_bot_may_not_read_is_a_warning_naming_the_role_to_grant(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    # Vertex AI reads the data with its own service agent: the job may still start.
    fake_gcs.put("team-data", "secret.jsonl", jsonl(gemini_example()))
    fake_gcs.forbid("team-data", "secret.jsonl")
    report = await run_preflight(
        "gs://team-data/secret.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert report.ok
    assert report.unchecked
    assert _keys(report.errors) == []
    assert _keys(report.warnings) == ["preflight.forbidden"]
    text = "\n".join(report_lines(report, "ja"))
    assert "roles/storage.objectViewer" in text
    assert "確認していません" in text
    assert "Not checked" in "\n".join(report_lines(report, "en"))


async def test_unreachable_storage_is_a_finding(http: httpx.AsyncClient) -> None:
    opener = DatasetOpener(http, None, f"http://127.0.0.1:{free_port()}")
    report = await run_preflight(
        "gs://team-data/t.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert _keys(report.errors) == ["preflight.unreachable"]


async def test_missing_credentials_leave_the_file_unchecked_not_refused(
    fake_gcs: FakeGcs, http: httpx.AsyncClient
) -> None:
    class Broken:
        async def headers(self) -> dict[str, str]:
            raise RuntimeError("metadata server said no")

    fake_gcs.put("team-data", "t.jsonl", jsonl(gemini_example()))
    opener = DatasetOpener(http, Broken(), fake_gcs.base_url)
    report = await run_preflight(
        "gs://team-data/t.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert _keys(report.warnings) == ["preflight.credentials"]
    assert report.ok
    assert report.unchecked
    assert fake_gcs.requests == []


async def test_malformed_uri_is_a_finding(opener: DatasetOpener) -> None:
    report = await run_preflight(
        "gs://Bad_Bucket!/x.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert _keys(report.errors) == ["dataset.bucket_chars"]


async def test_each_kind_of_bad_line_is_reported_on_its_line(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    good = json.dumps(gemini_example()).encode()
    lines = [
        b"\xef\xbb\xbf" + good,  # 1: BOM
        good,  # 2
        b"",  # 3: blank
        b'{"contents": [',  # 4: invalid JSON
        b'{"contents": "\xc3\x28"}',  # 5: not UTF-8
        b'["a"]',  # 6: not an object
        json.dumps({"contents": [{"role": "user", "parts": [{"text": "q"}]}]}).encode(),  # 7
    ]
    fake_gcs.put("team-data", "bad.jsonl", b"\n".join(lines) + b"\n")
    report = await run_preflight(
        "gs://team-data/bad.jsonl", model=FLASH, validation=False, opener=opener
    )
    found = {(f.line, f.problem.key) for f in report.errors + report.warnings}
    assert {
        (1, "preflight.bom"),
        (3, "preflight.blank_line"),
        (4, "preflight.invalid_json"),
        (5, "preflight.not_utf8"),
        (6, "preflight.not_object"),
        (7, "preflight.last_not_model"),
        (None, "preflight.few_examples"),
    } <= found
    assert (1, "preflight.invalid_json") not in found
    assert (2, "preflight.invalid_json") not in found
    assert report.example_count == 3  # lines 1, 2 and 7


async def test_report_never_quotes_example_text(fake_gcs: FakeGcs, opener: DatasetOpener) -> None:
    secret = "CONFIDENTIAL-CUSTOMER-4711"
    bad = [
        {"contents": [{"role": "assistant", "parts": [{"text": secret}]}]},
        {"contents": [{"role": secret, "parts": [{"text": secret}]}]},
        {"contents": [{"role": "user", "parts": [{secret: secret}]}]},
    ]
    data = jsonl(*bad) + b'{"contents": "' + secret.encode() + b"\n"
    fake_gcs.put("team-data", "bad.jsonl", data)
    report = await run_preflight(
        "gs://team-data/bad.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert report.error_count >= 4
    for language in ("en", "ja"):
        text = "\n".join(report_lines(report, language, max_findings=50))
        assert "CUSTOMER" not in text


async def test_legacy_model_checks_the_messages_format(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    fake_gcs.put("team-data", "legacy.jsonl", jsonl(*[legacy_example()] * 20))
    fake_gcs.put("team-data", "gemini.jsonl", jsonl(*[gemini_example()] * 20))
    legacy = await run_preflight(
        "gs://team-data/legacy.jsonl", model=PRO_1_0, validation=False, opener=opener
    )
    assert legacy.ok
    wrong = await run_preflight(
        "gs://team-data/gemini.jsonl", model=PRO_1_0, validation=False, opener=opener
    )
    assert set(_keys(wrong.errors)) == {"preflight.gemini_in_legacy"}


async def test_training_set_below_the_documented_minimum_is_an_error(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    fake_gcs.put("team-data", "small.jsonl", jsonl(*[legacy_example()] * 15))
    report = await run_preflight(
        "gs://team-data/small.jsonl", model=PRO_1_0, validation=False, opener=opener
    )
    assert _keys(report.errors) == ["preflight.too_few_examples"]
    assert "needs at least 16" in "\n".join(report_lines(report, "en"))


async def test_training_set_below_the_recommended_size_is_a_warning(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    fake_gcs.put("team-data", "small.jsonl", jsonl(*[gemini_example()] * 99))
    report = await run_preflight(
        "gs://team-data/small.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert report.ok
    assert _keys(report.warnings) == ["preflight.few_examples"]
    assert "100 to 500" in "\n".join(report_lines(report, "en"))


async def test_validation_set_above_the_model_limit_is_an_error(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    fake_gcs.put("team-data", "val.jsonl", jsonl(*[gemini_example()] * 257))
    too_many = await run_preflight(
        "gs://team-data/val.jsonl", model=PRO_1_5, validation=True, opener=opener
    )
    assert _keys(too_many.errors) == ["preflight.too_many_validation"]
    assert too_many.estimated_billable_tokens is None
    fine = await run_preflight(
        "gs://team-data/val.jsonl", model=FLASH, validation=True, opener=opener
    )
    assert fine.ok
    assert fine.warnings == []


async def test_example_over_the_token_limit_is_a_warning(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    long_answer = "word " * 30_000  # 150,000 characters ≈ 37,500 tokens > 32,000
    examples = [gemini_example()] * 120 + [gemini_example("q", long_answer)]
    fake_gcs.put("team-data", "long.jsonl", jsonl(*examples))
    report = await run_preflight(
        "gs://team-data/long.jsonl", model=PRO_1_5, validation=False, opener=opener
    )
    assert report.ok
    assert [(f.line, f.problem.key) for f in report.warnings] == [
        (121, "preflight.too_many_tokens")
    ]
    flash = await run_preflight(
        "gs://team-data/long.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert flash.warnings == []


async def test_findings_are_capped_but_counted(fake_gcs: FakeGcs, opener: DatasetOpener) -> None:
    fake_gcs.put("team-data", "junk.jsonl", b"nope\n" * 1000)
    report = await run_preflight(
        "gs://team-data/junk.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert report.error_count == 1000 + 1  # every line, plus "no examples"
    assert len(report.errors) == FINDINGS_KEPT + 1
    lines = report_lines(report, "en", max_findings=3)
    assert lines[0].endswith(
        ": 1,001 errors found: Vertex AI would reject this file or fail the job."
    )
    assert lines[2] == "Errors:"
    assert lines[3] == "  - The file holds no examples."
    assert "Lines 1, 2, 3, 4, 5 and 195 more: not valid JSON" in lines[4]
    assert lines[5] == "  - …and 800 more."


async def test_byte_budget_stops_with_a_partial_report(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    data = jsonl(*[gemini_example()] * 2000)
    fake_gcs.put("team-data", "t.jsonl", data)
    report = await run_preflight(
        "gs://team-data/t.jsonl",
        model=FLASH,
        validation=False,
        opener=opener,
        budget=Budget(max_bytes=len(data) // 4 + 17),
    )
    assert report.partial
    assert report.ok  # the line cut in half by the budget is not reported as broken
    assert 0 < report.example_count < 2000
    assert report.bytes_read == len(data) // 4 + 17
    text = "\n".join(report_lines(report, "en"))
    assert "stopped at its" in text
    assert "the rest of the file may hold more problems" in text


async def test_time_budget_stops_a_stalled_download_with_a_partial_report(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    data = jsonl(*[gemini_example()] * 5000)
    stored = fake_gcs.put("team-data", "slow.jsonl", data, hold_after=64 * 1024)
    report = await run_preflight(
        "gs://team-data/slow.jsonl",
        model=FLASH,
        validation=False,
        opener=opener,
        budget=Budget(max_seconds=0.5),
    )
    stored.release.set()
    assert report.partial
    assert report.partial_reason is not None
    assert report.partial_reason.key == "preflight.partial_time"
    assert report.ok  # "no examples" or "too few" cannot be judged from a part
    assert 0 < report.example_count < 5000
    assert "0.5-second limit" in "\n".join(report_lines(report, "en"))


async def test_file_over_googles_size_limit_is_an_error(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    fake_gcs.put(
        "team-data", "huge.jsonl", jsonl(*[gemini_example()] * 200), declared_size=(1 << 30) + 1
    )
    report = await run_preflight(
        "gs://team-data/huge.jsonl", model=FLASH, validation=False, opener=opener
    )
    assert "preflight.file_too_large" in _keys(report.errors)


async def test_checks_run_concurrently_on_one_client(
    fake_gcs: FakeGcs, opener: DatasetOpener
) -> None:
    fake_gcs.put("team-data", "a.jsonl", jsonl(*[gemini_example()] * 300), chunked=True)
    fake_gcs.put("team-data", "v.jsonl", jsonl(*[gemini_example()] * 30))
    train, val = await asyncio.gather(
        run_preflight("gs://team-data/a.jsonl", model=FLASH, validation=False, opener=opener),
        run_preflight("gs://team-data/v.jsonl", model=FLASH, validation=True, opener=opener),
    )
    assert (train.example_count, val.example_count) == (300, 30)
    assert train.ok
    assert val.ok
