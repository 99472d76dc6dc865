"""The doctor against the stand-ins: the fake Slack, the Vertex emulator on a loopback port (with
one job that has trained), the fake Cloud Storage and a real SQLite file at the current schema."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from bot.app.doctor import main
from bot.emulator import SUCCEEDED, EmulatorServer
from bot.watch.store import SqlWatchStore
from tests.fakes.gcs import FakeGcs
from tests.fakes.slack_api import FakeSlackApi
from tests.fakes.vertex_emulator import running_emulator

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yaml"
BOT_TOKEN = "xoxb-doctor-bot-token-7Q2W"
APP_TOKEN = "xapp-1-doctor-app-token-9K4M"
SIGNING_SECRET = "doctor-signing-secret-3e8a1f0c5b7d"
PROJECT = "test-project"
REGION = "us-central1"
# A job that has trained, with validation data: its TensorBoard run holds four curves.
TRAINED_JOB = "support-bot-v3"
BUCKET_PREFIX = "gs://team-data/sets"


def manifest_scopes() -> tuple[str, ...]:
    """The bot scopes manifest.yaml asks for, read as Slack reads the manifest."""
    return tuple(yaml.safe_load(MANIFEST.read_text("utf-8"))["oauth_config"]["scopes"]["bot"])


@dataclass
class Doctored:
    """One run of the doctor: its exit status and what it printed."""

    status: int
    out: str

    @property
    def lines(self) -> list[str]:
        return self.out.splitlines()

    def line(self, mark: str, text: str) -> str:
        """The one line with `mark` that contains `text`; fails with the whole report."""
        found = [line for line in self.lines if line.startswith(mark) and text in line]
        assert len(found) == 1, self.out
        return found[0]

    def fix_after(self, line: str) -> str:
        """The fix printed under `line`."""
        following = self.lines[self.lines.index(line) + 1]
        assert following.startswith("  "), self.out
        return following.strip()


@dataclass
class Installation:
    """The environment of a working installation and the stand-ins behind it."""

    env: dict[str, str]
    slack: FakeSlackApi
    emulator: EmulatorServer
    gcs: FakeGcs
    database_url: str
    capsys: pytest.CaptureFixture[str]

    def doctor(self, *args: str) -> Doctored:
        """Run `tuning-bot doctor` in this process with this environment (no `.env`)."""
        self.capsys.readouterr()
        status = main(["--manifest", str(MANIFEST), *args], self.env, dotenv=None)
        return Doctored(status, self.capsys.readouterr().out)


@pytest.fixture
def installation(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Iterator[Installation]:
    """Everything set up right: Socket Mode, every scope granted, the schema current."""
    slack = FakeSlackApi(BOT_TOKEN, APP_TOKEN, granted_scopes=manifest_scopes()).start()
    gcs = FakeGcs().start()
    gcs.put("team-data", "sets/train.jsonl", b"{}\n")
    database_url = f"sqlite:///{tmp_path}/watch.db"
    SqlWatchStore.open(database_url).close()  # the bot's own start-up: schema at LATEST
    with running_emulator() as emulator:
        emulator.emulator.add_job(
            PROJECT,
            REGION,
            display_name=TRAINED_JOB,
            validation_uri="gs://team-data/sets/validation.jsonl",
            state=SUCCEEDED,
        )
        env = {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_APP_TOKEN": APP_TOKEN,
            "SLACK_API_URL": slack.base_url,
            "GOOGLE_CLOUD_PROJECT": PROJECT,
            "TUNING_REGION": REGION,
            "VERTEX_EMULATOR_HOST": emulator.host_port,
            "STORAGE_EMULATOR_HOST": gcs.base_url,
            "DATABASE_URL": database_url,
            "TUNING_ALLOWED_BUCKETS": BUCKET_PREFIX,
            "LANG": "en_US.UTF-8",
        }
        yield Installation(env, slack, emulator, gcs, database_url, capsys)
    gcs.stop()
    slack.stop()
