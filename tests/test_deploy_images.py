"""The Compose file without Docker Hub (docs/deploy.md): deploy/compose.yaml takes its base images
from variables that default to the official images, deploy/base-images/images.env names exactly the
images build.sh makes, and the stand-in PostgreSQL's entrypoint sets up a cluster as the official
image does (user, password, database; the password asked over the network).

Building the images needs a Docker engine, which CI does not have; the entrypoint is a shell script
that runs here on this machine's PostgreSQL binaries.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import IN_CI
from tests.test_processes import _free_port

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy"
IMAGES = DEPLOY / "base-images"


def _images_env() -> dict[str, str]:
    lines = (IMAGES / "images.env").read_text(encoding="utf-8").splitlines()
    return dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))


def test_every_base_image_of_the_compose_file_is_a_variable_with_the_official_image_as_default():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    expected = {"postgres": "PORTAL_POSTGRES_IMAGE:-postgres:15", "redis": "PORTAL_REDIS_IMAGE:-redis:7",
                "proxy": "PORTAL_NGINX_IMAGE:-nginx:1.27-alpine"}
    for service, variable in expected.items():
        assert services[service]["image"] == "${" + variable + "}"
    for service in ("migrate", "app1", "app2", "worker"):
        assert services[service]["build"]["args"] == {"PYTHON_IMAGE": "${PORTAL_PYTHON_IMAGE:-python:3.11-slim}"}
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert "ARG PYTHON_IMAGE=python:3.11-slim\nFROM ${PYTHON_IMAGE}" in dockerfile


def test_images_env_names_the_images_build_sh_makes_and_the_variables_compose_reads():
    built = re.findall(r"^build (\S+) (\S+)$", (IMAGES / "build.sh").read_text(encoding="utf-8"), re.M)
    tags = {tag for tag, _ in built}
    for _, dockerfile in built:
        assert (IMAGES / dockerfile).is_file(), dockerfile
    env = _images_env()
    assert set(env) == {"PORTAL_PYTHON_IMAGE", "PORTAL_POSTGRES_IMAGE", "PORTAL_REDIS_IMAGE", "PORTAL_NGINX_IMAGE"}
    assert set(env.values()) <= tags
    assert all(value.startswith("portal-base/") for value in env.values()), "never the official names"
    compose = (DEPLOY / "compose.yaml").read_text(encoding="utf-8")
    for variable in env:
        assert "${" + variable + ":-" in compose


def _postgres_bin() -> Path:
    for candidate in sorted(Path("/usr/lib/postgresql").glob("*/bin"), reverse=True):
        if (candidate / "initdb").exists():
            return candidate
    message = "PostgreSQL's server programs (initdb, postgres) are not installed: apt-get install postgresql."
    if IN_CI:
        pytest.fail(message, pytrace=False)
    pytest.skip(message)


@pytest.fixture
def pgdata_parent():
    """A folder the user postgres can reach (pytest's own tmp folders are root's alone)."""
    folder = Path(tempfile.mkdtemp(prefix="portal-pg-entrypoint-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def _connect(port: int, password: str, dbname: str = "portal"):
    return psycopg.connect(host="127.0.0.1", port=port, user="portal", password=password, dbname=dbname,
                           connect_timeout=3)


def test_the_stand_in_postgres_entrypoint_makes_user_password_and_database_and_starts_again(pgdata_parent):
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        pytest.fail("setpriv (util-linux) is missing", pytrace=False)
    port = _free_port()
    socket_dir = pgdata_parent / "socket"
    socket_dir.mkdir()
    socket_dir.chmod(0o777)
    env = {**os.environ, "PATH": f"{_postgres_bin()}:{os.environ['PATH']}", "PGDATA": str(pgdata_parent / "data"),
           "POSTGRES_USER": "portal", "POSTGRES_PASSWORD": "geheim-2026", "POSTGRES_DB": "portal"}
    command = [str(IMAGES / "postgres-entrypoint.sh"), "postgres", "-p", str(port),
               "-c", f"unix_socket_directories={socket_dir}", "-c", "listen_addresses=127.0.0.1"]

    log = pgdata_parent / "server.log"

    def start() -> subprocess.Popen:
        with open(log, "a", encoding="utf-8") as output:
            server = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if server.poll() is not None:
                pytest.fail(f"the entrypoint stopped:\n{log.read_text()}")
            try:
                _connect(port, "geheim-2026").close()
                return server
            except psycopg.OperationalError:
                time.sleep(0.2)
        server.kill()
        pytest.fail("the server did not answer within 30 s")

    def stop(server: subprocess.Popen) -> None:
        server.terminate()
        server.wait(timeout=30)

    server = start()
    try:
        with _connect(port, "geheim-2026") as connection:
            assert connection.execute("SELECT current_database(), current_user").fetchone() == ("portal", "portal")
            connection.execute("CREATE TABLE kept (id int)")
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            _connect(port, "fout")
    finally:
        stop(server)
    # The second start finds the cluster and leaves it as it is.
    server = start()
    try:
        with _connect(port, "geheim-2026") as connection:
            assert connection.execute("SELECT count(*) FROM kept").fetchone() == (0,)
    finally:
        stop(server)
