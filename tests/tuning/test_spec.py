"""The create form's validation: every field, good and bad, with the message the user reads."""

from __future__ import annotations

import datetime as dt

import pytest

from bot.i18n import render
from bot.tuning.catalogue import default_catalogue
from bot.tuning.problems import DomainError, Problem
from bot.tuning.spec import FIELDS, SpecCheck, TuningJobSpec, label_problem, validate_form

BEFORE_RETIREMENT = dt.date(2026, 9, 1)
RETIREMENT_DAY = dt.date(2026, 10, 20)
GOOD_DATA = "gs://team-data/train.jsonl"
CURRENT_MODELS = "gemini-3.5-flash, gemini-3.1-flash-lite, gemini-3.5-flash-lite"
DATASET_HINT = "`gs://my-bucket/train.jsonl`"


def check(
    *,
    region: str = "us-central1",
    today: dt.date = BEFORE_RETIREMENT,
    allowed: tuple[str, ...] = (),
    **fields: str | None,
) -> SpecCheck:
    form: dict[str, str | None] = {"base_model": "gemini-3.5-flash", "training_dataset": GOOD_DATA}
    form.update(fields)
    return validate_form(
        form, catalogue=default_catalogue(), region=region, today=today, allowed_buckets=allowed
    )


def error(field: str, value: str, language: str = "en", **kw: object) -> str | None:
    """The message shown under `field` when the user types `value`, or None when accepted."""
    result = check(**{field: value}, **kw)  # type: ignore[arg-type]
    problem = result.errors.get(field)
    return None if problem is None else render(language, problem)


def warnings(result: SpecCheck, language: str = "en") -> list[str]:
    return [render(language, w) for w in result.warnings]


# --- base model ------------------------------------------------------------------------------


def test_a_complete_form_gives_a_spec_with_every_value() -> None:
    result = check(
        base_model="gemini-3.5-flash",
        training_dataset=" gs://team-data/train.jsonl ",
        validation_dataset="gs://team-data/valid.jsonl",
        epochs="3",
        adapter_size="8",
        learning_rate_multiplier="0.5",
        display_name="support bot v2",
    )
    assert result.ok
    assert result.errors == {}
    assert result.spec == TuningJobSpec(
        base_model="gemini-3.5-flash",
        training_dataset_uri="gs://team-data/train.jsonl",
        validation_dataset_uri="gs://team-data/valid.jsonl",
        epochs=3,
        adapter_size=8,
        learning_rate_multiplier=0.5,
        display_name="support bot v2",
    )


def test_optional_fields_left_empty_are_left_to_google() -> None:
    result = check(epochs="", adapter_size=None, learning_rate_multiplier="  ", display_name="")
    assert result.spec is not None
    spec = result.spec
    assert (spec.epochs, spec.adapter_size, spec.learning_rate_multiplier) == (None, None, None)
    assert spec.validation_dataset_uri is None
    assert spec.display_name is None


@pytest.mark.parametrize(
    ("model", "message"),
    [
        ("", "Choose a base model."),
        ("   ", "Choose a base model."),
        (
            "gpt-4o",
            "`gpt-4o` is not a model this bot can tune. Choose one of: "
            f"{CURRENT_MODELS}, gemini-2.5-pro, gemini-2.5-flash, gemini-2.5-flash-lite.",
        ),
        (
            "Gemini-2.5-Flash",
            "`Gemini-2.5-Flash` is not a model this bot can tune. Choose one of: "
            f"{CURRENT_MODELS}, gemini-2.5-pro, gemini-2.5-flash, gemini-2.5-flash-lite.",
        ),
    ],
)
def test_base_model_missing_or_unknown(model: str, message: str) -> None:
    assert error("base_model", model) == message
    assert not check(base_model=model).ok


