"""A tuning job as Google reports it, in domain terms (no wire names)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from bot.tuning.refs import JobRef
from bot.tuning.states import JobState


@dataclass(frozen=True)
class Checkpoint:
    """A snapshot of the tuned model saved during training, deployed to its own endpoint."""

    checkpoint_id: str
    epoch: int | None = None
    step: int | None = None
    endpoint: str | None = None


@dataclass(frozen=True)
class TunedModel:
    """What a successful job produced; the endpoint is what callers send requests to."""

    model: str | None
    endpoint: str | None
    checkpoints: tuple[Checkpoint, ...] = ()

    @property
    def default_checkpoint(self) -> Checkpoint | None:
        """The checkpoint the model's own endpoint serves (Google deploys the last one there)."""
        for checkpoint in self.checkpoints:
            if checkpoint.endpoint and checkpoint.endpoint == self.endpoint:
                return checkpoint
        return None


@dataclass(frozen=True)
class JobError:
    """Google's status for a failed or cancelled job."""

    code: int
    message: str

    @property
    def status(self) -> str:
        """The canonical name of `code` (google.rpc.Code), which people search for; the number
        itself when Google sends one outside that list."""
        return _RPC_CODES.get(self.code, str(self.code))


@dataclass(frozen=True)
class DataStats:
    """The parts of `supervisedTuningDataStats` a user cares about."""

    example_count: int | None = None
    billable_tokens: int | None = None
    total_characters: int | None = None
    # `totalTruncatedExampleCount`: Google leaves zero out, so 0 when the stats came without it.
    dropped_examples: int = 0
    # A sample of Google's reasons (one per sampled example), not one per dropped example.
    dropped_reasons: tuple[str, ...] = ()
    tuning_steps: int | None = None


@dataclass(frozen=True)
class TuningJob:
    """A tuning job's state and settings."""

    ref: JobRef
    state: JobState
    base_model: str | None = None
    display_name: str | None = None
    description: str | None = None
    training_dataset_uri: str | None = None
    validation_dataset_uri: str | None = None
    epochs: int | None = None
    adapter_size: int | None = None
    learning_rate_multiplier: float | None = None
    labels: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    create_time: dt.datetime | None = None
    start_time: dt.datetime | None = None
    end_time: dt.datetime | None = None
    update_time: dt.datetime | None = None
    tuned_model: TunedModel | None = None
    experiment: str | None = None
    error: JobError | None = None
    data_stats: DataStats | None = None

    @property
    def name(self) -> str:
        """Full resource name."""
        return self.ref.name

    def duration(self, now: dt.datetime) -> dt.timedelta | None:
        """Time from creation to end (or to `now` while it runs)."""
        if self.create_time is None:
            return None
        return (self.end_time or now) - self.create_time

    @property
    def ran_for(self) -> dt.timedelta | None:
        """Time from creation (or start, when Google gives no creation time) to end; None
        until the job has ended, so it never goes stale where it is shown."""
        began = self.create_time or self.start_time
        if self.end_time is None or began is None:
            return None
        return self.end_time - began

    @property
    def has_data_stats(self) -> bool:
        """Google has reported its figures for the dataset (some time into the run)."""
        return self.data_stats is not None and self.data_stats.example_count is not None


def generate_content_url(endpoint: str) -> str:
    """The REST URL that calls a tuned model: `https://{host}/v1/{endpoint}:generateContent`.

    Endpoints in the multi-region locations `us` / `eu` are served from `aiplatform.{loc}.rep`.
    """
    parts = endpoint.split("/")
    location = parts[3] if len(parts) > 3 else ""
    if location in ("us", "eu"):
        host = f"aiplatform.{location}.rep.googleapis.com"
    elif location and location != "global":
        host = f"{location}-aiplatform.googleapis.com"
    else:
        host = "aiplatform.googleapis.com"
    return f"https://{host}/v1/{endpoint}:generateContent"


@dataclass(frozen=True)
class ResourceName:
    """`projects/P/locations/L/{collection}/ID` split into the parts a console link needs."""

    project: str
    location: str
    resource_id: str

    @classmethod
    def parse(cls, name: str) -> ResourceName | None:
        """The parts of a model, endpoint or experiment name; None for anything else."""
        parts = name.split("/")
        if len(parts) < 6 or parts[0] != "projects" or parts[2] != "locations":
            return None
        if not all(parts[i] for i in (1, 3, len(parts) - 1)):
            return None
        return cls(parts[1], parts[3], parts[-1])


_CONSOLE = "https://console.cloud.google.com/vertex-ai"


def model_console_url(model: str) -> str | None:
    """The tuned model's page in the Model Registry (`…/models/M@V`: the version is dropped,
    the page lists every version)."""
    parsed = ResourceName.parse(model)
    if parsed is None:
        return None
    model_id = parsed.resource_id.split("@", 1)[0]
    return (
        f"{_CONSOLE}/models/locations/{parsed.location}/models/{model_id}?project={parsed.project}"
    )


def endpoint_console_url(endpoint: str) -> str | None:
    """The endpoint's page under Online prediction."""
    parsed = ResourceName.parse(endpoint)
    if parsed is None:
        return None
    return (
        f"{_CONSOLE}/online-prediction/locations/{parsed.location}/endpoints/"
        f"{parsed.resource_id}?project={parsed.project}"
    )


def experiment_console_url(experiment: str) -> str | None:
    """The experiment's runs page; `experiment` is a metadata context name
    (`…/metadataStores/default/contexts/C`), whose id the console uses as the experiment's."""
    parsed = ResourceName.parse(experiment)
    if parsed is None:
        return None
    return (
        f"{_CONSOLE}/experiments/locations/{parsed.location}/experiments/"
        f"{parsed.resource_id}/runs?project={parsed.project}"
    )


def console_url(ref: JobRef) -> str:
    """The job's page in the Google Cloud console."""
    return (
        "https://console.cloud.google.com/vertex-ai/generative/language/locations/"
        f"{ref.region}/tuning/tuningJobDetail/{ref.job_id}/monitor?project={ref.project}"
    )


# google.rpc.Code, the numbers in a job's `error.code`.
_RPC_CODES: dict[int, str] = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}
