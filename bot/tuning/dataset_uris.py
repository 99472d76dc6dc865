"""Where a dataset may come from: `gs://bucket/object` or a Vertex dataset resource name."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

from bot.tuning.problems import DomainError, Problem

_BUCKET_COMPONENT = re.compile(r"[a-z0-9](?:[a-z0-9_-]{0,61}[a-z0-9])?")
_VERTEX_DATASET = re.compile(
    r"projects/[a-z0-9][a-z0-9-]{0,62}/locations/[a-z][a-z0-9-]{0,62}/datasets/[0-9]{1,30}"
)
_MAX_OBJECT_BYTES = 1024
_WILDCARDS = frozenset("*?[]")


@dataclass(frozen=True)
class GcsUri:
    """A Cloud Storage object location."""

    bucket: str
    object_name: str

    def __str__(self) -> str:
        return f"gs://{self.bucket}/{self.object_name}"


def _bucket_problem(bucket: str) -> Problem | None:
    components = bucket.split(".")
    # Each dot-separated part is at most 63 characters, the whole name at most 222.
    if not 3 <= len(bucket) <= 222 or any(len(c) > 63 for c in components):
        return Problem.of("dataset.bucket_length", bucket=bucket[:80])
    if any(not _BUCKET_COMPONENT.fullmatch(c) for c in components):
        return Problem.of("dataset.bucket_chars", bucket=bucket[:80])
    try:
        ipaddress.ip_address(bucket)
    except ValueError:
        pass
    else:
        return Problem.of("dataset.bucket_chars", bucket=bucket[:80])
    if bucket.startswith("goog") or "google" in bucket:
        return Problem.of("dataset.bucket_reserved", bucket=bucket[:80])
    return None


def parse_gcs_uri(text: str) -> GcsUri:
    """Parse `gs://bucket/object`; raise DomainError naming what is wrong."""
    if not text.startswith("gs://"):
        raise DomainError(Problem.of("dataset.scheme", uri=text[:120]))
    bucket, slash, object_name = text[len("gs://") :].partition("/")
    problem = _bucket_problem(bucket)
    if problem is not None:
        raise DomainError(problem)
    if not slash or not object_name or object_name.endswith("/"):
        raise DomainError(Problem.of("dataset.no_object", uri=text[:120]))
    if _WILDCARDS & set(object_name):
        raise DomainError(Problem.of("dataset.wildcard", uri=text[:120]))
    if object_name in {".", ".."} or any(_bad_object_char(c) for c in object_name):
        raise DomainError(Problem.of("dataset.object_chars", uri=text[:120]))
    if len(object_name.encode("utf-8")) > _MAX_OBJECT_BYTES:
        raise DomainError(Problem.of("dataset.object_too_long", limit=_MAX_OBJECT_BYTES))
    return GcsUri(bucket, object_name)


def _bad_object_char(char: str) -> bool:
    # Control characters are refused by Cloud Storage; lone surrogates (possible in JSON from
    # Slack) are not UTF-8 at all.
    code = ord(char)
    return code < 0x20 or code == 0x7F or 0xD800 <= code <= 0xDFFF


def validate_dataset_uri(raw: str) -> str:
    """Return the cleaned URI or raise DomainError; spaces, http:// and file:// are refused."""
    text = raw.strip()
    if not text:
        raise DomainError(Problem.of("dataset.missing"))
    if any(c.isspace() for c in text):
        raise DomainError(Problem.of("dataset.whitespace"))
    if text.startswith("projects/"):
        if _VERTEX_DATASET.fullmatch(text) is None:
            raise DomainError(Problem.of("dataset.vertex_name", uri=text[:120]))
        return text
    parse_gcs_uri(text)
    return text


def uri_allowed(uri: str, allowed_prefixes: tuple[str, ...]) -> bool:
    """Whether a `gs://` URI lies under one of the allowed prefixes (none configured = any).

    A prefix naming a bucket (`gs://team-data`) matches that bucket only, not `gs://team-data-x`.
    """
    if not allowed_prefixes:
        return True
    if not uri.startswith("gs://"):
        return False
    return any(_under_prefix(uri, prefix) for prefix in allowed_prefixes)


def _under_prefix(uri: str, prefix: str) -> bool:
    if prefix.endswith("/"):
        # A folder (`gs://b/team/`) or a bucket with its slash: only what lies inside it.
        return uri.startswith(prefix)
    if prefix.count("/") == 2:
        # A bare bucket (`gs://team-data`) never matches a longer bucket name.
        return uri.startswith(prefix + "/")
    # A prefix inside a bucket (`gs://b/team/run-`) matches objects that start with it.
    return uri.startswith(prefix)