def test_unknown_model_list_names_current_models_first_after_retirement() -> None:
    result = check(base_model="nope", today=RETIREMENT_DAY)
    assert render("en", result.errors["base_model"]) == (
        "`nope` is not a model this bot can tune. Choose one of: "
        f"{CURRENT_MODELS}, gemini-2.5-pro, gemini-2.5-flash, gemini-2.5-flash-lite."
    )


def test_an_unknown_model_of_10_kb_is_quoted_shortened() -> None:
    problem = check(base_model="x" * 10_000).errors["base_model"]
    assert problem.params["model"] == "x" * 80


@pytest.mark.parametrize(
    "model", ["gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-3.5-flash-lite"]
)
@pytest.mark.parametrize("region", ["us-central1", "europe-west4"])
def test_3x_models_tune_in_their_two_regions(model: str, region: str) -> None:
    result = check(base_model=model, region=region)
    assert result.ok
    assert result.warnings == ()


@pytest.mark.parametrize(
    "model", ["gemini-3.5-flash", "gemini-3.1-flash-lite", "gemini-3.5-flash-lite"]
)
@pytest.mark.parametrize("region", ["asia-northeast1", "us-east4", "europe-west1"])
def test_3x_models_are_refused_in_other_regions(model: str, region: str) -> None:
    assert error("base_model", model, region=region) == (
        f"{model} can only be tuned in us-central1, europe-west4; this bot runs jobs in {region}."
    )
    problem = check(base_model=model, region=region).errors["base_model"]
    assert render("ja", problem) == (
        f"{model} をチューニングできるリージョンは us-central1, europe-west4 だけです。"
        f"このボットは {region} でジョブを実行します。"
    )


@pytest.mark.parametrize("region", ["asia-northeast1", "us-east4"])
def test_2x_models_are_not_region_restricted(region: str) -> None:
    assert check(base_model="gemini-2.5-pro", region=region).ok


@pytest.mark.parametrize(
    "model",
    [
        "gemini-2.0-flash-001",
        "gemini-2.0-flash-lite-001",
        "gemini-1.5-pro-002",
        "gemini-1.5-flash-002",
        "gemini-1.0-pro-002",
    ],
)
def test_a_retired_model_is_a_warning_not_an_error(model: str) -> None:
    result = check(base_model=model)
    assert result.ok
    assert warnings(result) == [
        f"{model} is retired: Google will probably refuse to tune it. Pick a current model "
        "unless you know it still works."
    ]


def test_a_retiring_model_warns_with_its_date() -> None:
    result = check(base_model="gemini-2.5-flash", today=dt.date(2026, 10, 19))
    assert result.ok
    assert warnings(result) == [
        "gemini-2.5-flash retires on 2026-10-20: plan to move to a current model."
    ]
    assert warnings(result, "ja") == [
        "gemini-2.5-flash は 2026-10-20 に提供終了予定です。現行モデルへの移行を検討してください。"
    ]


@pytest.mark.parametrize("today", [RETIREMENT_DAY, dt.date(2027, 1, 1)])
def test_a_retiring_model_counts_as_retired_from_its_date(today: dt.date) -> None:
    result = check(base_model="gemini-2.5-pro", today=today)
    assert result.ok
    assert [w.key for w in result.warnings] == ["spec.model_retired"]


def test_current_models_give_no_warning() -> None:
    assert check(base_model="gemini-3.5-flash").warnings == ()


# --- datasets --------------------------------------------------------------------------------

