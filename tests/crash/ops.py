"""The operation registry of the crash harness.

The harness (trial.py) runs client threads that draw operations from
`REGISTRY`, kills the server with SIGKILL while some are in flight, restarts
it, and checks every key against what the operations allow. The client
serializes operations per key (an operation locks every key it touches), so
at the crash each key has at most one operation in flight and its history
is otherwise a sequence of acknowledged (2xx) writes.

The model is one `Version | None` per key (None: absent). A `Version` is
what a GET must return byte for byte: its SHA-256, size and ETag.

Adding an operation (versioning, object lock, multi-node, ...): subclass
`Operation`, append an instance to `REGISTRY`, and implement

* `plan(rng, model, free)`: pick the keys it touches among `free` (keys no
  other thread holds) and everything random it needs (bodies, sizes), or
  return None when it cannot run now (e.g. no object to overwrite). The
  returned `Plan` names the keys; the harness locks them.
* `do(client, plan, mark)`: run the requests. Call `mark()` just before the
  request whose success is the acknowledgement (the "decisive" request,
  e.g. CompleteMultipartUpload): the killer aims at operations between
  `mark()` and their return. Return normally only on success (2xx with no
  per-key errors); raise otherwise.
* `after(plan)`: each touched key's Version (or None) once the operation
  took effect. On acknowledgement the model takes these values.
* `expected_after_crash(plan, before)`: for an operation in flight at the
  crash, the set of outcomes each touched key may show, given `before` (the
  model of those keys when it started). The default, {before, after} per
  key, fits any single-object write that is atomic.
* optionally `check(client, bucket, plan, acked, observed)`: further
  assertions after the restart (returns failure messages), e.g. that a
  completed multipart upload is gone from ListMultipartUploads exactly when
  its object is visible.

`kill_window_ms` is how long after `mark()` the killer waits at most (so it
lands inside the operation, not after it), `weight` how often a thread
picks it when it is not the trial's primary operation.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from typing import Callable

KIB = 1024
MIB = 1024 * KIB
INLINE_MAX = 100 * KIB  # sealed form stays under the 128 KiB inline limit
PART_SIZE = 5 * MIB  # S3's smallest multipart part (but the last)


@dataclass(frozen=True)
class Version:
    """One object content: what GET and HEAD must return."""

    sha256: str
    size: int
    etag: str  # without quotes
    md5: str  # of the whole body (a copy's ETag)

    @staticmethod
    def of(body: bytes, etag: str | None = None) -> "Version":
        md5 = hashlib.md5(body).hexdigest()
        return Version(hashlib.sha256(body).hexdigest(), len(body), etag or md5, md5)

    def short(self) -> str:
        return f"{self.size}B sha256={self.sha256[:12]} etag={self.etag}"


def describe(v: Version | None) -> str:
    return "absent" if v is None else v.short()


@dataclass
class Plan:
    keys: list[str]
    data: dict = field(default_factory=dict)


def body(rng: random.Random, size: int) -> bytes:
    return rng.randbytes(size)


def small_size(rng: random.Random) -> int:
    return rng.choice([0, 1, rng.randint(2, 4 * KIB), rng.randint(4 * KIB, INLINE_MAX)])


def large_size(rng: random.Random) -> int:
    # Mostly 1-3 MiB; sometimes past the 8 MiB background-flush threshold.
    return rng.randint(9 * MIB, 10 * MIB) if rng.random() < 0.1 else rng.randint(1 * MIB, 3 * MIB)


def present(model: dict, free: list[str]) -> list[str]:
    return [k for k in free if model.get(k) is not None]


class Operation:
    name = "?"
    weight = 1.0
    kill_window_ms = (0, 20)

    def plan(self, rng: random.Random, model: dict, free: list[str]) -> Plan | None:
        raise NotImplementedError

    def do(self, client, bucket: str, plan: Plan, mark: Callable[[], None]) -> None:
        raise NotImplementedError

    def after(self, plan: Plan) -> dict:
        raise NotImplementedError

    def expected_after_crash(self, plan: Plan, before: dict) -> dict:
        new = self.after(plan)
        return {k: {before.get(k), new[k]} for k in plan.keys}

    def check(self, client, bucket: str, plan: Plan, acked: bool, observed: dict) -> list[str]:
        return []


class PutObject(Operation):
    """A simple PUT of a fresh body to any key (absent or present)."""

    def __init__(self, name: str, sizer, window, weight=1.0, overwrite=False):
        self.name, self.sizer, self.kill_window_ms, self.weight = name, sizer, window, weight
        self.overwrite = overwrite

    def plan(self, rng, model, free):
        candidates = present(model, free) if self.overwrite else free
        if not candidates:
            return None
        data = body(rng, self.sizer(rng))
        return Plan([rng.choice(candidates)], {"body": data, "version": Version.of(data)})

    def do(self, client, bucket, plan, mark):
        mark()
        client.put_object(Bucket=bucket, Key=plan.keys[0], Body=plan.data["body"])

    def after(self, plan):
        return {plan.keys[0]: plan.data["version"]}


class Overwrite(PutObject):
    """A PUT over an existing object; sizes cross the inline/blob-file border both ways."""

    def __init__(self):
        super().__init__("overwrite", self.size, (0, 30), overwrite=True)

    @staticmethod
    def size(rng):
        return small_size(rng) if rng.random() < 0.5 else large_size(rng)


class MultipartComplete(Operation):
    """Create, two parts (5 MiB + up to 300 KiB), then the decisive Complete."""

    name = "multipart"
    weight = 0.5
    kill_window_ms = (0, 5)

    def plan(self, rng, model, free):
        if not free:
            return None
        parts = [body(rng, PART_SIZE), body(rng, rng.randint(1, 300 * KIB))]
        digests = b"".join(hashlib.md5(p).digest() for p in parts)
        whole = b"".join(parts)
        etag = f"{hashlib.md5(digests).hexdigest()}-{len(parts)}"
        return Plan([rng.choice(free)], {"parts": parts, "version": Version.of(whole, etag)})

    def do(self, client, bucket, plan, mark):
        key = plan.keys[0]
        upload = client.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]
        plan.data["upload_id"] = upload
        done = []
        for n, part in enumerate(plan.data["parts"], start=1):
            r = client.upload_part(Bucket=bucket, Key=key, UploadId=upload, PartNumber=n, Body=part)
            done.append({"PartNumber": n, "ETag": r["ETag"]})
        mark()
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload, MultipartUpload={"Parts": done}
        )

    def after(self, plan):
        return {plan.keys[0]: plan.data["version"]}

    def check(self, client, bucket, plan, acked, observed):
        """Complete is one transaction: the upload is gone exactly when its object is there."""
        upload = plan.data.get("upload_id")
        if upload is None:
            return []
        listed = set()
        for page in client.get_paginator("list_multipart_uploads").paginate(Bucket=bucket):
            listed.update(u["UploadId"] for u in page.get("Uploads", []))
        if acked:
            # Later operations may have changed the key since; the upload must be gone regardless.
            if upload in listed:
                return [f"multipart {plan.keys[0]}: completed (acknowledged) but upload {upload} still listed"]
            return []
        # In flight: the last operation on its key, so the key shows its result or the old object.
        completed = observed.get(plan.keys[0]) == plan.data["version"]
        if completed and upload in listed:
            return [f"multipart {plan.keys[0]}: object completed but upload {upload} still listed"]
        if not completed and upload not in listed:
            return [f"multipart {plan.keys[0]}: upload {upload} vanished but the object is not its result"]
        return []


class DeleteObject(Operation):
    name = "delete"
    kill_window_ms = (0, 4)

    def plan(self, rng, model, free):
        keys = present(model, free)
        if not keys:
            return None
        return Plan([rng.choice(keys)])

    def do(self, client, bucket, plan, mark):
        mark()
        client.delete_object(Bucket=bucket, Key=plan.keys[0])

    def after(self, plan):
        return {plan.keys[0]: None}


class DeleteObjects(Operation):
    """One DeleteObjects of 2-5 keys (some may be absent). Not atomic across
    keys (S3 promises nothing of the kind): in flight, each key is old or gone."""

    name = "delete_objects"
    kill_window_ms = (0, 8)

    def plan(self, rng, model, free):
        if len(free) < 2 or not present(model, free):
            return None
        keys = rng.sample(free, min(len(free), rng.randint(2, 5)))
        return Plan(keys)

    def do(self, client, bucket, plan, mark):
        mark()
        r = client.delete_objects(
            Bucket=bucket, Delete={"Objects": [{"Key": k} for k in plan.keys], "Quiet": False}
        )
        if r.get("Errors"):
            raise RuntimeError(f"DeleteObjects errors: {r['Errors']}")
        deleted = {d["Key"] for d in r.get("Deleted", [])}
        if deleted != set(plan.keys):
            raise RuntimeError(f"DeleteObjects deleted {sorted(deleted)}, asked {sorted(plan.keys)}")

    def after(self, plan):
        return {k: None for k in plan.keys}


class CopyObject(Operation):
    """CopyObject from a present key to another key; the source is locked too
    (it must not change while it is read) and must stay as it was."""

    name = "copy"
    kill_window_ms = (0, 30)

    def plan(self, rng, model, free):
        sources = present(model, free)
        if not sources:
            return None
        src = rng.choice(sources)
        dests = [k for k in free if k != src]
        if not dests:
            return None
        v = model[src]
        # A copy is a new single-part object: its ETag is the MD5 of its bytes.
        return Plan([rng.choice(dests), src], {"version": Version(v.sha256, v.size, v.md5, v.md5), "source": v})

    def do(self, client, bucket, plan, mark):
        dest, src = plan.keys
        mark()
        client.copy_object(Bucket=bucket, Key=dest, CopySource={"Bucket": bucket, "Key": src})

    def after(self, plan):
        dest, src = plan.keys
        return {dest: plan.data["version"], src: plan.data["source"]}


class DeleteBucketWithUploads(Operation):
    """A bucket of its own holding only multipart uploads (parts written),
    then the decisive DeleteBucket, which takes the uploads with it. Touches
    no key of the shared model; its check is about its own bucket."""

    name = "delete_bucket"
    weight = 0.3
    kill_window_ms = (0, 3)

    def plan(self, rng, model, free):
        sizes = [rng.randint(1, 300 * KIB) for _ in range(rng.randint(1, 3))]
        return Plan([], {"bucket": f"crash-db-{rng.getrandbits(40):010x}", "sizes": sizes})

    def do(self, client, bucket, plan, mark):
        own = plan.data["bucket"]
        client.create_bucket(Bucket=own)
        uploads = []
        for n, size in enumerate(plan.data["sizes"]):
            up = client.create_multipart_upload(Bucket=own, Key=f"k{n}")["UploadId"]
            client.upload_part(Bucket=own, Key=f"k{n}", UploadId=up, PartNumber=1, Body=b"u" * size)
            uploads.append(up)
        plan.data["uploads"] = uploads
        mark()
        client.delete_bucket(Bucket=own)

    def after(self, plan):
        return {}

    def check(self, client, bucket, plan, acked, observed):
        """One transaction: the bucket is gone with every upload, or all of it remains."""
        own, uploads = plan.data["bucket"], plan.data.get("uploads")
        try:
            client.head_bucket(Bucket=own)
            exists = True
        except client.exceptions.ClientError:
            exists = False
        if acked and exists:
            return [f"delete_bucket {own}: acknowledged but the bucket still exists"]
        if not exists or uploads is None:
            return []
        listed = {u["UploadId"] for u in client.list_multipart_uploads(Bucket=own).get("Uploads", [])}
        if listed != set(uploads):
            return [f"delete_bucket {own}: bucket kept but uploads {sorted(listed)} != {sorted(uploads)}"]
        return []


class _VersionStack(Operation):
    """A versioned bucket of its own: two acknowledged versions of one key,
    then the decisive write (a third version, or a delete marker). After
    the crash the stack holds every acknowledged version byte for byte, in
    order, plus the decisive one only if it took effect whole; the key's
    current state follows the stack's top. Touches no key of the shared model."""

    weight = 0.4
    marker = False

    def plan(self, rng, model, free):
        bodies = [body(rng, small_size(rng) if rng.random() < 0.6 else large_size(rng)) for _ in range(3)]
        return Plan([], {"bucket": f"crash-{self.name.replace('_', '-')}-{rng.getrandbits(40):010x}",
                         "bodies": bodies, "acked": []})

    def do(self, client, bucket, plan, mark):
        own, bodies = plan.data["bucket"], plan.data["bodies"]
        client.create_bucket(Bucket=own)
        client.put_bucket_versioning(Bucket=own, VersioningConfiguration={"Status": "Enabled"})
        plan.data["created"] = True
        for b in bodies[:2]:
            vid = client.put_object(Bucket=own, Key="k", Body=b)["VersionId"]
            plan.data["acked"].append((vid, hashlib.sha256(b).hexdigest()))
        mark()
        if self.marker:
            client.delete_object(Bucket=own, Key="k")
        else:
            client.put_object(Bucket=own, Key="k", Body=bodies[2])

    def after(self, plan):
        return {}

    def check(self, client, bucket, plan, acked, observed):
        own = plan.data["bucket"]
        if not plan.data.get("created"):
            return []
        name = f"{self.name} {own}"
        out = client.list_object_versions(Bucket=own)
        entries = [(v["VersionId"], False, v["IsLatest"]) for v in out.get("Versions", [])]
        entries += [(m["VersionId"], True, m["IsLatest"]) for m in out.get("DeleteMarkers", [])]
        known = plan.data["acked"]
        known_ids = [vid for vid, _ in known]
        extra = [e for e in entries if e[0] not in known_ids]
        problems = []
        missing = [vid for vid in known_ids if vid not in [e[0] for e in entries]]
        if missing:
            problems.append(f"{name}: acknowledged versions lost: {missing}")
        for vid, digest in known:
            if vid in missing:
                continue
            got = hashlib.sha256(client.get_object(Bucket=own, Key="k", VersionId=vid)["Body"].read()).hexdigest()
            if got != digest:
                problems.append(f"{name}: version {vid} reads {got[:12]}, was {digest[:12]}")
        decisive_done = len(known) == 2 and bool(extra)
        if acked and not decisive_done:
            problems.append(f"{name}: decisive write acknowledged but not in the stack {entries}")
        if len(extra) > 1 or (extra and len(known) < 2):
            problems.append(f"{name}: unexpected versions {extra}")
        latest = [e for e in entries if e[2]]
        if entries and len(latest) != 1:
            problems.append(f"{name}: {len(latest)} latest versions in {entries}")
        if extra:
            vid, is_marker, _ = extra[0]
            if is_marker != self.marker:
                problems.append(f"{name}: the decisive write left {'a marker' if is_marker else 'a version'}")
            if latest and latest[0][0] != vid:
                problems.append(f"{name}: the decisive write {vid} is not the latest")
            if not is_marker:
                got = hashlib.sha256(client.get_object(Bucket=own, Key="k")["Body"].read()).hexdigest()
                if got != hashlib.sha256(plan.data["bodies"][2]).hexdigest():
                    problems.append(f"{name}: the new version reads other bytes (partial?)")
            else:
                try:
                    client.get_object(Bucket=own, Key="k")
                    problems.append(f"{name}: GET found an object under the delete marker")
                except client.exceptions.ClientError:
                    pass
        elif known and not missing and latest and latest[0][0] != known_ids[-1]:
            problems.append(f"{name}: the latest version is not the last acknowledged one")
        # Empty it for good, so the bucket can go.
        for vid, _, _ in entries:
            client.delete_object(Bucket=own, Key="k", VersionId=vid)
        client.delete_bucket(Bucket=own)
        return problems


class VersionedOverwrite(_VersionStack):
    name = "versioned_overwrite"
    kill_window_ms = (0, 30)


class VersionedDeleteMarker(_VersionStack):
    name = "delete_marker"
    kill_window_ms = (0, 4)
    marker = True


REGISTRY: list[Operation] = [
    PutObject("put_inline", small_size, (0, 4)),
    PutObject("put_large", large_size, (0, 300), weight=0.5),
    Overwrite(),
    MultipartComplete(),
    DeleteObject(),
    DeleteObjects(),
    CopyObject(),
    DeleteBucketWithUploads(),
    VersionedOverwrite(),
    VersionedDeleteMarker(),
]


def by_name(name: str) -> Operation:
    for op in REGISTRY:
        if op.name == name:
            return op
    raise KeyError(name)
