"""A small validator for JSON against Google's discovery document for aiplatform v1.

It walks the document's schemas: `$ref`, `type`, `format` (int64 and uint64 travel as decimal
strings, google-datetime as RFC 3339), `enum`, `properties` (unknown names fail),
`additionalProperties` (maps), `items`, and — for request bodies — `readOnly` fields.
"""

from __future__ import annotations

import functools
import json
import re
from pathlib import Path
from typing import Any

import googleapiclient

_RFC3339 = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)")
_DURATION = re.compile(r"-?\d+(\.\d{1,9})?s")
_INT = re.compile(r"-?\d+")
_UINT = re.compile(r"\d+")


@functools.cache
def document() -> dict[str, Any]:
    """The discovery document shipped in google-api-python-client."""
    path = (
        Path(googleapiclient.__file__).parent
        / "discovery_cache"
        / "documents"
        / "aiplatform.v1.json"
    )
    return dict(json.loads(path.read_text("utf-8")))


def method(name: str) -> dict[str, Any]:
    """A `projects.locations.tuningJobs` method description (create, get, list, cancel)."""
    resources = document()["resources"]["projects"]["resources"]["locations"]["resources"]
    return dict(resources["tuningJobs"]["methods"][name])


def validate(value: Any, schema_id: str, *, request: bool = False) -> list[str]:
    """Problems with `value` as an instance of schema `schema_id`; empty when it conforms.

    With `request=True`, output-only (`readOnly`) fields count as problems too.
    """
    problems: list[str] = []
    _check(value, {"$ref": schema_id}, schema_id, problems, request)
    return problems


def _check(value: Any, schema: dict[str, Any], path: str, out: list[str], request: bool) -> None:
    if "$ref" in schema:
        schema = document()["schemas"][schema["$ref"]]
    kind = schema.get("type")
    fmt = schema.get("format")
    if kind == "any":
        return
    if kind == "object":
        if not isinstance(value, dict):
            out.append(f"{path}: expected an object, got {type(value).__name__}")
            return
        properties = schema.get("properties")
        extra = schema.get("additionalProperties")
        for key, item in value.items():
            where = f"{path}.{key}"
            if properties is not None and key in properties:
                prop = properties[key]
                if request and prop.get("readOnly"):
                    out.append(f"{where}: output-only field in a request")
                _check(item, prop, where, out, request)
            elif extra is not None:
                if not isinstance(key, str):
                    out.append(f"{where}: map key is not a string")
                _check(item, extra, where, out, request)
            else:
                out.append(f"{where}: unknown field")
        return
    if kind == "array":
        if not isinstance(value, list):
            out.append(f"{path}: expected an array, got {type(value).__name__}")
            return
        for index, item in enumerate(value):
            _check(item, schema.get("items", {}), f"{path}[{index}]", out, request)
        return
    if kind == "string":
        if not isinstance(value, str):
            out.append(f"{path}: expected a string ({fmt or 'plain'}), got {value!r}")
            return
        if fmt == "int64" and not _INT.fullmatch(value):
            out.append(f"{path}: int64 must be a decimal string, got {value!r}")
        elif fmt == "uint64" and not _UINT.fullmatch(value):
            out.append(f"{path}: uint64 must be a decimal string, got {value!r}")
        elif fmt == "google-datetime" and not _RFC3339.fullmatch(value):
            out.append(f"{path}: not an RFC 3339 timestamp: {value!r}")
        elif fmt == "google-duration" and not _DURATION.fullmatch(value):
            out.append(f"{path}: not a duration: {value!r}")
        enum = schema.get("enum")
        if enum is not None and value not in enum:
            out.append(f"{path}: {value!r} is not one of {enum}")
        return
    if kind == "integer":
        if isinstance(value, bool) or not isinstance(value, int):
            out.append(f"{path}: expected an integer, got {value!r}")
        return
    if kind == "number":
        if isinstance(value, bool) or not isinstance(value, int | float):
            out.append(f"{path}: expected a number, got {value!r}")
        return
    if kind == "boolean":
        if not isinstance(value, bool):
            out.append(f"{path}: expected a boolean, got {value!r}")
        return
    out.append(f"{path}: schema without a type ({schema.get('id', '?')})")
