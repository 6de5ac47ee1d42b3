"""``pytest --expected-skips FILE``: a run fails when a test skips that FILE does not list.

A skipped test looks like a passed run from far away; in CI (``.ci/run``) a skip must be one
we expect, with its reason written down. FILE is TOML:

    [[skip]]
    test = "tests/test_x.py::test_y"     # a test id, a module, or an fnmatch pattern
    reason = "why it may skip here"

Module-level skips (``pytest.skip(allow_module_level=True)``) count too: they are matched on
the module's path. An expected failure (``xfail``) counts as a skip: its assertions did not hold,
and the run would look green (``xfail_strict`` in ``pyproject.toml`` makes an unexpected pass fail).
Without the option nothing changes.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from fnmatch import fnmatchcase
from pathlib import Path

import pytest

@dataclass(frozen=True)
class ExpectedSkip:
    pattern: str
    reason: str

    def matches(self, nodeid: str) -> bool:
        if nodeid.rfind("@") > nodeid.rfind("]"):  # xdist's loadgroup adds "@GROUP" to grouped tests' ids
            nodeid = nodeid[: nodeid.rfind("@")]
        return nodeid == self.pattern or nodeid.startswith(self.pattern + "::") or fnmatchcase(nodeid, self.pattern)


@dataclass(frozen=True)
class SeenSkip:
    nodeid: str
    reason: str


def load_expected(path: Path) -> list[ExpectedSkip]:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise pytest.UsageError(f"--expected-skips {path}: {exc}") from None
    entries = []
    for n, entry in enumerate(data.get("skip", []), 1):
        if not isinstance(entry, dict) or not entry.get("test") or not entry.get("reason"):
            raise pytest.UsageError(f"--expected-skips {path}: [[skip]] number {n} needs both 'test' and 'reason'")
        entries.append(ExpectedSkip(str(entry["test"]), str(entry["reason"])))
    return entries


class SkipCheck:
    """Registered as a plugin in the process that sees every report (the xdist controller)."""

    def __init__(self, path: Path, expected: list[ExpectedSkip]) -> None:
        self.path = path
        self.expected = expected
        self.seen: dict[str, SeenSkip] = {}

    def record(self, report: pytest.CollectReport | pytest.TestReport) -> None:
        if report.skipped and hasattr(report, "wasxfail"):
            self.seen.setdefault(report.nodeid, SeenSkip(report.nodeid, f"xfail: {report.wasxfail or 'no reason given'}"))
        elif report.skipped:
            longrepr = report.longrepr
            reason = longrepr[2] if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
            self.seen.setdefault(report.nodeid, SeenSkip(report.nodeid, reason.removeprefix("Skipped: ")))

    def unexpected(self) -> list[SeenSkip]:
        return [s for s in self.seen.values() if not any(e.matches(s.nodeid) for e in self.expected)]

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self.record(report)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.record(report)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.unexpected() and session.exitstatus == pytest.ExitCode.OK:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: pytest.TerminalReporter) -> None:
        unexpected = self.unexpected()
        write = terminalreporter.write_line
        terminalreporter.section("skips", sep="-", bold=True)
        for skip in self.seen.values():
            write(f"{'UNEXPECTED' if skip in unexpected else 'expected'} skip: {skip.nodeid}: {skip.reason}")
        if unexpected:
            write(f"{len(unexpected)} test(s) skipped that {self.path} does not list: the run fails. "
                  "Install what the reason names, or list the test there with the reason it may skip.", red=True)
        else:
            write(f"no unexpected skip ({len(self.seen)} skipped, all listed in {self.path})")


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--expected-skips",
        metavar="FILE",
        type=Path,
        help="TOML list of the tests allowed to skip, with their reasons; any other skip fails the run (CI)",
    )


def pytest_configure(config: pytest.Config) -> None:
    path = config.getoption("--expected-skips")
    if path is not None and not hasattr(config, "workerinput"):  # the xdist controller, or a run without xdist
        config.pluginmanager.register(SkipCheck(path, load_expected(path)), "expected-skips-check")
