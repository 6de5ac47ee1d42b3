"""The CI's skip check (``tests/skip_check.py``): a skip or an expected failure that the list
does not name fails the run; a listed one does not. Driven through a real pytest run."""

from __future__ import annotations

from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

TESTS_DIR = Path(__file__).resolve().parent

SUITE = """
import pytest

def test_passes():
    assert 1 + 1 == 2

def test_skips():
    pytest.skip("no chromium here")

@pytest.mark.xfail(reason="known bug")
def test_fails_as_expected():
    assert False
"""


def run(pytester: pytest.Pytester, listed: str) -> pytest.RunResult:
    pytester.makepyfile(test_suite=SUITE)
    pytester.makefile(".toml", expected=listed)
    pytester.makeini("[pytest]\nxfail_strict = true\n")
    return pytester.runpytest_subprocess("-p", "skip_check", "--expected-skips", "expected.toml", "-p", "no:cacheprovider",
                                         f"--rootdir={pytester.path}", "-o", f"pythonpath={TESTS_DIR}")


def test_an_unlisted_skip_and_an_unlisted_xfail_fail_the_run(pytester: pytest.Pytester) -> None:
    result = run(pytester, "")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines([
        "UNEXPECTED skip: test_suite.py::test_skips: no chromium here",
        "UNEXPECTED skip: test_suite.py::test_fails_as_expected: xfail: known bug",
        "2 test(s) skipped that expected.toml does not list: the run fails.*",
    ])


def test_listed_ones_pass(pytester: pytest.Pytester) -> None:
    listed = ('[[skip]]\ntest = "test_suite.py::test_skips"\nreason = "CI has no chromium"\n'
              '[[skip]]\ntest = "test_suite.py::test_fails_as_expected"\nreason = "the bug is filed"\n')
    result = run(pytester, listed)
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["no unexpected skip (2 skipped, all listed in expected.toml)"])


def test_this_suite_fails_on_a_stale_xfail(pytestconfig: pytest.Config) -> None:
    # An xfail that passes is a mark nobody removed: pyproject.toml makes it a failure.
    assert pytestconfig.getini("xfail_strict") is True
