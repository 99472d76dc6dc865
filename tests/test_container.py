"""The container file: slim base, non-root, dependencies cached apart from code, no secrets.

Building the image needs a Docker engine, which CI does not have; these checks read the file.
"""

from __future__ import annotations

import re
from pathlib import Path

DOCKERFILE = Path(__file__).resolve().parent.parent / "Dockerfile"


def _instructions() -> list[tuple[str, str]]:
    text = DOCKERFILE.read_text().replace("\\\n", " ")
    result = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, rest = line.partition(" ")
            result.append((keyword.upper(), rest.strip()))
    return result


def test_base_image_is_slim_python_311_or_newer() -> None:
    froms = [rest for kw, rest in _instructions() if kw == "FROM"]
    assert froms, "no FROM"
    assert re.match(r"python:3\.(1[1-9])-slim", froms[-1])


def test_runs_as_a_non_root_user() -> None:
    users = [rest for kw, rest in _instructions() if kw == "USER"]
    assert users, "no USER instruction: the container would run as root"
    assert users[-1] not in {"root", "0", "0:0"}


def test_dependencies_install_before_the_code_is_copied() -> None:
    steps = _instructions()
    runs = [i for i, (kw, arg) in enumerate(steps) if kw == "RUN" and "pip install" in arg]
    copies = [i for i, (kw, arg) in enumerate(steps) if kw == "COPY" and arg.startswith("bot")]
    first_pip, code_copy = runs[0], copies[0]
    assert first_pip < code_copy


def test_no_secret_is_baked_in() -> None:
    for keyword, rest in _instructions():
        if keyword in {"ENV", "ARG", "LABEL"}:
            assert not re.search(r"(TOKEN|SECRET|PASSWORD|CREDENTIALS)\w*\s*=", rest, re.I), rest
        assert not re.search(r"xox[abp]-|xapp-|-----BEGIN|ya29\.", rest), rest
    ignored = (DOCKERFILE.parent / ".dockerignore").read_text().split()
    assert ".env" in ignored


def test_has_a_healthcheck_and_runs_the_bot() -> None:
    steps = dict(_instructions())
    assert "/healthz" in steps["HEALTHCHECK"]
    assert "tuning-bot" in steps["ENTRYPOINT"]