LONG_BUCKET = "a" * 64
BAD_DATASETS = [
    ("", f"Give the training data as a Cloud Storage URI, e.g. {DATASET_HINT}."),
    (
        "http://example.com/train.jsonl",
        "`http://example.com/train.jsonl` is not a Cloud Storage URI. Upload the JSONL file to a "
        "bucket and give its `gs://bucket/path.jsonl` address (http://, https:// and file:// are "
        "not accepted).",
    ),
    (
        "https://storage.googleapis.com/team-data/train.jsonl",
        "`https://storage.googleapis.com/team-data/train.jsonl` is not a Cloud Storage URI. "
        "Upload the JSONL file to a bucket and give its `gs://bucket/path.jsonl` address "
        "(http://, https:// and file:// are not accepted).",
    ),
    (
        "file:///home/me/train.jsonl",
        "`file:///home/me/train.jsonl` is not a Cloud Storage URI. Upload the JSONL file to a "
        "bucket and give its `gs://bucket/path.jsonl` address (http://, https:// and file:// are "
        "not accepted).",
    ),
    (
        "gs://team-data/my train.jsonl",
        "The URI contains spaces or line breaks. Paste just the `gs://bucket/file.jsonl` address.",
    ),
    (
        "gs://team-data/train.jsonl\ngs://team-data/more.jsonl",
        "The URI contains spaces or line breaks. Paste just the `gs://bucket/file.jsonl` address.",
    ),
    (
        "gs://team-data/a\tb.jsonl",
        "The URI contains spaces or line breaks. Paste just the `gs://bucket/file.jsonl` address.",
    ),
    ("gs://ab/train.jsonl", "Bucket name `ab` must be 3 to 63 characters (up to 222 with dots)."),
    (
        f"gs://{LONG_BUCKET}/train.jsonl",
        f"Bucket name `{LONG_BUCKET}` must be 3 to 63 characters (up to 222 with dots).",
    ),
    (
        "gs://Team-Data/train.jsonl",
        "Bucket name `Team-Data` is not valid: use lower-case letters, digits, dashes, "
        "underscores and dots, starting and ending with a letter or digit.",
    ),
    (
        "gs://-team/train.jsonl",
        "Bucket name `-team` is not valid: use lower-case letters, digits, dashes, "
        "underscores and dots, starting and ending with a letter or digit.",
    ),
    (
        "gs://team..data/train.jsonl",
        "Bucket name `team..data` is not valid: use lower-case letters, digits, dashes, "
        "underscores and dots, starting and ending with a letter or digit.",
    ),
    (
        "gs://192.168.1.10/train.jsonl",
        "Bucket name `192.168.1.10` is not valid: use lower-case letters, digits, dashes, "
        "underscores and dots, starting and ending with a letter or digit.",
    ),
    (
        "gs://goog-data/train.jsonl",
        'Bucket name `goog-data` is not valid: names cannot start with "goog" or contain "google".',
    ),
    (
        "gs://my-google-data/train.jsonl",
        'Bucket name `my-google-data` is not valid: names cannot start with "goog" or contain '
        '"google".',
    ),
    (
        "gs://team-data",
        "`gs://team-data` names a bucket or folder. Give the JSONL file itself, e.g. "
        f"{DATASET_HINT}.",
    ),
    (
        "gs://team-data/",
        "`gs://team-data/` names a bucket or folder. Give the JSONL file itself, e.g. "
        f"{DATASET_HINT}.",
    ),
    (
        "gs://team-data/dir/",
        "`gs://team-data/dir/` names a bucket or folder. Give the JSONL file itself, e.g. "
        f"{DATASET_HINT}.",
    ),
    (
        "gs://team-data/*.jsonl",
        "`gs://team-data/*.jsonl` contains a wildcard. Give exactly one JSONL file.",
    ),
    (
        "gs://team-data/run-[12].jsonl",
        "`gs://team-data/run-[12].jsonl` contains a wildcard. Give exactly one JSONL file.",
    ),
    (
        "gs://team-data/a\x01b.jsonl",
        "`gs://team-data/a\x01b.jsonl` contains characters Cloud Storage does not allow in an "
        "object name.",
    ),
    (
        "gs://team-data/a\x7fb.jsonl",
        "`gs://team-data/a\x7fb.jsonl` contains characters Cloud Storage does not allow in an "
        "object name.",
    ),
    (
        "gs://team-data/..",
        "`gs://team-data/..` contains characters Cloud Storage does not allow in an object name.",
    ),
    ("gs://team-data/" + "x" * 1025, "The object name is longer than 1024 bytes."),
    ("gs://team-data/" + "データ" * 114, "The object name is longer than 1024 bytes."),
    (
        "projects/my-project/datasets/123",
        "`projects/my-project/datasets/123` is not a Vertex AI dataset. Use "
        "`projects/PROJECT/locations/REGION/datasets/ID` or a `gs://` URI.",
    ),
    (
        "projects/my-project/locations/us-central1/datasets/abc",
        "`projects/my-project/locations/us-central1/datasets/abc` is not a Vertex AI dataset. "
        "Use `projects/PROJECT/locations/REGION/datasets/ID` or a `gs://` URI.",
    ),
]


