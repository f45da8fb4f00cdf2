"""The CLI side of the leaderboard: bad options are one-line errors with exit status 2, binding beyond
loopback warns, the secret reaches the server by environment only, and the server stops with its parent."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import ClassVar

import pytest

from segrepro import cli
from segrepro.cli import main
from segrepro.leaderboard.access import SECRET_ENV


def test_leaderboard_port_out_of_range(capsys):
    assert main(["leaderboard", "--port", "70000"]) == 2
    assert "--port must be between 1 and 65535" in capsys.readouterr().err


def test_negative_save_predictions(capsys, workdir):
    assert main(["run", "--dataset", "synthetic-2d", "--baseline", "unet-ce", "--save-predictions", "-1"]) == 2
    assert "--save-predictions must be 0 or more" in capsys.readouterr().err


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.parametrize(
    ("host", "message"),
    [
        ("300.1.2.3", "is neither an IP address nor a host name"),
        ("bad host", "is neither an IP address nor a host name"),
        ("-x", "is neither an IP address nor a host name"),
        ("192.0.2.1", "cannot serve on 192.0.2.1:"),  # TEST-NET-1: never an address of this machine
    ],
)
def test_an_invalid_host_is_a_one_line_error(capsys, host, message):
    assert main(["leaderboard", f"--host={host}", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


def test_a_port_in_use_is_a_one_line_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        assert main(["leaderboard", "--port", str(busy.getsockname()[1])]) == 2
    err = capsys.readouterr().err
    assert "choose another --port" in err and len(err.strip().splitlines()) == 1


class FakeServer:
    """Stands in for the Streamlit child: records how it was started."""

    started: ClassVar[list[tuple[list[str], dict[str, str]]]] = []

    def __init__(self, cmd, env, **kwargs):
        FakeServer.started.append((cmd, env))

    def wait(self, timeout=None):
        return 0

    def poll(self):
        return 0


@pytest.mark.parametrize(("host", "warns"), [("0.0.0.0", True), ("127.0.0.1", False), ("localhost", False)])
def test_binding_beyond_loopback_warns_and_the_secret_goes_by_environment(capsys, monkeypatch, host, warns):
    monkeypatch.setattr(cli.subprocess, "Popen", FakeServer)
    monkeypatch.delenv(SECRET_ENV, raising=False)
    FakeServer.started.clear()
    assert main(["leaderboard", "--host", host, "--port", str(free_port())]) == 0
    err = capsys.readouterr().err
    assert ("warning: --host 0.0.0.0 serves the leaderboard to every machine" in err) is warns
    assert ("give --secret" in err) is warns
    assert main(["leaderboard", "--host", host, "--port", str(free_port()), "--secret", "s3cret"]) == 0
    assert "give --secret" not in capsys.readouterr().err
    (_, open_env), (cmd, env) = FakeServer.started
    assert SECRET_ENV not in open_env and env[SECRET_ENV] == "s3cret" and "s3cret" not in " ".join(cmd)
    assert cmd[cmd.index("--client.showErrorDetails") + 1] == "none"


def children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def gone(pid: int) -> bool:
    """No such process any more (or only its zombie, waiting for whoever reaps orphans)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except (FileNotFoundError, ProcessLookupError):
        return True


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").exists(), reason="needs Linux /proc to find the Streamlit child")
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL])
def test_stopping_the_command_stops_the_streamlit_server(fixture_tree, tmp_path, sig):
    port = free_port()
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        parent = subprocess.Popen(
            [sys.executable, "-m", "segrepro.cli", "leaderboard", "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # so that the clean-up below can stop whatever is left
        )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert parent.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.5)
        (server,) = children(parent.pid)
        os.kill(parent.pid, sig)  # the parent only, as `kill PID` does
        parent.wait(timeout=30)
        deadline = time.monotonic() + 30
        while not gone(server) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert gone(server), f"the Streamlit server {server} outlived its parent"
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", port)) != 0, "the port still answers"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(parent.pid, signal.SIGKILL)
        parent.wait()
