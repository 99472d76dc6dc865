"""Reading datasets: Cloud Storage JSON API requests, line splitting with bounded memory."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from bot.datasets import DatasetOpener
from bot.datasets.sources import LineSplitter, SourceUnavailable
from bot.tuning.problems import DomainError
from tests.datasets.conftest import StaticToken
from tests.fakes.gcs import FakeGcs


def _lines_of(sizes: list[int]) -> bytes:
    return b"".join(b"x" * size + b"\n" for size in sizes)


def test_splitter_gives_back_every_line_across_chunk_boundaries() -> None:
    data = _lines_of([0, 5, 100, 7, 3000, 1]) + b"last"
    splitter = LineSplitter(max_line_bytes=10_000)
    lines: list[bytes | None] = []
    for start in range(0, len(data), 13):
        lines += splitter.feed(data[start : start + 13])
    lines += splitter.finish()
    assert lines == data.split(b"\n")


def test_splitter_skips_an_overlong_line_without_holding_it() -> None:
    chunk = 1000
    data = _lines_of([10, 50_000, 20]) + _lines_of([3000])
    splitter = LineSplitter(max_line_bytes=2500)
    lines: list[bytes | None] = []
    for start in range(0, len(data), chunk):
        lines += splitter.feed(data[start : start + chunk])
    lines += splitter.finish()
    assert lines == [b"x" * 10, None, b"x" * 20, None]
    assert splitter.largest_held <= chunk + 2500


async def test_reader_memory_is_bounded_by_chunk_and_longest_line_whatever_the_file_size(
    fake_gcs: FakeGcs, http: httpx.AsyncClient
) -> None:
    # 24 MB of lines up to 40 KB long, read as the network delivers them (pieces of at most
    # 64 KiB): the buffer must stay below one piece + the longest line, not grow with the file.
    sizes = [(i * 7919) % 40_000 for i in range(1200)]
    data = _lines_of(sizes)
    fake_gcs.put("bucket", "big.jsonl", data, chunked=True)
    chunk_bytes = 64 * 1024
    opener = DatasetOpener(http, StaticToken(), fake_gcs.base_url)
    splitter = LineSplitter(max_line_bytes=48_000)
    count = 0
    largest_chunk = 0
    async with opener.open("gs://bucket/big.jsonl") as opened:
        async for chunk in opened.chunks:
            largest_chunk = max(largest_chunk, len(chunk))
            count += len(splitter.feed(chunk))
    count += len(splitter.finish())
    assert count == len(sizes)
    assert largest_chunk <= chunk_bytes
    assert splitter.largest_held <= chunk_bytes + max(sizes) + 1
    assert len(data) > 100 * splitter.largest_held


async def test_reader_sends_the_token_and_quotes_the_object_name(
    fake_gcs: FakeGcs, http: httpx.AsyncClient
) -> None:
    fake_gcs.put("team-data", "runs/2026 q4/train #1.jsonl", b"{}\n")
    opener = DatasetOpener(http, StaticToken("ya29.abc"), fake_gcs.base_url)
    async with opener.open("gs://team-data/runs/2026 q4/train #1.jsonl") as opened:
        assert opened.size == 3
        assert [c async for c in opened.chunks] == [b"{}\n"]
    paths = [(r.path, r.query.get("alt"), r.authorization) for r in fake_gcs.requests]
    # The whole object name is one path segment: its slashes are escaped too.
    expected = "/storage/v1/b/team-data/o/runs%2F2026%20q4%2Ftrain%20%231.jsonl"
    assert [(p, alt, auth) for p, alt, auth in paths] == [
        (expected, None, "Bearer ya29.abc"),
        (expected, "media", "Bearer ya29.abc"),
    ]


async def test_emulator_host_without_scheme_is_plain_http(
    fake_gcs: FakeGcs, http: httpx.AsyncClient
) -> None:
    fake_gcs.put("bucket", "a.jsonl", b"{}\n")
    host = fake_gcs.base_url.removeprefix("http://")
    async with DatasetOpener(http, None, host).open("gs://bucket/a.jsonl") as opened:
        assert opened.size == 3
    assert fake_gcs.requests[0].authorization is None


@pytest.mark.parametrize(
    "source", ["/etc/hostname", "train.jsonl", "file:///tmp/x.jsonl", "https://x/y"]
)
async def test_slack_opener_refuses_anything_but_cloud_storage(
    source: str, http: httpx.AsyncClient
) -> None:
    opener = DatasetOpener(http, None, None)
    with pytest.raises(DomainError) as raised:
        async with opener.open(source):
            pass
    assert raised.value.problem.key == "dataset.scheme"


async def test_local_file_is_read_in_chunks_of_the_given_size(tmp_path: Path) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(_lines_of([100] * 1000))
    opener = DatasetOpener(None, None, None, allow_local_files=True, chunk_bytes=4096)
    async with opener.open(str(path)) as opened:
        sizes = [len(c) async for c in opened.chunks]
    assert opened.size == 101_000
    assert sum(sizes) == 101_000
    assert max(sizes) == 4096


async def test_local_reading_stopped_early_closes_the_file_for_the_next_reader(
    tmp_path: Path,
) -> None:
    path = tmp_path / "train.jsonl"
    path.write_bytes(_lines_of([100] * 1000))
    opener = DatasetOpener(None, None, None, allow_local_files=True, chunk_bytes=4096)
    async with opener.open(str(path)) as opened:
        async for chunk in opened.chunks:
            assert len(chunk) == 4096
            break
    async with opener.open(str(path)) as opened:
        assert sum([len(c) async for c in opened.chunks]) == 101_000


def test_splitter_blocks_hold_the_same_lines_as_one_by_one() -> None:
    data = _lines_of([0, 5, 100, 7, 3000, 1, 40, 40, 40]) + b"last"
    for chunk_size in (1, 13, 500, 5000):
        for block_bytes in (1, 64, 10_000):
            splitter = LineSplitter(max_line_bytes=10_000)
            text = b""
            for start in range(0, len(data), chunk_size):
                blocks = splitter.feed_blocks(data[start : start + chunk_size], block_bytes)
                assert blocks is not None
                for block in blocks:
                    assert block.endswith(b"\n")
                    assert len(block) <= block_bytes or block.count(b"\n") == 1
                    text += block
            assert text + b"".join(splitter.finish()) == data


async def test_missing_local_file_is_unavailable_not_a_crash(tmp_path: object) -> None:
    opener = DatasetOpener(None, None, None, allow_local_files=True)
    with pytest.raises(SourceUnavailable) as raised:
        async with opener.open(f"{tmp_path}/none.jsonl"):
            pass
    assert raised.value.problem.key == "preflight.no_file"
