"""Fixtures for the Strongbox end-to-end suite.

* `server`: one `strongbox serve` for the whole session (HTTP + HTTPS on free
  loopback ports, temp data dir, fixed random root credentials); at the end it
  gets SIGTERM and must exit 0 within 15 s.
* `scheme`: "http" / "https"; `s3` is a default boto3 client for that scheme.
* `bucket`: a fresh bucket for the test (emptied and deleted afterwards).
* `aws`: runs the awscli against the server for the current scheme.
* `spawn_server`: starts extra servers on their own data dirs (crash tests).
"""

from __future__ import annotations

import signal

import pytest

import harness
from harness import AwsCli, StrongboxServer
from s3util import delete_bucket_quietly, unique_bucket

PER_TEST_TIMEOUT = 300  # seconds; a hung request must not hang the run


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    base = tmp_path_factory.mktemp("strongbox-main")
    srv = StrongboxServer(base / "data", base / "logs", name="main")
    srv.start()
    yield srv
    code = srv.stop()
    assert code == 0, f"strongbox exited with {code} after SIGTERM\n{srv.log_tail()}"


@pytest.fixture(params=["http", "https"])
def scheme(request):
    return request.param


@pytest.fixture
def s3(server, scheme):
    return server.client(scheme)


@pytest.fixture
def s3_http(server):
    return server.client("http")


@pytest.fixture
def bucket(server, s3, request):
    name = unique_bucket(request.node.originalname.removeprefix("test_")[:20])
    s3.create_bucket(Bucket=name)
    yield name
    delete_bucket_quietly(server.client("http"), name)


@pytest.fixture
def bucket_http(server, s3_http, request):
    """A fresh bucket for HTTP-only tests."""
    name = unique_bucket(request.node.originalname.removeprefix("test_")[:20])
    s3_http.create_bucket(Bucket=name)
    yield name
    delete_bucket_quietly(s3_http, name)


@pytest.fixture
def make_bucket(server, s3, request):
    """Factory for additional fresh buckets."""
    made = []

    def make(prefix: str | None = None) -> str:
        name = unique_bucket(prefix or request.node.originalname.removeprefix("test_")[:20])
        s3.create_bucket(Bucket=name)
        made.append(name)
        return name

    yield make
    for name in made:
        delete_bucket_quietly(server.client("http"), name)


@pytest.fixture
def aws(server, scheme):
    return AwsCli(server, scheme)


@pytest.fixture
def spawn_server(tmp_path_factory):
    """Start another server: spawn_server() -> StrongboxServer (already ready).
    Pass data_dir= to reuse a directory, and start=False to only construct."""
    started: list[StrongboxServer] = []

    def spawn(data_dir=None, *, start=True, **kwargs) -> StrongboxServer:
        base = tmp_path_factory.mktemp("strongbox-extra")
        srv = StrongboxServer(data_dir or base / "data", base / "logs",
                              name=f"extra{len(started) + 1}", **kwargs)
        started.append(srv)
        if start:
            srv.start()
        return srv

    yield spawn
    for srv in started:
        srv.kill()


# ---------------------------------------------------------------- hooks


@pytest.fixture(autouse=True)
def _per_test_timeout():
    def on_alarm(signum, frame):
        raise TimeoutError(f"test exceeded {PER_TEST_TIMEOUT}s")

    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(PER_TEST_TIMEOUT)
    yield
    signal.alarm(0)
    signal.signal(signal.SIGALRM, previous)


def pytest_runtest_setup(item):
    item._strongbox_log_offsets = {str(s.log_path): s.log_size() for s in harness.ALL_SERVERS}


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if not rep.failed:
        return
    offsets = getattr(item, "_strongbox_log_offsets", {})
    for srv in harness.ALL_SERVERS:
        if srv.log_path is None:
            continue
        text = srv.log_text(offsets.get(str(srv.log_path), 0))
        if not text.strip():
            continue
        if len(text) > 20000:
            text = "...(truncated)...\n" + text[-20000:]
        rep.sections.append((f"strongbox log: {srv.name} ({srv.log_path})", text))


def pytest_sessionfinish(session, exitstatus):
    for srv in harness.ALL_SERVERS:
        srv.kill()
