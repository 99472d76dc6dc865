"""Labels, description, checkpoints, service account and CMEK key on a created job."""

from __future__ import annotations

import httpx

from tests.emulator.conftest import GOOD, PARENT, REGION, body, error_of

KEY = f"projects/acme-ml/locations/{REGION}/keyRings/ring/cryptoKeys/key"
ACCOUNT = "tuner@acme-ml.iam.gserviceaccount.com"


async def test_they_are_stored_and_returned_as_sent(api: httpx.AsyncClient) -> None:
    sent = {
        **body(exportLastCheckpointOnly=True),
        "labels": {"team": "ml"},
        "description": "Support v3",
        "serviceAccount": ACCOUNT,
        "encryptionSpec": {"kmsKeyName": KEY},
    }
    created = (await api.post(f"/v1/{PARENT}/tuningJobs", json=sent)).json()
    job = (await api.get(f"/v1/{created['name']}")).json()
    for answer in (created, job):
        assert answer["labels"] == {"team": "ml"}
        assert answer["description"] == "Support v3"
        assert answer["serviceAccount"] == ACCOUNT
        assert answer["encryptionSpec"] == {"kmsKeyName": KEY}
        assert answer["supervisedTuningSpec"]["exportLastCheckpointOnly"] is True


async def test_a_malformed_key_or_one_from_another_region_is_refused(
    api: httpx.AsyncClient,
) -> None:
    for key in ("my-key", KEY.replace(REGION, "europe-west4")):
        sent = {**GOOD, "encryptionSpec": {"kmsKeyName": key}}
        error = error_of(await api.post(f"/v1/{PARENT}/tuningJobs", json=sent), 400)
        assert error["status"] == "INVALID_ARGUMENT"
        violation = error["details"][0]["fieldViolations"][0]
        assert violation["field"] == "tuning_job.encryption_spec.kms_key_name"
