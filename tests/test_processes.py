"""Two real app processes (gunicorn with deploy/gunicorn.conf.py) on one database: the sign-in
throttle counts failures on both as one, in Redis (``REDIS_URL`` set) and in the database (without
it); and the processes write their logs as JSON lines.

Slower than the in-process tests (each process starts the whole app): a few seconds per case.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import func
from sqlmodel import select

from portal.models import LoginFailure
from tests.conftest import CSRF_RE, DEMO_PASSWORD

ROOT = Path(__file__).resolve().parent.parent
ADMIN = "beheer@zorggroep-maasland.example"
THROTTLED = "U hebt te vaak een onjuist wachtwoord ingevuld"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None  # hand the 302 back instead of following it


class Browser:
    """A cookie jar and urllib: enough to fetch the sign-in form and post it."""

    def __init__(self):
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()), _NoRedirect)

    def request(self, url: str, data: dict | None = None) -> tuple[int, str]:
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        try:
            with self.opener.open(url, data=body, timeout=20) as response:
                return response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode()

    def sign_in(self, base_url: str, email: str, password: str) -> tuple[int, str]:
        status, page = self.request(f"{base_url}/inloggen")
        assert status == 200, page
        token = CSRF_RE.search(page).group(1)
        form = {"csrf_token": token, "email": email, "password": password}
        return self.request(f"{base_url}/inloggen", form)


class AppProcess:
    """``gunicorn -c deploy/gunicorn.conf.py wsgi:app`` on a free port, with its stderr in a file."""

    def __init__(self, env: dict, log_path: Path):
        port = _free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.process = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "-c", "deploy/gunicorn.conf.py", "wsgi:app"],
            cwd=ROOT, env={**env, "PORTAL_BIND": f"127.0.0.1:{port}"},
            stdout=self._log, stderr=subprocess.STDOUT)

    def wait_until_live(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                pytest.fail(f"gunicorn stopped (exit {self.process.returncode}):\n"
                            f"{self.log_path.read_text()}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/gezond", timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.2)
        pytest.fail(f"gunicorn did not answer on {self.base_url} within {seconds} s:\n"
                    f"{self.log_path.read_text()}")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()

    def log_lines(self) -> list[dict]:
        return [json.loads(line) for line in self.log_path.read_text().splitlines() if line.strip()]


@pytest.fixture(params=["redis", "database"])
def two_processes(request, app, demo, database_url, tmp_path):
    """Two app processes on the test database; with ``redis``, also on this test's Redis keys."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("PORTAL_")}
    env.update({
        "PORTAL_ENV": "testing",
        "PORTAL_DATABASE_URL": database_url,
        "PORTAL_SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "PORTAL_INSTANCE_PATH": str(tmp_path / "instance"),
        "PORTAL_MAIL_ECHO": "false",
        "PORTAL_REALISATION_IN_BACKGROUND": "false",
        "PORTAL_LOG_FORMAT": "json",
        "PORTAL_WEB_WORKERS": "1",
        "PORTAL_WEB_THREADS": "2",
    })
    if request.param == "redis":
        url, prefix = request.getfixturevalue("redis_url")
        env.update({"PORTAL_REDIS_URL": url, "PORTAL_REDIS_KEY_PREFIX": prefix})
    processes = [AppProcess(env, tmp_path / f"app{number}.log") for number in (1, 2)]
    try:
        for process in processes:
            process.wait_until_live()
        yield request.param, processes
    finally:
        for process in processes:
            process.stop()


def _failures_in_table(app) -> int:
    with app.extensions["portal.engine"].connect() as connection:
        return connection.execute(select(func.count()).select_from(LoginFailure)).scalar_one()


def test_two_app_processes_share_one_throttle_count(app, two_processes):
    counts_in, (first, second) = two_processes
    limit = app.config["LOGIN_MAX_FAILURES"]
    # wrong passwords, alternately on each process: neither process alone reaches the limit
    for attempt in range(limit):
        process = (first, second)[attempt % 2]
        status, page = Browser().sign_in(process.base_url, ADMIN, "niet-het-goede-wachtwoord")
        assert status == 401, page
    # the count is shared: both processes now refuse even the right password
    for process in (second, first):
        status, page = Browser().sign_in(process.base_url, ADMIN, DEMO_PASSWORD)
        assert status == 429, page
        assert THROTTLED in page
    # and the count lived where the setting says
    assert _failures_in_table(app) == (0 if counts_in == "redis" else limit)

    # both processes wrote JSON lines, one per request with its id, path, status and duration
    for process in (first, second):
        lines = process.log_lines()
        refused = [line for line in lines
                   if line.get("logger") == "portal.request" and line.get("status") == 429]
        assert len(refused) == 1, lines
        assert refused[0]["path"] == "/inloggen" and refused[0]["method"] == "POST"
        assert len(refused[0]["request_id"]) == 32 and refused[0]["duration_ms"] >= 0
        assert any(line.get("logger") == "gunicorn.error" for line in lines)  # gunicorn's own, in JSON too
        # the app's request lines replace gunicorn's access log
        assert not any(line.get("logger") == "gunicorn.access" for line in lines)
