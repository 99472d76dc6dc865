"""A loopback HTTP server that speaks the Cloud Storage JSON API, for tests and benchmarks.

It serves object metadata (`GET /storage/v1/b/B/o/O`), media (`…?alt=media`) and the objects
list of a bucket (`GET /storage/v1/b/B/o?prefix=P&maxResults=N`), answers 404
and 403 with Google's error JSON, records each request's path and Authorization header, and
can stream with chunked transfer encoding or hold a download midway until released.
Point `STORAGE_EMULATOR_HOST` (or `DatasetOpener(storage_emulator_host=…)`) at `base_url`.
"""

from __future__ import annotations

import contextlib
import json
import threading
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

_WRITE_BYTES = 64 * 1024


@dataclass
class StoredObject:
    """An object's bytes (in memory or in a file on disk) and how to serve them."""

    data: bytes | None = None
    path: Path | None = None
    declared_size: int | None = None
    chunked: bool = False
    hold_after: int | None = None
    release: threading.Event = field(default_factory=threading.Event)

    @property
    def size(self) -> int:
        if self.declared_size is not None:
            return self.declared_size
        if self.data is not None:
            return len(self.data)
        assert self.path is not None
        return self.path.stat().st_size

    def open(self) -> BinaryIO:
        if self.data is not None:
            import io

            return io.BytesIO(self.data)
        assert self.path is not None
        return self.path.open("rb")


@dataclass
class GcsRequest:
    """One request the stand-in received."""

    path: str
    query: dict[str, str]
    authorization: str | None


class FakeGcs:
    """Start with `start()`, add objects with `put`/`put_file`, read `requests` afterwards."""

    def __init__(self) -> None:
        self.objects: dict[tuple[str, str], StoredObject] = {}
        self.forbidden: set[tuple[str, str]] = set()
        self.buckets: set[str] = set()  # buckets that exist with no object yet
        self.forbidden_buckets: set[str] = set()
        self.requests: list[GcsRequest] = []
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- setup ---------------------------------------------------------------------------
    def put(self, bucket: str, name: str, data: bytes, **options: Any) -> StoredObject:
        """Store an object held in memory; options are StoredObject fields."""
        stored = StoredObject(data=data, **options)
        self.objects[(bucket, name)] = stored
        return stored

    def put_file(self, bucket: str, name: str, path: Path, **options: Any) -> StoredObject:
        """Store an object served from a file on disk (for large objects)."""
        stored = StoredObject(path=path, **options)
        self.objects[(bucket, name)] = stored
        return stored

    def forbid(self, bucket: str, name: str) -> None:
        """Reading this object answers 403, as for a service account without access."""
        self.forbidden.add((bucket, name))

    def add_bucket(self, bucket: str) -> None:
        """Make an empty bucket exist (a bucket with objects exists anyway)."""
        self.buckets.add(bucket)

    def forbid_bucket(self, bucket: str) -> None:
        """Listing this bucket answers 403, as for an account without storage.objects.list."""
        self.forbidden_buckets.add(bucket)

    # -- lifecycle -----------------------------------------------------------------------
    def start(self) -> FakeGcs:
        """Listen on a free loopback port in a daemon thread."""
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle(self) -> None:
                # Clients that stop reading midway (budgets, cancelled checks) reset the
                # connection; that is expected here, not a server error.
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    super().handle()

            def do_GET(self) -> None:
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, args=(0.01,), daemon=True).start()
        return self

    def stop(self) -> None:
        """Release held downloads and shut the server down."""
        for stored in self.objects.values():
            stored.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def base_url(self) -> str:
        """Value for STORAGE_EMULATOR_HOST."""
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    # -- request handling ----------------------------------------------------------------
    def _handle(self, request: BaseHTTPRequestHandler) -> None:
        parsed = urllib.parse.urlsplit(request.path)
        query = dict(urllib.parse.parse_qsl(parsed.query))
        with self._lock:
            self.requests.append(
                GcsRequest(parsed.path, query, request.headers.get("Authorization"))
            )
        prefix = "/storage/v1/b/"
        path = parsed.path.removeprefix("/download")
        if path.startswith(prefix) and path.endswith("/o") and path.count("/") == 5:
            self._list(request, urllib.parse.unquote(path[len(prefix) : -len("/o")]), query)
            return
        if not path.startswith(prefix) or "/o/" not in path:
            _send_error(request, 404, "Not Found", "notFound")
            return
        bucket_part, _, object_part = path[len(prefix) :].partition("/o/")
        bucket = urllib.parse.unquote(bucket_part)
        name = urllib.parse.unquote(object_part)
        if (bucket, name) in self.forbidden:
            _send_error(
                request,
                403,
                "tuning-bot@example.iam.gserviceaccount.com does not have storage.objects.get "
                "access to the Google Cloud Storage object. Permission 'storage.objects.get' "
                "denied on resource (or it may not exist).",
                "forbidden",
            )
            return
        stored = self.objects.get((bucket, name))
        if stored is None:
            _send_error(request, 404, f"No such object: {bucket}/{name}", "notFound")
            return
        if query.get("alt") == "media":
            _send_media(request, stored)
        else:
            _send_json(request, 200, _metadata(bucket, name, stored))

    def _list(self, request: BaseHTTPRequestHandler, bucket: str, query: dict[str, str]) -> None:
        if bucket in self.forbidden_buckets:
            _send_error(
                request,
                403,
                "tuning-bot@example.iam.gserviceaccount.com does not have storage.objects.list "
                "access to the Google Cloud Storage bucket. Permission 'storage.objects.list' "
                "denied on resource (or it may not exist).",
                "forbidden",
            )
            return
        names = sorted(n for b, n in self.objects if b == bucket)
        if not names and bucket not in self.buckets:
            _send_error(request, 404, "The specified bucket does not exist.", "notFound")
            return
        wanted = [n for n in names if n.startswith(query.get("prefix", ""))]
        limit = int(query.get("maxResults") or 1000)
        payload: dict[str, Any] = {"kind": "storage#objects"}
        if wanted:  # Google leaves `items` out of an empty page
            payload["items"] = [
                _metadata(bucket, n, self.objects[(bucket, n)]) for n in wanted[:limit]
            ]
        if len(wanted) > limit:
            payload["nextPageToken"] = f"after-{wanted[limit - 1]}"
        _send_json(request, 200, payload)


