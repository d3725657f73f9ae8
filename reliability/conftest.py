"""The reliability suite: the real stack (gunicorn, PostgreSQL, Redis, qcluster) under stress.

Run with `make reliability` (CI runs it too). Each test prints its figures as a JSON line
starting with RELIABILITY so the output can be collected into the README.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PG_ADMIN_URL = os.environ.get("RELIABILITY_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def report(name: str, **figures):
    print("RELIABILITY " + json.dumps({"name": name, **figures}, ensure_ascii=False), flush=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _fresh_database(name: str) -> str:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f"PostgreSQL is not reachable at {PG_ADMIN_URL}: {exc}")
    return PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name


class Stack:
    """A migrated, seeded database and the processes serving it."""

    def __init__(self, tmp: Path, *, fresh: bool = True):
        name = os.environ.get("RELIABILITY_DB", "portal_reliability")
        self.database_url = _fresh_database(name) if fresh else PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
        self.env = {
            **os.environ,
            # Production settings (DEBUG off: failures show the Chinese error page), over plain
            # HTTP on loopback.
            "DJANGO_SETTINGS_MODULE": "portal.settings.production",
            "SECRET_KEY": "reliability-suite-only-key-0123456789-abcdefghijklmnopqrstuvwxyz",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "false",
            "SECURE_COOKIES": "false",
            "SECURE_HSTS_SECONDS": "0",
            "DATABASE_URL": self.database_url,
            "PORTAL_VAR_DIR": str(tmp),
            "PYTHONUNBUFFERED": "1",
        }
        self.env.pop("REDIS_URL", None)
        self.procs: list[subprocess.Popen] = []
        self.url = ""

    def manage(self, *args, timeout=600):
        return subprocess.run(  # noqa: S603
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True,
            capture_output=True, text=True, timeout=timeout,
        )

    def call(self, function: str, **kwargs):
        """Run ``reliability.stackdata.<function>(**kwargs)`` in the stack's environment."""
        code = (
            "import json, reliability.stackdata as d; "
            f"d.emit(d.{function}(**json.loads({json.dumps(json.dumps(kwargs))})))"
        )
        done = self.manage("shell", "-c", code)
        for line in done.stdout.splitlines():
            if line.startswith("STACKDATA "):
                return json.loads(line[len("STACKDATA "):])
        raise RuntimeError(f"{function} printed no result: {done.stdout[-2000:]} {done.stderr[-2000:]}")

    def prepare(self):
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")
        self.manage("seed_demo")

    def start_gunicorn(self, workers: int = 4, threads: int = 4):
        port = _free_port()
        log = open(Path(self.env["PORTAL_VAR_DIR"]) / "gunicorn.log", "w")  # noqa: SIM115
        proc = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "portal.wsgi", "-b", f"127.0.0.1:{port}",
             "-w", str(workers), "--threads", str(threads), "--timeout", "60"],
            cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT,
        )
        self.procs.append(proc)
        self.url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    return self.url
            except OSError:
                time.sleep(0.3)
        raise RuntimeError("gunicorn did not start")

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


@pytest.fixture(scope="session")
def stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("reliability"))
    s.prepare()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def server(stack):
    return stack.start_gunicorn()


def login_session(base_url: str, username: str, password: str = "demo1234"):  # noqa: S107
    import requests

    session = requests.Session()
    page = session.get(base_url + "/accounts/login/", timeout=30)
    token = session.cookies.get("csrftoken")
    assert page.status_code == 200 and token
    done = session.post(
        base_url + "/accounts/login/",
        data={"username": username, "password": password, "csrfmiddlewaretoken": token, "next": "/"},
        headers={"Referer": base_url + "/accounts/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert done.status_code == 302, done.status_code
    return session
