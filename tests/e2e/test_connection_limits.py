"""Connection hardening (issue 11): slowloris header timeout (HTTP and HTTPS),
header section size limit, connection slots, idle keep-alive timeout, and a
stalled request body, all driven with raw sockets against a server started
with short limits from its strongbox.toml."""

from __future__ import annotations

import socket
import ssl
import time

import pytest

from s3util import parse_error_xml, sign

HEADER_TIMEOUT = 2
IDLE_TIMEOUT = 3
BODY_TIMEOUT = 2
MAX_HEADER_BYTES = 4096
MAX_CONNECTIONS = 4

LIMITS_TOML = f"""
header_read_timeout = {HEADER_TIMEOUT}
idle_timeout = {IDLE_TIMEOUT}
body_timeout = {BODY_TIMEOUT}
max_header_bytes = {MAX_HEADER_BYTES}
max_connections = {MAX_CONNECTIONS}
"""


@pytest.fixture(scope="module")
def limited(tmp_path_factory):
    from harness import StrongboxServer

    base = tmp_path_factory.mktemp("strongbox-limits")
    srv = StrongboxServer(base / "data", base / "logs", name="limits")
    # The server runs in its log dir, so this is its ./strongbox.toml.
    (srv.log_dir / "strongbox.toml").write_text(LIMITS_TOML)
    srv.start()
    yield srv
    srv.kill()


def connect(srv, scheme: str) -> socket.socket:
    port = srv.http_port if scheme == "http" else srv.https_port
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    if scheme == "https":
        ctx = ssl.create_default_context(cafile=str(srv.cert_path))
        ctx.set_alpn_protocols(["http/1.1"])
        s = ctx.wrap_socket(s, server_hostname="localhost")
    return s


def closed_after(s: socket.socket, limit: float) -> float | None:
    """Seconds until the server closes `s` (EOF or reset), reading and
    discarding anything it sends; None if still open after `limit`."""
    start = time.monotonic()
    while time.monotonic() - start < limit:
        s.settimeout(max(0.05, limit - (time.monotonic() - start)))
        try:
            if not s.recv(65536):
                return time.monotonic() - start
        except socket.timeout:
            return None
        except (ConnectionResetError, ssl.SSLError, OSError):
            return time.monotonic() - start
    return None


def read_response(s: socket.socket, timeout: float = 10) -> bytes:
    """One HTTP/1.1 response with a Content-Length body."""
    s.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(65536)
        if not chunk:
            return data
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body


def health_request() -> bytes:
    return b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


@pytest.mark.parametrize("scheme", ["http", "https"])
def test_slowloris_headers_are_cut_at_the_header_timeout(limited, scheme):
    s = connect(limited, scheme)
    start = time.monotonic()
    s.sendall(b"GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    closed = None
    # One header line every 0.5 s: each byte would reset a naive idle timer.
    for i in range(20):
        time.sleep(0.5)
        try:
            s.sendall(f"X-Slow-{i}: a\r\n".encode())
        except OSError:
            closed = time.monotonic() - start
            break
        if closed_after(s, 0.01) is not None:
            closed = time.monotonic() - start
            break
    s.close()
    assert closed is not None, "a request whose headers never end must be closed"
    assert HEADER_TIMEOUT - 0.5 <= closed <= HEADER_TIMEOUT + 2.5, f"closed after {closed:.2f}s"
    print(f"{scheme}: slowloris connection closed after {closed:.2f}s (header_read_timeout={HEADER_TIMEOUT}s)")
    assert "request headers not received in time" in limited.log_text()


def test_a_connection_that_sends_nothing_gets_the_header_timeout(limited):
    s = connect(limited, "http")
    closed = closed_after(s, HEADER_TIMEOUT + 3)
    s.close()
    assert closed is not None and closed >= HEADER_TIMEOUT - 0.5, closed


def test_idle_keepalive_connection_is_closed_after_idle_timeout(limited):
    s = connect(limited, "http")
    s.sendall(health_request())
    resp = read_response(s)
    assert resp.startswith(b"HTTP/1.1 200"), resp
    closed = closed_after(s, IDLE_TIMEOUT + 3)
    s.close()
    assert closed is not None, "an idle kept-alive connection must be closed"
    assert IDLE_TIMEOUT - 0.5 <= closed <= IDLE_TIMEOUT + 2, f"closed after {closed:.2f}s"
    print(f"idle connection closed after {closed:.2f}s (idle_timeout={IDLE_TIMEOUT}s)")


def test_keepalive_connection_used_within_idle_timeout_stays_open(limited):
    s = connect(limited, "http")
    for _ in range(3):
        s.sendall(health_request())
        assert read_response(s).startswith(b"HTTP/1.1 200")
        time.sleep(IDLE_TIMEOUT - 1.5)
    s.close()


def test_oversize_header_section_is_an_s3_xml_error(limited):
    s = connect(limited, "http")
    big = "x" * (MAX_HEADER_BYTES + 100)
    s.sendall(f"GET /some-bucket/key HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Meta-Big: {big}\r\n\r\n".encode())
    resp = read_response(s)
    s.close()
    head, _, body = resp.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), resp[:300]
    err = parse_error_xml(body)
    assert err["Code"] == "RequestHeaderSectionTooLarge", err
    assert err["Message"] == "Your request header section exceeds the maximum allowed size."
    assert err["MaxSizeAllowed"] == str(MAX_HEADER_BYTES)
    assert err["RequestId"]
    # Within the limit the same request reaches S3 (403/404, not 400).
    s = connect(limited, "http")
    s.sendall(b"GET /some-bucket/key HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Amz-Meta-Small: 1\r\n\r\n")
    resp = read_response(s)
    s.close()
    assert not resp.startswith(b"HTTP/1.1 400"), resp[:300]


