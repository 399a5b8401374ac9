"""Health and metrics endpoints."""

import re

import requests

from s3util import show


def test_health_endpoints_are_unauthenticated_and_200(server, scheme):
    for path in ("/health/live", "/health/ready"):
        r = requests.get(server.endpoint(scheme) + path, verify=server.verify(scheme), timeout=10)
        assert r.status_code == 200, f"{path}: {show(r)}"


def _request_counters(server):
    r = requests.get(server.http_endpoint + "/metrics", timeout=10)
    assert r.status_code == 200, show(r)
    ctype = r.headers.get("content-type", "")
    assert ctype.startswith("text/plain") or ctype.startswith("application/openmetrics-text"), show(r)
    text = r.text
    families = set(re.findall(r"^# TYPE (\S+) counter\s*$", text, re.M))
    request_families = {f for f in families if "request" in f}
    assert request_families, f"no counter with 'request' in its name in /metrics:\n{text[:3000]}"
    total = 0.0
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)", line)
        if m and (m.group(1) in request_families or m.group(1).removesuffix("_total") in request_families):
            total += float(m.group(3))
    return total, text


def test_metrics_exposes_a_request_counter_that_increases(server):
    s3 = server.client("http")
    before, _ = _request_counters(server)
    for _ in range(5):
        s3.list_buckets()
    after, text = _request_counters(server)
    assert after >= before + 5, f"request counters went from {before} to {after}:\n{text[:3000]}"
