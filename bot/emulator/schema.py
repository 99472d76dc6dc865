"""Field names and types of the create body, as in Google's discovery documents.

`v1` tables equal the aiplatform v1 discovery document (a conformance test checks that);
`v1beta1` adds the few fields the beta surface has that an SDK may send. Kinds: a message name
(checked recursively), `string`, `boolean`, `int64`, `double`, an enum name, `labels`,
`object` (accepted unchecked), `output` (output only: ignored on input), `unsupported` (a
tuning method the emulator does not emulate).
"""

from __future__ import annotations

# SupervisedHyperParameters.AdapterSize: name -> LoRA rank (None: unset). The proto numbers
# (checked against google/cloud/aiplatform_v1/types/tuning_job.py) are NOT in rank order.
ADAPTER_SIZES: dict[str, int | None] = {
    "ADAPTER_SIZE_UNSPECIFIED": None,
    "ADAPTER_SIZE_ONE": 1,
    "ADAPTER_SIZE_TWO": 2,
    "ADAPTER_SIZE_FOUR": 4,
    "ADAPTER_SIZE_EIGHT": 8,
    "ADAPTER_SIZE_SIXTEEN": 16,
    "ADAPTER_SIZE_THIRTY_TWO": 32,
}
ENUMS: dict[str, dict[int, str]] = {
    "adapterSize": {
        0: "ADAPTER_SIZE_UNSPECIFIED",
        1: "ADAPTER_SIZE_ONE",
        2: "ADAPTER_SIZE_FOUR",
        3: "ADAPTER_SIZE_EIGHT",
        4: "ADAPTER_SIZE_SIXTEEN",
        5: "ADAPTER_SIZE_THIRTY_TWO",
        6: "ADAPTER_SIZE_TWO",
    },
    # SupervisedTuningSpec.TuningMode (v1beta1 only).
    "tuningMode": {
        0: "TUNING_MODE_UNSPECIFIED",
        1: "TUNING_MODE_FULL",
        2: "TUNING_MODE_PEFT_ADAPTER",
    },
}
# The proto type names Google's parser quotes when it refuses an enum value.
ENUM_TYPES = {
    "adapterSize": "SupervisedHyperParameters.AdapterSize",
    "tuningMode": "SupervisedTuningSpec.TuningMode",
}

TUNING_JOB_FIELDS = {
    "baseModel": "string",
    "createTime": "output",
    "description": "string",
    "encryptionSpec": "encryptionSpec",
    "endTime": "output",
    "error": "output",
    "evaluateDatasetRuns": "output",
    "experiment": "output",
    "gcsMetricsUri": "output",
    "labels": "labels",
    "name": "output",
    "preTunedModel": "preTunedModel",
    "preferenceOptimizationSpec": "unsupported",
    "serviceAccount": "string",
    "startTime": "output",
    "state": "output",
    "supervisedTuningSpec": "supervisedTuningSpec",
    "tunedModel": "output",
    "tunedModelDisplayName": "string",
    "tuningDataStats": "output",
    "updateTime": "output",
}
SUPERVISED_FIELDS = {
    "evaluationConfig": "object",
    "exportLastCheckpointOnly": "boolean",
    "hyperParameters": "hyperParameters",
    "trainingDatasetUri": "string",
    "validationDatasetUri": "string",
}
HYPER_FIELDS = {
    "adapterSize": "adapterSize",
    "epochCount": "int64",
    "learningRateMultiplier": "double",
}
ENCRYPTION_FIELDS = {"kmsKeyName": "string"}
PRE_TUNED_MODEL_FIELDS = {
    "baseModel": "output",
    "checkpointId": "string",
    "tunedModelName": "string",
}

# Fields only the v1beta1 surface has (google-genai and vertexai call v1beta1 by default).
_BETA_TUNING_JOB = {
    "customBaseModel": "string",
    "distillationSpec": "unsupported",
    "fullFineTuningSpec": "unsupported",
    "outputUri": "string",
    "partnerModelTuningSpec": "unsupported",
    "pipelineJob": "output",
    "reinforcementTuningSpec": "unsupported",
    "satisfiesPzi": "output",
    "satisfiesPzs": "output",
    "tuningJobMetadata": "output",
    "tuningJobState": "output",
    "veoLoraTuningSpec": "unsupported",
    "veoTuningSpec": "unsupported",
}
_BETA_SUPERVISED = {"tuningMode": "tuningMode"}
_BETA_HYPER = {"batchSize": "int64", "learningRate": "double"}

V1: dict[str, dict[str, str]] = {
    "tuning_job": TUNING_JOB_FIELDS,
    "supervisedTuningSpec": SUPERVISED_FIELDS,
    "hyperParameters": HYPER_FIELDS,
    "encryptionSpec": ENCRYPTION_FIELDS,
    "preTunedModel": PRE_TUNED_MODEL_FIELDS,
}
V1BETA1: dict[str, dict[str, str]] = {
    **V1,
    "tuning_job": {**TUNING_JOB_FIELDS, **_BETA_TUNING_JOB},
    "supervisedTuningSpec": {**SUPERVISED_FIELDS, **_BETA_SUPERVISED},
    "hyperParameters": {**HYPER_FIELDS, **_BETA_HYPER},
}


def messages(version: str) -> dict[str, dict[str, str]]:
    """The field tables of API `version` (`v1` or `v1beta1`)."""
    return V1BETA1 if version == "v1beta1" else V1