def test_header_section_beyond_the_hard_limit_gets_hyper_431(limited):
    s = connect(limited, "http")
    big = "y" * (300 * 1024)
    try:
        s.sendall(f"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: {big}\r\n\r\n".encode())
    except OSError:
        pass
    s.settimeout(5)
    try:
        resp = s.recv(65536)
    except OSError:
        resp = b""
    s.close()
    assert resp.startswith(b"HTTP/1.1 431") or resp == b"", resp[:200]


def test_connections_beyond_the_limit_wait_until_a_slot_frees(limited):
    holders = [connect(limited, "http") for _ in range(MAX_CONNECTIONS)]
    # Each holder is served once (so it surely holds a slot), then sits idle
    # in keep-alive, which it may for IDLE_TIMEOUT seconds.
    for h in holders:
        h.sendall(health_request())
        assert read_response(h).startswith(b"HTTP/1.1 200")
    extra = connect(limited, "http")
    extra.sendall(health_request())
    extra.settimeout(1.0)
    with pytest.raises(socket.timeout):
        extra.recv(1)
    holders[0].close()
    start = time.monotonic()
    resp = read_response(extra, timeout=5)
    waited = time.monotonic() - start
    assert resp.startswith(b"HTTP/1.1 200"), resp
    assert waited < 1.0, f"served {waited:.2f}s after a slot freed (the idle timeout, not the close, freed it)"
    print(f"waiting connection served {waited:.2f}s after a slot freed")
    for h in holders[1:] + [extra]:
        h.close()


def test_stalled_upload_body_times_out_with_request_timeout(limited):
    s3 = limited.client("http")
    s3.create_bucket(Bucket="stall")
    url = limited.http_endpoint + "/stall/partial"
    total = 1024 * 1024
    headers = sign(limited, "PUT", url, headers={"Content-Length": str(total)}, unsigned_payload=True)
    s = connect(limited, "http")
    head = "PUT /stall/partial HTTP/1.1\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    s.sendall(head.encode() + b"z" * 1000)
    start = time.monotonic()
    resp = read_response(s, timeout=BODY_TIMEOUT + 10)
    took = time.monotonic() - start
    head, _, body = resp.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 400"), resp[:400]
    err = parse_error_xml(body)
    assert err["Code"] == "RequestTimeout", err
    assert err["Message"].startswith(
        "Your socket connection to the server was not read from or written to within the timeout period."
    )
    assert BODY_TIMEOUT - 0.5 <= took <= BODY_TIMEOUT + 3, f"answered after {took:.2f}s"
    closed = closed_after(s, 8)
    s.close()
    assert closed is not None, "the connection of a timed-out upload must be closed"
    print(f"stalled body answered RequestTimeout after {took:.2f}s (body_timeout={BODY_TIMEOUT}s)")
    # Nothing was stored, and the server still serves.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket="stall").get("Contents", [])]
    assert keys == []
    s3.put_object(Bucket="stall", Key="after", Body=b"ok")
    assert s3.get_object(Bucket="stall", Key="after")["Body"].read() == b"ok"
