"""One crash trial: run client threads against a server, SIGKILL it while
operations are in flight, restart it, and check what it kept against the
model (see ops.py for the model and the operation registry), then stop it
and run `strongbox admin fsck` on the data directory.

Checks after the restart, for every key of the pool:
* the key shows one of the outcomes its history allows: the last
  acknowledged version (byte-exact, by SHA-256), or, when an operation on it
  was in flight, one of that operation's outcomes (never a partial body,
  never a mix); acknowledged deletes stay deleted;
* HEAD agrees with GET (size) and with the version's expected ETag;
* ListObjectsV2 lists exactly the keys whose GET succeeds, with the sizes
  and ETags HEAD gives;
* each operation's own `check` (e.g. multipart atomicity);
* fsck (no repair) after a clean stop finds no problem.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from botocore.exceptions import ClientError

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "e2e"))
from harness import StrongboxServer, server_binary  # noqa: E402

from ops import REGISTRY, Operation, Plan, Version, describe  # noqa: E402

BUCKET = "crash"
POOL = [f"k{i:02d}" for i in range(48)]
THREADS = 4
PRIMARY_SHARE = 0.7  # of the operations a thread starts, the trial's primary kind
WARM_UP = (0.3, 2.5)  # seconds of load before the killer takes aim
MARK_TIMEOUT = 20.0  # seconds to wait for a primary operation to reach its decisive request


@dataclass
class Running:
    """One operation instance and where it got to."""

    op: Operation
    plan: Plan
    before: dict
    marked: bool = False
    acked: bool = False
    error: str | None = None


@dataclass
class TrialResult:
    number: int
    primary: str
    failures: list[str] = field(default_factory=list)
    acked: dict = field(default_factory=dict)  # op name -> acknowledged operations
    inflight: dict = field(default_factory=dict)  # op name -> in flight at the kill
    acked_checked: int = 0  # keys whose expected state came from an acknowledged write
    keys_checked: int = 0
    seconds: float = 0.0


class Workload:
    """The client threads and the shared, lock-protected model."""

    def __init__(self, server: StrongboxServer, model: dict, primary: Operation, seed: int):
        self.server = server
        self.model = model
        self.primary = primary
        self.seed = seed
        self.lock = threading.Lock()
        self.busy: set[str] = set()
        self.killed = threading.Event()
        self.marked_primary = threading.Event()
        self.runs: list[Running] = []
        self.unexpected: list[str] = []

    def thread(self, index: int) -> None:
        try:
            self.loop(index)
        except Exception as e:  # noqa: BLE001 - a broken harness must fail the trial, not hide
            self.unexpected.append(f"client thread {index} crashed: {type(e).__name__}: {e}")

    def loop(self, index: int) -> None:
        rng = random.Random(self.seed * 1000 + index)
        # One client per thread (the harness caches clients by their settings).
        client = self.server.client("http", user_agent_extra=f"crash-thread-{index}")
        others = [op for op in REGISTRY if op is not self.primary]
        while not self.killed.is_set():
            if rng.random() < PRIMARY_SHARE:
                op = self.primary
            else:
                op = rng.choices(others, weights=[o.weight for o in others])[0]
            run = self.claim(op, rng)
            if run is None:
                time.sleep(0.002)
                continue
            if not self.execute(client, run):
                return

    def claim(self, op: Operation, rng: random.Random) -> Running | None:
        with self.lock:
            free = [k for k in POOL if k not in self.busy]
            plan = op.plan(rng, self.model, free)
            if plan is None:
                return None
            self.busy.update(plan.keys)
            run = Running(op, plan, {k: self.model.get(k) for k in plan.keys})
            self.runs.append(run)
            return run

    def execute(self, client, run: Running) -> bool:
        """Runs one operation; False when the thread must stop (crash or error)."""

        def mark():
            run.marked = True
            run.plan.data["marked"] = True
            if run.op is self.primary:
                self.marked_primary.set()

        try:
            run.op.do(client, BUCKET, run.plan, mark)
        except Exception as e:  # noqa: BLE001 - any failure leaves the outcome unknown
            run.error = f"{type(e).__name__}: {e}"
            if not self.killed.is_set():
                self.unexpected.append(f"{run.op.name} {run.plan.keys} failed before the crash: {run.error}")
            # The keys stay held: their outcome is unknown until the restart.
            return False
        with self.lock:
            run.acked = True
            self.model.update(run.op.after(run.plan))
            self.busy.difference_update(run.plan.keys)
        return True


def run_trial(number: int, server: StrongboxServer, model: dict, primary: Operation,
              seed: int, workdir: Path) -> TrialResult:
    started = time.monotonic()
    result = TrialResult(number, primary.name)
    rng = random.Random(seed)
    server.start()
    work = Workload(server, model, primary, seed)
    threads = [threading.Thread(target=work.thread, args=(i,), daemon=True) for i in range(THREADS)]
    for t in threads:
        t.start()
    # Mostly aim inside a primary operation; sometimes crash at a random moment.
    # A warm-up first, so the store has objects and writes get acknowledged.
    time.sleep(rng.uniform(*WARM_UP))
    if rng.random() < 0.8:
        work.marked_primary.clear()
        work.marked_primary.wait(MARK_TIMEOUT)
        lo, hi = primary.kill_window_ms
        time.sleep(rng.uniform(lo, hi) / 1000)
    else:
        time.sleep(rng.uniform(0.05, 2.0))
    work.killed.set()
    server.kill()
    for t in threads:
        t.join(60)
    if any(t.is_alive() for t in threads):
        result.failures.append("a client thread did not stop after the kill")
    result.failures += work.unexpected

    allowed = expected(work, model)
    for run in work.runs:
        bucket = result.acked if run.acked else result.inflight
        if run.acked or run.marked:
            bucket[run.op.name] = bucket.get(run.op.name, 0) + 1
    server.start()
    try:
        client = server.client("http")
        observed, failures = observe(client, allowed)
        result.failures += failures
        for run in work.runs:
            if run.acked or run.marked or run.plan.data.get("upload_id") or run.plan.data.get("created"):
                result.failures += run.op.check(client, BUCKET, run.plan, run.acked, observed)
        abort_uploads(client)
    finally:
        code = server.stop()
    if code != 0:
        result.failures.append(f"server exited {code} after SIGTERM")
    result.failures += fsck(server.data_dir, workdir / f"fsck-{number}.txt")
    # Keys an acknowledged operation of this trial changed: their state now rests on that acknowledgement.
    acked_keys = {k for run in work.runs if run.acked for k, v in run.op.after(run.plan).items() if v != run.before[k]}
    result.acked_checked = len(acked_keys)
    result.keys_checked = len(POOL)
    # The model becomes what was observed (it was one of the allowed outcomes).
    model.clear()
    model.update(observed)
    result.seconds = time.monotonic() - started
    return result


def expected(work: Workload, model: dict) -> dict:
    """Allowed outcomes per key: the model (acknowledged state), widened by
    the operation in flight on it (past its decisive request), if any."""
    allowed = {k: {model.get(k)} for k in POOL}
    for run in work.runs:
        if run.acked or not run.marked:
            # Not marked: the decisive request was never sent, so nothing can have changed.
            continue
        for key, outcomes in run.op.expected_after_crash(run.plan, run.before).items():
            allowed[key] = set(outcomes)
    return allowed


def observe(client, allowed: dict) -> tuple[dict, list[str]]:
    failures = []
    got: dict[str, Version | None] = {}
    heads = {}
    for key in POOL:
        try:
            r = client.get_object(Bucket=BUCKET, Key=key)
            data = r["Body"].read()
            got[key] = Version.of(data, r["ETag"].strip('"'))
            h = client.head_object(Bucket=BUCKET, Key=key)
            heads[key] = (h["ContentLength"], h["ETag"].strip('"'))
        except ClientError as e:
            if e.response["Error"]["Code"] not in ("NoSuchKey", "404"):
                failures.append(f"GET {key}: {e}")
            got[key] = None
    for key in POOL:
        v = got[key]
        match = next((a for a in allowed[key] if same(a, v)), "none")
        if match == "none":
            options = ", ".join(describe(a) for a in allowed[key])
            failures.append(f"{key}: got {describe(v)}, allowed: {options}")
        else:
            got[key] = match
        if v is not None and heads[key] != (v.size, v.etag):
            failures.append(f"{key}: HEAD says {heads[key]}, GET gave {v.size} bytes, ETag {v.etag}")
    listed = {}
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET, PaginationConfig={"PageSize": 5}):
        for o in page.get("Contents", []):
            listed[o["Key"]] = (o["Size"], o["ETag"].strip('"'))
    readable = {k for k, v in got.items() if v is not None}
    if set(listed) != readable:
        failures.append(f"listing {sorted(listed)} != keys GET finds {sorted(readable)}")
    for key in readable & set(listed):
        if listed[key] != heads[key]:
            failures.append(f"{key}: listing says {listed[key]}, HEAD says {heads[key]}")
    return got, failures


def same(a: Version | None, b: Version | None) -> bool:
    if a is None or b is None:
        return a is b
    return (a.sha256, a.size, a.etag) == (b.sha256, b.size, b.etag)


def abort_uploads(client) -> None:
    """Uploads a crash left unfinished would otherwise pile up 5 MiB parts."""
    for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=BUCKET):
        for u in page.get("Uploads", []):
            client.abort_multipart_upload(Bucket=BUCKET, Key=u["Key"], UploadId=u["UploadId"])


def fsck(data_dir: Path, out: Path) -> list[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGBOX_")}
    cmd = [str(server_binary()), "admin", "--data-dir", str(data_dir), "fsck"]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=300, env=env, stdin=subprocess.DEVNULL)
    out.write_text(r.stdout + r.stderr)
    if r.returncode != 0 or "fsck: clean" not in r.stdout:
        return [f"fsck exited {r.returncode}:\n{r.stdout}{r.stderr}"]
    return []


def fresh_server(workdir: Path, name: str) -> StrongboxServer:
    """A new data directory with the trial bucket."""
    server = StrongboxServer(workdir / name / "data", workdir / name / "logs", name=name, https=False)
    server.start()
    server.client("http").create_bucket(Bucket=BUCKET)
    assert server.stop() == 0, server.log_tail()
    return server
