"""Console pages of what a tuning job produced: the model, its endpoint and its experiment."""

from __future__ import annotations

import pytest

from bot.tuning.job import (
    ResourceName,
    endpoint_console_url,
    experiment_console_url,
    model_console_url,
)

NUMBER = "123456789012"


def test_a_tuned_model_links_to_its_registry_page_whatever_its_version() -> None:
    url = model_console_url(f"projects/{NUMBER}/locations/us-central1/models/777@3")

    assert url == (
        "https://console.cloud.google.com/vertex-ai/models/locations/us-central1/models/777"
        f"?project={NUMBER}"
    )


def test_an_endpoint_links_to_its_online_prediction_page_in_its_own_location() -> None:
    url = endpoint_console_url(f"projects/{NUMBER}/locations/us/endpoints/888")

    assert url == (
        "https://console.cloud.google.com/vertex-ai/online-prediction/locations/us/endpoints/888"
        f"?project={NUMBER}"
    )


def test_an_experiment_links_to_its_runs_by_context_id() -> None:
    name = (
        f"projects/{NUMBER}/locations/europe-west4/metadataStores/default/contexts/"
        "tuning-experiment-20261204"
    )

    assert experiment_console_url(name) == (
        "https://console.cloud.google.com/vertex-ai/experiments/locations/europe-west4/"
        f"experiments/tuning-experiment-20261204/runs?project={NUMBER}"
    )


@pytest.mark.parametrize(
    "name",
    ["", "777", "models/777", "projects//locations/us/models/1", "projects/p/locations/us/models/"],
)
def test_a_name_that_is_not_a_resource_gets_no_link(name: str) -> None:
    assert ResourceName.parse(name) is None
    assert model_console_url(name) is None
    assert endpoint_console_url(name) is None
    assert experiment_console_url(name) is None
