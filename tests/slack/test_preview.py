"""`tuning-bot preview` writes every message and modal, in both languages, as Block Kit that
Slack would accept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from slack_sdk.models.views import View

from bot.cli import main

EXPECTED = {
    "card-running",
    "card-succeeded",
    "ending-succeeded",
    "ending-failed",
    "ending-cancelled",
    "list",
    "list-empty-active",
    "get-succeeded",
    "help",
    "modal-form",
    "modal-checking",
    "modal-form-after-warnings",
    "modal-form-after-errors",
    "modal-try",
    "try-result",
    "modal-advanced",
    "modal-form-run-again",
    "check-errors",
    "create-again",
    "cancel-requested",
    "subscribed",
    "subscribed-notice",
    "subscriptions",
    "subscriptions-empty",
    "debug",
    "modal-channel-settings",
    "settings-saved",
}


def _mrkdwn(value: Any) -> list[str]:
    if isinstance(value, dict):
        found = [value["text"]] if value.get("type") in ("mrkdwn", "plain_text") else []
        return found + [t for inner in value.values() for t in _mrkdwn(inner)]
    if isinstance(value, list):
        return [t for inner in value for t in _mrkdwn(inner)]
    return []


def test_preview_writes_every_message_in_both_languages(tmp_path: Path, capsys: Any) -> None:
    assert main(["preview", "--out", str(tmp_path)]) == 0
    assert "files to" in capsys.readouterr().out

    names = {lang: {p.stem for p in (tmp_path / lang).glob("*.json")} for lang in ("en", "ja")}
    assert names["en"] == names["ja"]
    assert names["en"] >= EXPECTED
    for stem in names["en"] - {"texts"}:
        en = json.loads((tmp_path / "en" / f"{stem}.json").read_text())
        ja = json.loads((tmp_path / "ja" / f"{stem}.json").read_text())
        for payload in (en, ja):
            if payload.get("type") in ("modal", "home"):
                View(**payload).validate_json()  # what views.open and views.publish check
            else:
                assert payload["text"]
                assert 0 < len(payload["blocks"]) <= 50
                assert all(
                    len(b.get("text", {}).get("text", "")) <= 3000 for b in payload["blocks"]
                )
        # Japanese readers get Japanese: every file has some text that is not the English.
        assert set(_mrkdwn(ja)) != set(_mrkdwn(en)), stem
        assert any(any("\u3040" <= ch <= "\u30ff" for ch in t) for t in _mrkdwn(ja)), stem


def test_preview_texts_hold_every_catalogue_entry_with_its_placeholders_named(
    tmp_path: Path,
) -> None:
    from bot.i18n import CATALOGUES

    main(["preview", "--out", str(tmp_path)])
    for language, catalogue in CATALOGUES.items():
        texts = json.loads((tmp_path / language / "texts.json").read_text())
        assert set(texts) == set(catalogue)
        assert "[job]" in texts["cancel.requested"]