@pytest.mark.parametrize(("uri", "message"), BAD_DATASETS)
def test_bad_training_dataset_is_refused_with_its_reason(uri: str, message: str) -> None:
    assert error("training_dataset", uri) == message


@pytest.mark.parametrize(("uri", "message"), BAD_DATASETS[1:])
def test_bad_validation_dataset_is_refused_the_same_way(uri: str, message: str) -> None:
    assert error("validation_dataset", uri) == message


@pytest.mark.parametrize(
    "uri",
    [
        "gs://team-data/train.jsonl",
        "gs://cloud-samples-data/ai-platform/generative_ai/gemini/text/sft_train_data.jsonl",
        "gs://abc/x",
        "gs://" + "a" * 63 + "/x.jsonl",
        "gs://data.example.com/train.jsonl",
        "gs://team_data-01/runs/2026/データ.jsonl",
        "gs://team-data/" + "x" * 1024,
        "projects/my-project/locations/us-central1/datasets/1234567890",
        "projects/123456789012/locations/europe-west4/datasets/42",
    ],
)
def test_good_datasets_are_accepted_as_typed(uri: str) -> None:
    result = check(training_dataset=uri)
    assert result.errors == {}
    assert result.spec is not None
    assert result.spec.training_dataset_uri == uri


def test_dataset_messages_in_japanese() -> None:
    assert error("training_dataset", "gs://team-data/dir/", "ja") == (
        "`gs://team-data/dir/` はバケットまたはフォルダを指しています。JSONL ファイルそのものを"
        "指定してください（例: `gs://my-bucket/train.jsonl`）。"
    )
    assert error("training_dataset", "gs://goog-x/a.jsonl", "ja") == (
        "バケット名 `goog-x` は無効です。「goog」で始まる名前や「google」を含む名前は使えません。"
    )


def test_the_same_file_for_training_and_validation_is_a_warning() -> None:
    result = check(validation_dataset=GOOD_DATA)
    assert result.ok
    assert warnings(result) == [
        "Training and validation data are the same file: validation scores will look better "
        "than they are."
    ]


NOT_ALLOWED = "dataset.not_allowed"
ALLOW_CASES = [
    (("gs://team-data",), "gs://team-data/train.jsonl", None),
    (("gs://team-data",), "gs://team-data/sub/dir/train.jsonl", None),
    (("gs://team-data",), "gs://team-data-evil/x.jsonl", NOT_ALLOWED),
    (("gs://team-data",), "gs://team-datа/x.jsonl", "dataset.bucket_chars"),  # Cyrillic а
    (("gs://team-data/",), "gs://team-data/train.jsonl", None),
    (("gs://team-data/",), "gs://team-data-evil/x.jsonl", NOT_ALLOWED),
    (("gs://shared/team-a/",), "gs://shared/team-a/train.jsonl", None),
    (("gs://shared/team-a/",), "gs://shared/team-ab/train.jsonl", NOT_ALLOWED),
    (("gs://shared/team-a/",), "gs://shared/train.jsonl", NOT_ALLOWED),
    (("gs://shared/team-a/run-",), "gs://shared/team-a/run-7.jsonl", None),
    (("gs://shared/team-a/run-",), "gs://shared/team-a/other.jsonl", NOT_ALLOWED),
    (("gs://a-data", "gs://b-data"), "gs://b-data/x.jsonl", None),
    (("gs://a-data", "gs://b-data"), "gs://c-data/x.jsonl", NOT_ALLOWED),
    (("gs://team-data",), "projects/my-project/locations/us-central1/datasets/1", NOT_ALLOWED),
]


