"""Start-up of the command line: the package loads its parts on demand, and Ctrl-C while
the libraries load ends in one line and exit 130, not a traceback (issue 12)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.startup import EXIT_INTERRUPTED, INTERRUPTED_LOADING, interrupt_exits_quietly
from tests.servers import default_sigint

REPO = Path(__file__).resolve().parents[1]


def child(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    """``python -c code args`` with this checkout's code and none of the caller's ASSISTANT_* settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    return subprocess.run(
        [sys.executable, "-c", code, *args], capture_output=True, text=True, timeout=120, env=env, cwd=REPO,
        preexec_fn=default_sigint,  # Ctrl-C as a terminal sends it
    )


def test_the_guard_turns_ctrl_c_into_one_line_and_exit_130(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info, interrupt_exits_quietly():
        raise KeyboardInterrupt
    assert info.value.code == EXIT_INTERRUPTED == 130
    assert capsys.readouterr().err == INTERRUPTED_LOADING + "\n"
    with interrupt_exits_quietly():  # anything else goes through untouched
        pass
    with pytest.raises(ValueError), interrupt_exits_quietly():
        raise ValueError("not an interrupt")


def test_the_guard_loads_before_the_slow_libraries() -> None:
    """`assistant.startup` (and the package) must not pull in what it guards."""
    loaded = child("import sys, assistant.startup; print(sorted({'numpy', 'chromadb', 'click', 'gradio'} & set(sys.modules)))")
    assert loaded.returncode == 0, loaded.stderr
    assert loaded.stdout.strip() == "[]"


def test_the_public_names_still_come_from_the_package() -> None:
    import assistant
    from assistant import Answer, Assistant, Config, embeddings
    from assistant.api import Assistant as ApiAssistant

    assert Assistant is ApiAssistant and assistant.Assistant is ApiAssistant
    assert Config.__module__ == "assistant.config" and Answer.__module__ == "assistant.models"
    assert embeddings.__name__ == "assistant.embeddings"
    assert set(assistant.__all__) <= set(dir(assistant))
    with pytest.raises(AttributeError, match="no attribute 'Nothing'"):
        assistant.Nothing  # noqa: B018


# A real SIGINT, sent while the command line imports numpy (the first slow library it loads).
CTRL_C_WHILE_LOADING = """
import os, signal, sys
class CtrlC:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            os.kill(os.getpid(), signal.SIGINT)
        return None
sys.meta_path.insert(0, CtrlC())
from assistant.cli import main
main()
"""


def test_ctrl_c_while_the_command_line_loads_is_one_line_and_exit_130() -> None:
    result = child(CTRL_C_WHILE_LOADING, "status")
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == EXIT_INTERRUPTED and result.stderr == INTERRUPTED_LOADING + "\n"
