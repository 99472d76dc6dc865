"""What the app's manifest asks Slack for: bot scopes and Socket Mode, read when doctor runs.

Read at run time rather than copied into code, so a scope added to `manifest.yaml` is checked
without touching the doctor.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

# A source checkout keeps the manifest beside the package; a container copies it to its workdir.
_CHECKOUT_MANIFEST = Path(__file__).resolve().parent.parent.parent / "manifest.yaml"


@dataclass(frozen=True)
class AppManifest:
    """The parts of `manifest.yaml` the doctor compares the installation with."""

    path: Path
    bot_scopes: tuple[str, ...]
    socket_mode: bool


class ManifestUnreadable(Exception):
    """No manifest found, or one that is not YAML of the expected shape."""


def find_manifest(explicit: Path | None, cwd: Path | None = None) -> Path | None:
    """`explicit` if given, else `manifest.yaml` in the working directory, else the checkout's."""
    if explicit is not None:
        return explicit
    for candidate in ((cwd or Path.cwd()) / "manifest.yaml", _CHECKOUT_MANIFEST):
        if candidate.is_file():
            return candidate
    return None


def read_manifest(path: Path) -> AppManifest:
    """Parse `oauth_config.scopes.bot` and `settings.socket_mode_enabled` from `path`."""
    try:
        data = yaml.safe_load(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ManifestUnreadable(type(exc).__name__) from exc
    if not isinstance(data, dict):
        raise ManifestUnreadable("not a mapping")
    scopes = ((data.get("oauth_config") or {}).get("scopes") or {}).get("bot") or []
    if not isinstance(scopes, list) or not all(isinstance(s, str) for s in scopes):
        raise ManifestUnreadable("oauth_config.scopes.bot is not a list of scopes")
    socket_mode = bool((data.get("settings") or {}).get("socket_mode_enabled", False))
    return AppManifest(path, tuple(scopes), socket_mode)


def missing_scopes(wanted: Sequence[str], granted: Sequence[str]) -> list[str]:
    """The wanted scopes that are not granted, in the manifest's order."""
    have = set(granted)
    return [scope for scope in wanted if scope not in have]
