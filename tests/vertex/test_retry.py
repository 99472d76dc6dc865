"""Backoff arithmetic and Retry-After parsing."""

from __future__ import annotations

import email.utils

import pytest

from bot.vertex.retry import RetryPolicy, retry_after_seconds


def test_full_jitter_stays_under_the_exponential_ceiling_capped_at_maximum() -> None:
    top = RetryPolicy(random=lambda: 0.999999)
    bottom = RetryPolicy(random=lambda: 0.0)
    assert [round(top.backoff(n), 3) for n in range(1, 9)] == [1, 2, 4, 8, 16, 32, 60, 60]
    assert all(bottom.backoff(n) == 0 for n in range(1, 9))


def test_retry_after_wins_when_longer_but_is_capped() -> None:
    policy = RetryPolicy(random=lambda: 0.5)
    assert policy.backoff(1, retry_after=7) == 7
    assert policy.backoff(5, retry_after=0.1) == 8
    assert policy.backoff(1, retry_after=3600) == 60


def test_budget_in_attempts_and_time() -> None:
    now = [0.0]
    policy = RetryPolicy(max_attempts=3, deadline=10, clock=lambda: now[0])
    assert policy.may_retry(1, 0.0, 1.0)
    assert not policy.may_retry(3, 0.0, 1.0)
    now[0] = 9.5
    assert not policy.may_retry(1, 0.0, 1.0)


@pytest.mark.parametrize(
    ("header", "expected"),
    [("7", 7.0), ("0", 0.0), ("1.5", 1.5), ("-3", 0.0), ("", None), (None, None), ("soon", None)],
)
def test_retry_after_seconds(header: str | None, expected: float | None) -> None:
    assert retry_after_seconds(header) == expected


def test_retry_after_http_date() -> None:
    now = 1_795_176_000.0
    header = email.utils.formatdate(now + 30, usegmt=True)
    assert retry_after_seconds(header, now=now) == 30.0
    past = email.utils.formatdate(now - 30, usegmt=True)
    assert retry_after_seconds(past, now=now) == 0.0