@pytest.mark.parametrize(("allowed", "uri", "refusal"), ALLOW_CASES)
@pytest.mark.parametrize("field", ["training_dataset", "validation_dataset"])
def test_allowed_bucket_prefixes(
    allowed: tuple[str, ...], uri: str, refusal: str | None, field: str
) -> None:
    problem = check(**{field: uri}, allowed=allowed).errors.get(field)  # type: ignore[arg-type]
    assert (problem.key if problem else None) == refusal
    if refusal == NOT_ALLOWED:
        assert render("en", problem) == (  # type: ignore[arg-type]
            f"Datasets must come from: {', '.join(allowed)}. Ask an admin if you need "
            "another bucket."
        )


def test_no_allow_list_means_any_bucket() -> None:
    assert error("training_dataset", "gs://anyone-data/x.jsonl", allowed=()) is None


# --- epochs ----------------------------------------------------------------------------------

EPOCHS_NOT_INTEGER = "Epochs must be a whole number from 1 to 100."
EPOCHS_RANGE = "Epochs must be from 1 to 100."


@pytest.mark.parametrize(
    ("text", "message", "value"),
    [
        ("1", None, 1),
        ("100", None, 100),
        (" 7 ", None, 7),
        ("007", None, 7),
        ("１０", None, 10),  # full-width digits from a Japanese input method
        ("0", EPOCHS_RANGE, None),
        ("101", EPOCHS_RANGE, None),
        ("999999", EPOCHS_RANGE, None),
        ("3.5", EPOCHS_NOT_INTEGER, None),
        ("-1", EPOCHS_NOT_INTEGER, None),
        ("+3", EPOCHS_NOT_INTEGER, None),
        ("abc", EPOCHS_NOT_INTEGER, None),
        ("1e2", EPOCHS_NOT_INTEGER, None),
        ("9" * 400, EPOCHS_NOT_INTEGER, None),
    ],
)
def test_epochs(text: str, message: str | None, value: int | None) -> None:
    assert error("epochs", text) == message
    if message is None:
        spec = check(epochs=text).spec
        assert spec is not None
        assert spec.epochs == value


def test_epochs_message_in_japanese() -> None:
    assert error("epochs", "abc", "ja") == "エポック数は 1〜100 の整数で指定してください。"


# --- adapter size ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("model", "size", "message"),
    [
        ("gemini-2.5-flash", "16", None),
        ("gemini-2.5-flash", "1", None),
        ("gemini-3.5-flash", "2", None),
        ("gemini-2.5-flash", "32", "gemini-2.5-flash accepts adapter sizes 1, 2, 4, 8, 16."),
        ("gemini-2.5-flash", "3", "gemini-2.5-flash accepts adapter sizes 1, 2, 4, 8, 16."),
        ("gemini-2.5-pro", "16", "gemini-2.5-pro accepts adapter sizes 1, 2, 4, 8."),
        ("gemini-2.0-flash-001", "16", "gemini-2.0-flash-001 accepts adapter sizes 1, 2, 4, 8."),
        ("gemini-1.5-pro-002", "8", "gemini-1.5-pro-002 accepts adapter sizes 1, 4."),
        ("gemini-1.5-pro-002", "4", None),
        ("gemini-1.5-flash-002", "2", "gemini-1.5-flash-002 accepts adapter sizes 1, 4, 8, 16."),
        (
            "gemini-1.0-pro-002",
            "4",
            "gemini-1.0-pro-002 has no adapter size setting: leave it empty.",
        ),
        ("gemini-2.5-flash", "four", "Adapter size must be a number such as 4 or 8."),
        ("gemini-2.5-flash", "4.0", "Adapter size must be a number such as 4 or 8."),
        ("gemini-2.5-flash", "-4", "Adapter size must be a number such as 4 or 8."),
        ("gemini-2.5-flash", "1" * 50, "Adapter size must be a number such as 4 or 8."),
    ],
)
def test_adapter_size_per_model(model: str, size: str, message: str | None) -> None:
    assert error("adapter_size", size, base_model=model) == message


