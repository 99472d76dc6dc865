"""Where dataset bytes come from: Cloud Storage (JSON API over httpx) or a local file.

Both are read in fixed-size chunks and split into lines by LineSplitter, so memory stays
bounded by one chunk plus the longest line allowed, whatever the file's size.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import urllib.parse
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Protocol

import httpx

from bot.tuning.dataset_uris import GcsUri, parse_gcs_uri
from bot.tuning.problems import DomainError, Problem

STORAGE_API = "https://storage.googleapis.com"
CHUNK_BYTES = 1 << 20
# A line longer than this is reported and skipped, never held: at ~4 bytes a token it is far
# over any model's per-example limit, and holding it would let one line use unbounded memory.
MAX_LINE_BYTES = 8 << 20


class HeadersProvider(Protocol):
    """Anything that yields the HTTP headers authorising a Google API call."""

    async def headers(self) -> dict[str, str]:
        """Headers such as `Authorization: Bearer …` (refreshed as needed)."""
        ...


class SourceUnavailable(Exception):
    """The dataset cannot be read at all; `problem` says why in the user's terms.

    `bot_lacks_access` marks what only the bot's own credentials lack (403, 401, none found):
    Vertex AI reads the data with its own service agent, so the file may be fine for tuning.
    `missing` marks a file that does not exist (404): nothing is wrong with its data.
    """

    def __init__(
        self, problem: Problem, *, bot_lacks_access: bool = False, missing: bool = False
    ) -> None:
        super().__init__(problem.key)
        self.problem = problem
        self.bot_lacks_access = bot_lacks_access
        self.missing = missing


@dataclass
class OpenedDataset:
    """An open dataset: its size when known, and its bytes as an async stream of chunks."""

    size: int | None
    chunks: AsyncIterator[bytes]


class LineSplitter:
    """Splits a stream of chunks into lines without holding more than chunk + longest line.

    A line longer than `max_line_bytes` comes out as None (reported, not checked), and its
    bytes are dropped as they arrive. `largest_held` records the most bytes ever buffered.
    """

    def __init__(self, max_line_bytes: int = MAX_LINE_BYTES) -> None:
        self.max_line_bytes = max_line_bytes
        self.largest_held = 0
        self._tail = b""
        self._skipping = False

    def feed(self, chunk: bytes) -> list[bytes | None]:
        """The lines completed by `chunk` (without their newlines)."""
        out: list[bytes | None] = []
        if self._skipping:
            newline = chunk.find(b"\n")
            if newline < 0:
                return out
            out.append(None)
            chunk = chunk[newline + 1 :]
            self._skipping = False
        data = self._tail + chunk if self._tail else chunk
        self.largest_held = max(self.largest_held, len(data))
        lines: list[bytes] = data.split(b"\n")
        tail = lines.pop()
        if len(data) > self.max_line_bytes:
            limit = self.max_line_bytes
            out.extend(line if len(line) <= limit else None for line in lines)
        else:
            out.extend(lines)
        if len(tail) > self.max_line_bytes:
            self._tail = b""
            self._skipping = True
        else:
            self._tail = tail
        return out

    def feed_blocks(self, chunk: bytes, block_bytes: int) -> Iterator[bytes] | None:
        """The lines completed by `chunk` in blocks of about `block_bytes`, newlines included.

        For checks that take many lines at a time; a line longer than `block_bytes` is a block
        of its own. None, with nothing consumed, when a line might be over the limit or one is
        being skipped: `feed` must take the chunk then.
        """
        if self._skipping or len(self._tail) + len(chunk) > self.max_line_bytes:
            return None
        self.largest_held = max(self.largest_held, len(self._tail) + len(chunk))
        first = chunk.find(b"\n") + 1
        if not first:
            self._tail += chunk
            return iter(())
        # Only the line that spans two chunks is copied together, not the whole chunk.
        head = [self._tail + chunk[:first]] if self._tail else []
        start = first if self._tail else 0
        end = chunk.rfind(b"\n") + 1
        spans = []
        while start < end:
            stop = chunk.rfind(b"\n", start, min(start + block_bytes, end)) + 1
            if stop <= start:
                stop = chunk.find(b"\n", start, end) + 1
            spans.append((start, stop))
            start = stop
        self._tail = chunk[end:]
        # Sliced as they are taken: each block's copy is freed before the next is made.
        return itertools.chain(head, (chunk[start:stop] for start, stop in spans))

    def finish(self) -> list[bytes | None]:
        """The last line when the file does not end with a newline."""
        if self._skipping:
            self._skipping = False
            return [None]
        tail, self._tail = self._tail, b""
        return [tail] if tail else []


class DatasetOpener:
    """Opens `gs://bucket/object` through the Cloud Storage JSON API, and local paths.

    `http` is the shared client (one is made per open when None); `auth` supplies the
    Authorization header (None with an emulator); `storage_emulator_host` is the
    `STORAGE_EMULATOR_HOST` value. Local paths are refused unless `allow_local_files`
    (the command line allows them; the Slack surface must not read the server's disk).
    """

    def __init__(
        self,
        http: httpx.AsyncClient | None,
        auth: HeadersProvider | None,
        storage_emulator_host: str | None = None,
        *,
        allow_local_files: bool = False,
        chunk_bytes: int = CHUNK_BYTES,
    ) -> None:
        self._http = http
        self._auth = auth
        self._base = _storage_base(storage_emulator_host)
        self.allow_local_files = allow_local_files
        self.chunk_bytes = chunk_bytes

    @asynccontextmanager
    async def open(self, source: str) -> AsyncIterator[OpenedDataset]:
        """Open `source`; raise SourceUnavailable (or DomainError for a malformed URI)."""
        if source.startswith("gs://"):
            async with self._open_gcs(parse_gcs_uri(source), source) as opened:
                yield opened
        elif self.allow_local_files and "://" not in source:
            async with _open_local(source, self.chunk_bytes) as opened:
                yield opened
        else:
            raise DomainError(Problem.of("dataset.scheme", uri=source[:120]))

    @asynccontextmanager
    async def _open_gcs(self, uri: GcsUri, source: str) -> AsyncIterator[OpenedDataset]:
        own = self._http is None
        http = self._http or httpx.AsyncClient(timeout=httpx.Timeout(30.0))
        try:
            headers = await self._headers()
            url = (
                f"{self._base}/storage/v1/b/{urllib.parse.quote(uri.bucket, safe='')}"
                f"/o/{urllib.parse.quote(uri.object_name, safe='')}"
            )
            try:
                meta = await http.get(url, headers=headers)
                _raise_for_status(meta.status_code, source)
                size = _object_size(meta)
                async with http.stream("GET", url, params={"alt": "media"}, headers=headers) as r:
                    _raise_for_status(r.status_code, source)
                    # Pieces as the network delivers them (at most 64 KiB from httpcore):
                    # asking httpx for larger chunks would wait for them to fill.
                    yield OpenedDataset(size, r.aiter_bytes())
            except httpx.TransportError as exc:
                raise SourceUnavailable(
                    Problem.of("preflight.unreachable", error=exc.__class__.__name__)
                ) from exc
        finally:
            if own:
                await http.aclose()

    async def probe_prefix(self, bucket: str, prefix: str = "") -> bool:
        """List at most one object of `bucket` under `prefix` (Cloud Storage `objects.list`,
        `maxResults=1`): True when one exists, False when none does yet. Raises
        SourceUnavailable as `open` does: 403 and 401 when the bot may not list the bucket,
        404 when the bucket does not exist."""
        own = self._http is None
        http = self._http or httpx.AsyncClient(timeout=httpx.Timeout(30.0))
        uri = f"gs://{bucket}/{prefix}"
        try:
            headers = await self._headers()
            url = f"{self._base}/storage/v1/b/{urllib.parse.quote(bucket, safe='')}/o"
            params = {"maxResults": "1", "fields": "items/name"}
            if prefix:
                params["prefix"] = prefix
            try:
                response = await http.get(url, params=params, headers=headers)
            except httpx.TransportError as exc:
                raise SourceUnavailable(
                    Problem.of("preflight.unreachable", error=exc.__class__.__name__)
                ) from exc
            _raise_for_status(response.status_code, uri)
            try:
                items = response.json().get("items")
            except (ValueError, AttributeError):
                items = None
            return bool(items)
        finally:
            if own:
                await http.aclose()

    async def _headers(self) -> dict[str, str]:
        if self._auth is None:
            return {}
        try:
            return await self._auth.headers()
        except Exception as exc:  # any credential failure reads the same to the user
            raise SourceUnavailable(
                Problem.of("preflight.credentials", error=exc.__class__.__name__),
                bot_lacks_access=True,
            ) from exc


def _storage_base(emulator_host: str | None) -> str:
    if not emulator_host:
        return STORAGE_API
    host = emulator_host.rstrip("/")
    return host if "://" in host else f"http://{host}"


def _raise_for_status(status: int, source: str) -> None:
    if status < 300:
        return
    if status == 404:
        raise SourceUnavailable(Problem.of("preflight.no_object", uri=source[:200]), missing=True)
    if status == 403:
        raise SourceUnavailable(
            Problem.of("preflight.forbidden", uri=source[:200]), bot_lacks_access=True
        )
    if status == 401:
        raise SourceUnavailable(Problem.of("preflight.unauthenticated"), bot_lacks_access=True)
    raise SourceUnavailable(Problem.of("preflight.storage_error", status=status))


def _object_size(response: httpx.Response) -> int | None:
    try:
        return int(response.json()["size"])  # int64 travels as a JSON string
    except (ValueError, KeyError, TypeError):
        return None


@asynccontextmanager
async def _open_local(path: str, chunk_bytes: int) -> AsyncIterator[OpenedDataset]:
    try:
        # In a thread: opening a path on a network mount that is gone can hang. Closed below,
        # once the caller has read it.
        handle = await asyncio.to_thread(open, path, "rb")
    except FileNotFoundError as exc:
        raise SourceUnavailable(
            Problem.of("preflight.no_file", path=path[:200]), missing=True
        ) from exc
    except IsADirectoryError as exc:
        raise SourceUnavailable(Problem.of("preflight.not_a_file", path=path[:200])) from exc
    except PermissionError as exc:
        raise SourceUnavailable(Problem.of("preflight.file_forbidden", path=path[:200])) from exc
    try:
        size = os.fstat(handle.fileno()).st_size

        async def chunks() -> AsyncIterator[bytes]:
            while True:
                # Read in the loop's own thread: sequential reads are served from the kernel's
                # read-ahead, and a worker thread waits for the interpreter lock while the
                # checks hold it, which cost 15 % of the throughput. Local files are read by
                # the command line only, where the loop serves nobody else meanwhile.
                chunk = handle.read(chunk_bytes)
                if not chunk:
                    return
                yield chunk
                # Lets other tasks run between chunks all the same.
                await asyncio.sleep(0)

        yield OpenedDataset(size, chunks())
    finally:
        handle.close()
