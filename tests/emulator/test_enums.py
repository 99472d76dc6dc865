"""Enums arrive as names or as proto numbers (the GAPIC REST transport sends numbers)."""

from __future__ import annotations

import httpx
import pytest

from tests.emulator.conftest import PARENT, body, error_of

# SupervisedHyperParameters.AdapterSize as numbered in the proto (not in rank order).
PROTO_NUMBERS = {
    0: "ADAPTER_SIZE_UNSPECIFIED",
    1: "ADAPTER_SIZE_ONE",
    2: "ADAPTER_SIZE_FOUR",
    3: "ADAPTER_SIZE_EIGHT",
    4: "ADAPTER_SIZE_SIXTEEN",
    5: "ADAPTER_SIZE_THIRTY_TWO",
    6: "ADAPTER_SIZE_TWO",
}


@pytest.mark.parametrize(("number", "name"), [(n, v) for n, v in PROTO_NUMBERS.items() if n != 5])
async def test_adapter_size_numbers_mean_their_proto_names(
    api: httpx.AsyncClient, number: int, name: str
) -> None:
    response = await api.post(
        f"/v1beta1/{PARENT}/tuningJobs", json=body(hyperParameters={"adapterSize": number})
    )
    assert response.status_code == 200, response.text
    assert response.json()["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == name


async def test_a_number_in_a_string_is_a_number_too(api: httpx.AsyncClient) -> None:
    response = await api.post(
        f"/v1/{PARENT}/tuningJobs", json=body(hyperParameters={"adapterSize": "6"})
    )
    assert response.json()["supervisedTuningSpec"]["hyperParameters"]["adapterSize"] == (
        "ADAPTER_SIZE_TWO"
    )


async def test_a_numbered_size_the_model_lacks_is_refused_like_a_named_one(
    api: httpx.AsyncClient,
) -> None:
    # 5 is THIRTY_TWO, which gemini-3.5-flash does not offer.
    response = await api.post(
        f"/v1/{PARENT}/tuningJobs", json=body(hyperParameters={"adapterSize": 5})
    )
    assert "adapter size is not supported" in error_of(response, 400)["message"]


@pytest.mark.parametrize("value", [7, -1, "7", True, "ADAPTER_SIZE_3", "four"])
async def test_other_values_are_invalid(api: httpx.AsyncClient, value: object) -> None:
    response = await api.post(
        f"/v1/{PARENT}/tuningJobs", json=body(hyperParameters={"adapterSize": value})
    )
    error = error_of(response, 400)
    assert "Invalid value" in error["message"]
    assert "AdapterSize" in error["message"]