def test_adapter_size_is_not_judged_against_an_unknown_model() -> None:
    result = check(base_model="nope", adapter_size="4")
    assert set(result.errors) == {"base_model"}


def test_adapter_message_in_japanese() -> None:
    assert error("adapter_size", "32", "ja", base_model="gemini-2.5-pro") == (
        "gemini-2.5-pro で使えるアダプタ サイズは 1, 2, 4, 8です。"
    )


# --- learning-rate multiplier ----------------------------------------------------------------

LR_RANGE = "Learning-rate multiplier must be above 0 and at most 100."
LR_NOT_NUMBER = "Learning-rate multiplier must be a number above 0 and at most 100, e.g. 1.0."


@pytest.mark.parametrize(
    ("text", "message", "value"),
    [
        ("1e-3", None, 0.001),
        ("1", None, 1.0),
        ("0.5", None, 0.5),
        ("100", None, 100.0),
        ("０．５", None, 0.5),
        ("0", LR_RANGE, None),
        ("-1", LR_RANGE, None),
        ("100.1", LR_RANGE, None),
        ("1e308", LR_RANGE, None),
        ("nan", LR_RANGE, None),
        ("NaN", LR_RANGE, None),
        ("inf", LR_RANGE, None),
        ("-inf", LR_RANGE, None),
        ("abc", LR_NOT_NUMBER, None),
        ("0x10", LR_NOT_NUMBER, None),
        ("1,5", LR_NOT_NUMBER, None),
        ("1" * 40, LR_NOT_NUMBER, None),
    ],
)
def test_learning_rate_multiplier(text: str, message: str | None, value: float | None) -> None:
    assert error("learning_rate_multiplier", text) == message
    if message is None:
        spec = check(learning_rate_multiplier=text).spec
        assert spec is not None
        assert spec.learning_rate_multiplier == pytest.approx(value)


def test_learning_rate_message_in_japanese() -> None:
    assert error("learning_rate_multiplier", "0", "ja") == (
        "学習率の乗数は 0 より大きく 100 以下にしてください。"
    )


# --- display name ----------------------------------------------------------------------------

CONTROL = "The name contains control characters or line breaks: use plain text on one line."


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("a" * 128, None),
        ("サポート用モデル 第2版", None),
        ("🚀 launch model", None),
        ("👩‍💻 coder", None),  # emoji joined by U+200D
        ("🏳️‍🌈 pride", None),
        ("👨🏽‍💻 dev", None),
        ("🏴󠁧󠁢󠁳󠁣󠁴󠁿 scotland", None),  # subdivision flag spelled with tag characters
        ("<!channel> & <@U123>", None),  # escaped later when shown in Slack
        ("a" * 129, "The name is 129 characters; at most 128 are allowed."),
        ("a" * 1000, "The name is 1000 characters; at most 128 are allowed."),
        ("a" * 10_000, "The name is 10000 characters; at most 128 are allowed."),
        ("line one\nline two", CONTROL),
        ("tab\tbed", CONTROL),
        ("nul\x00byte", CONTROL),
        ("bell\x07", CONTROL),
        ("zero\u200bwidth", CONTROL),
        ("joiner\u200dbetween letters", CONTROL),
        ("right\u202eto-left override", CONTROL),
        ("left-to-right\u200emark", CONTROL),
        ("bom\ufeffinside", CONTROL),
        ("line\u2028separator", CONTROL),
        ("paragraph\u2029separator", CONTROL),
        ("\U000e0041 tag alone", CONTROL),
    ],
)
def test_display_name(name: str, message: str | None) -> None:
    assert error("display_name", name) == message
    if message is None:
        spec = check(display_name=name).spec
        assert spec is not None
        assert spec.display_name == name