def _metadata(bucket: str, name: str, stored: StoredObject) -> dict[str, Any]:
    return {
        "kind": "storage#object",
        "id": f"{bucket}/{name}/1",
        "name": name,
        "bucket": bucket,
        "generation": "1",
        "contentType": "application/jsonl",
        "size": str(stored.size),  # int64 as a string, as Google sends it
        "storageClass": "STANDARD",
    }


def _send_json(request: BaseHTTPRequestHandler, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    request.send_response(status)
    request.send_header("Content-Type", "application/json; charset=UTF-8")
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def _send_error(request: BaseHTTPRequestHandler, status: int, message: str, reason: str) -> None:
    _send_json(
        request,
        status,
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
            }
        },
    )


def _send_media(request: BaseHTTPRequestHandler, stored: StoredObject) -> None:
    request.send_response(200)
    request.send_header("Content-Type", "application/jsonl")
    # A declared size that is not the real one cannot go in Content-Length.
    chunked = stored.chunked or stored.declared_size is not None
    if chunked:
        request.send_header("Transfer-Encoding", "chunked")
    else:
        request.send_header("Content-Length", str(stored.size))
    request.end_headers()
    sent = 0
    with stored.open() as source:
        while block := source.read(_WRITE_BYTES):
            if stored.hold_after is not None and sent >= stored.hold_after:
                stored.release.wait(30)
            if chunked:
                request.wfile.write(b"%x\r\n%s\r\n" % (len(block), block))
            else:
                request.wfile.write(block)
            sent += len(block)
    if chunked:
        request.wfile.write(b"0\r\n\r\n")
