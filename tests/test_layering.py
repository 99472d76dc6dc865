"""Imports point one way: listeners → handlers → (vertex, watch, datasets) → tuning.

Every `import` in `bot/` is read, at any depth (inside functions and `TYPE_CHECKING` blocks
too: a type-only import still ties one layer to another). `KNOWN` would list crossings allowed
for a while; an entry that no longer occurs fails the suite as well, so the list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

BOT = Path(__file__).resolve().parent.parent / "bot"

# (importing package prefix, imported package prefixes it must not reach)
RULES: list[tuple[str, tuple[str, ...]]] = [
    ("bot.tuning", ("bot.",)),  # the pure domain: everything but itself, see below
    ("bot.i18n", ("bot.slack", "bot.vertex", "bot.watch", "bot.handlers", "bot.datasets")),
    (
        "bot.vertex",
        ("bot.config", "bot.slack", "bot.watch", "bot.handlers", "bot.app", "bot.datasets"),
    ),
    ("bot.watch", ("bot.slack", "bot.handlers", "bot.app", "bot.config", "bot.i18n")),
    ("bot.datasets", ("bot.slack", "bot.watch", "bot.handlers", "bot.app")),
    ("bot.handlers", ("bot.slack", "bot.app")),
    ("bot.slack", ("bot.vertex", "bot.app", "bot.config")),
    ("bot.slack.listeners", ("bot.watch", "bot.vertex")),
    ("bot.emulator", ("bot.",)),  # a stand-in for Google shares nothing with the bot
    # Drawing: domain curves in, PNG bytes out; no Slack, Google, store or handler.
    (
        "bot.charts",
        ("bot.slack", "bot.vertex", "bot.watch", "bot.handlers", "bot.app", "bot.datasets"),
    ),
]
ALLOWED_WITHIN = {"bot.tuning": "bot.tuning", "bot.emulator": "bot.emulator"}

# `python -m bot.watch` is kept as a shim of `tuning-bot watcher`: it only calls the root.
SHIMS = {("bot.watch.__main__", "bot.app.watcher")}

# Crossings allowed for now, each to be removed; none remain.
KNOWN: set[tuple[str, str]] = set()


def _module_name(path: Path) -> str:
    parts = path.relative_to(BOT.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports() -> set[tuple[str, str]]:
    """(module, imported module) for every absolute import of a `bot.` module in `bot/`."""
    found: set[tuple[str, str]] = set()
    for path in BOT.rglob("*.py"):
        module = _module_name(path)
        for node in ast.walk(ast.parse(path.read_text("utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            elif isinstance(node, ast.ImportFrom):
                pytest.fail(f"{module}: relative import; the layering check reads absolute ones")
            else:
                continue
            found.update((module, name) for name in names if name.startswith("bot."))
    return found


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def violations(found: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """The imports that break a rule."""
    broken = set()
    for module, imported in found:
        for package, forbidden in RULES:
            if not _within(module, package):
                continue
            own = ALLOWED_WITHIN.get(package)
            if own is not None and _within(imported, own):
                continue
            if any(imported.startswith(prefix) or imported == prefix for prefix in forbidden):
                broken.add((module, imported))
    return broken - SHIMS


def test_the_scan_sees_the_layers() -> None:
    found = imports()
    # The check would pass on nothing: make sure it reads what the layers really import.
    assert ("bot.app.server", "bot.slack.app") in found
    assert ("bot.watch.poller", "bot.tuning.states") in found
    assert ("bot.watch.__main__", "bot.app.watcher") in found


def test_imports_point_one_way() -> None:
    assert sorted(violations(imports()) - KNOWN) == []


def test_the_known_crossings_still_exist() -> None:
    # One that was removed must leave this list too.
    assert sorted(KNOWN - violations(imports())) == []


def test_the_rules_catch_a_crossing() -> None:
    assert violations({("bot.watch.poller", "bot.slack.notifier")}) == {
        ("bot.watch.poller", "bot.slack.notifier")
    }
    assert violations({("bot.vertex.client", "bot.config")}) == {
        ("bot.vertex.client", "bot.config")
    }
    assert violations({("bot.tuning.spec", "bot.vertex.wire")})
    assert violations({("bot.emulator.routes", "bot.tuning.job")})
    assert not violations({("bot.tuning.spec", "bot.tuning.catalogue")})
    assert not violations({("bot.slack.notifier", "bot.watch.notify")})  # the port it implements


def test_only_the_command_line_and_the_shim_import_the_root() -> None:
    users = {
        module
        for module, imported in imports()
        if _within(imported, "bot.app") and not _within(module, "bot.app")
    }
    assert users == {"bot.cli", "bot.watch.__main__"}