def test_display_name_length_counts_characters_not_bytes() -> None:
    assert error("display_name", "あ" * 128) is None
    assert error("display_name", "あ" * 129, "ja") == (
        "名前が 129 文字あります。128 文字以内にしてください。"
    )


def test_every_bad_field_is_reported_at_once() -> None:
    result = check(
        base_model="",
        training_dataset="http://x",
        validation_dataset="gs://team-data/",
        epochs="0",
        adapter_size="x",
        learning_rate_multiplier="nan",
        display_name="a\nb",
    )
    assert not result.ok
    assert result.spec is None
    assert set(result.errors) == set(FIELDS)


def test_fields_the_form_does_not_know_are_ignored() -> None:
    result = check(epochs="3", something_else="<!channel>")
    assert result.ok


# --- labels ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "labels",
    [
        {},
        {"team": "ml"},
        {"created-by": "tuning-bot", "tuning-bot-request": "0a1b2c"},
        {"k": ""},
        {"チーム": "機械学習"},
        {"k" * 63: "v" * 63},
        {f"key{i}": str(i) for i in range(64)},
    ],
)
def test_valid_labels(labels: dict[str, str]) -> None:
    assert label_problem(labels) is None


@pytest.mark.parametrize(
    ("labels", "shown"),
    [
        ({"Team": "ml"}, "Team=ml"),
        ({"team": "ML"}, "team=ML"),
        ({"": "x"}, "=x"),
        ({"1team": "x"}, "1team=x"),
        ({"_team": "x"}, "_team=x"),
        ({"-team": "x"}, "-team=x"),
        ({"a b": "c"}, "a b=c"),
        ({"a.b": "c"}, "a.b=c"),
        ({"team": "a/b"}, "team=a/b"),
        ({"k" * 64: "v"}, "k" * 64 + "=v"),
        ({"k": "v" * 64}, "k=" + "v" * 64),
    ],
)
def test_invalid_labels_name_the_label(labels: dict[str, str], shown: str) -> None:
    problem = label_problem(labels)
    assert problem == Problem.of("spec.label_invalid", label=shown)
    assert render("en", problem) == (
        f"Label `{shown}` is not valid: keys and values are lower-case letters, digits, `_` and "
        "`-`, at most 63 characters."
    )


def test_too_many_labels() -> None:
    problem = label_problem({f"key{i}": "" for i in range(65)})
    assert problem is not None
    assert render("en", problem) == "A job can have at most 64 labels."
    assert render("ja", problem) == "1 つのジョブに付けられるラベルは 64 個までです。"


def test_with_labels_merges_and_leaves_the_original_alone() -> None:
    spec = TuningJobSpec("gemini-2.5-flash", GOOD_DATA, labels={"team": "ml"})
    more = spec.with_labels({"created-by": "tuning-bot", "team": "nlp"})
    assert dict(more.labels) == {"team": "nlp", "created-by": "tuning-bot"}
    assert dict(spec.labels) == {"team": "ml"}
    with pytest.raises(TypeError):
        more.labels["x"] = "y"  # type: ignore[index]


def test_with_labels_refuses_invalid_labels() -> None:
    spec = TuningJobSpec("gemini-2.5-flash", GOOD_DATA)
    with pytest.raises(DomainError) as caught:
        spec.with_labels({"Created-By": "U012ABCDEF"})
    assert caught.value.problem.key == "spec.label_invalid"
