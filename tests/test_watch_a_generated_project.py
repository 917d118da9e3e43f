"""``userstream watch`` and ``python -m <exchange> watch`` on a generated project (the default connector, acme).

A timed watch prints its final view; on a pseudo-terminal the view is redrawn as the simulated trading moves
the account, and Ctrl-C stops it cleanly; bad input is one line and exit 2.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import subprocess
import sys
import termios
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from baking import KIT
from cookiecutter.main import cookiecutter

CONSOLE_SCRIPT = Path(sys.executable).with_name("userstream")
USERSTREAM = [str(CONSOLE_SCRIPT)] if CONSOLE_SCRIPT.is_file() else [sys.executable, "-m", "userstream"]
BALANCE_ROW = re.compile(r"^\s*(USDT|BTC)\s+\d[\d.]*\s+\d[\d.]*\s*$", re.MULTILINE)
ORDER_ROW = re.compile(r"^\s*\d+\s+BTC-USDT\s+(open|partially_filled)\s+\d+\s+[\d.]+\s+[\d.]+\s*$", re.MULTILINE)
CREDENTIAL_VARIABLES = ("USERSTREAM_API_KEY", "USERSTREAM_API_SECRET", "USERSTREAM_API_PASSPHRASE")
CONTROL_SEQUENCE = re.compile(rb"\x1b\[[0-9;?]*[A-Za-z]")


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    output = tmp_path_factory.mktemp("watch")
    replay = {"replay_dir": str(output / ".replay")}
    generated = cookiecutter(
        str(KIT), no_input=True, output_dir=str(output), extra_context={"run_tests": "skip"}, default_config=replay
    )
    return Path(generated)


def environment() -> dict[str, str]:
    """This environment without the exchange's credentials (a developer's shell may hold real ones)."""
    return {name: value for name, value in os.environ.items() if name not in CREDENTIAL_VARIABLES}


def test_a_timed_fake_watch_prints_a_final_view_with_a_balance_and_an_open_order(project: Path) -> None:
    command = [*USERSTREAM, "watch", str(project), "--fake", "--duration", "5"]
    result = subprocess.run(command, capture_output=True, text=True, env=environment(), timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "\x1b" not in result.stdout, "not a terminal: plain text"
    assert result.stdout.count("open orders") == 1, "only the final view"
    assert "AcmeAPIUserStreamDataSource" in result.stdout
    assert BALANCE_ROW.search(result.stdout), result.stdout
    assert ORDER_ROW.search(result.stdout), result.stdout


def test_python_m_the_package_watches_its_own_project(project: Path) -> None:
    command = [sys.executable, "-m", project.name, "watch", "--fake", "--duration", "2"]
    result = subprocess.run(
        command, cwd=project, capture_output=True, text=True, env=environment(), timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    assert BALANCE_ROW.search(result.stdout), result.stdout
    assert ORDER_ROW.search(result.stdout), result.stdout


def test_without_fake_a_missing_credential_is_one_line_and_exit_2(project: Path) -> None:
    result = subprocess.run(
        [*USERSTREAM, "watch", str(project)], capture_output=True, text=True, env=environment(), check=False
    )
    assert result.returncode == 2
    assert result.stdout == ""
    [line] = result.stderr.splitlines()
    assert line.startswith("userstream watch: set USERSTREAM_API_KEY and USERSTREAM_API_SECRET in the environment")


def test_on_a_terminal_the_view_updates_and_ctrl_c_stops_it_cleanly(project: Path) -> None:
    terminal, child_end = os.openpty()
    command = [*USERSTREAM, "watch", str(project), "--fake", "--refresh", "10"]

    def take_the_terminal() -> None:  # so that ^C reaches the watch as SIGINT, from the terminal driver
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        command,
        stdin=child_end,
        stdout=child_end,
        stderr=child_end,
        env={**environment(), "TERM": "xterm", "COLUMNS": "100", "LINES": "50"},
        start_new_session=True,
        preexec_fn=take_the_terminal,
    )
    os.close(child_end)
    try:
        screen = read_until(terminal, lambda text: len(message_counts(text)) >= 2)
        assert len(message_counts(screen)) >= 2, f"the view never changed: {screen[-2000:]!r}"
        os.write(terminal, b"\x03")
        screen += read_until(terminal, lambda text: False)
        assert process.wait(timeout=10) == 128 + signal.SIGINT
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        os.close(terminal)
    assert b"Traceback" not in screen
    assert b"KeyboardInterrupt" not in screen
    last_view = CONTROL_SEQUENCE.sub(b"", screen.rsplit(b"\x1b[1A", 1)[-1]).decode()
    assert BALANCE_ROW.search(last_view), last_view
    assert ORDER_ROW.search(last_view), last_view


def message_counts(screen: bytes) -> set[bytes]:
    """The message counts of every rendering of the view on ``screen``: two of them, and the view was redrawn."""
    return set(re.findall(rb"messages\s+(\d+)", CONTROL_SEQUENCE.sub(b"", screen)))


def read_until(terminal: int, done: Callable[[bytes], bool], timeout: float = 20.0) -> bytes:
    """What the program writes to ``terminal`` until ``done(all of it)``, it closes the terminal, or ``timeout``."""
    seen = b""
    deadline = time.monotonic() + timeout
    while not done(seen) and time.monotonic() < deadline:
        if not select.select([terminal], [], [], 0.1)[0]:
            continue
        try:
            chunk = os.read(terminal, 65536)
        except OSError:  # EIO: every process holding the terminal's other end has exited
            break
        if not chunk:
            break
        seen += chunk
    return seen
