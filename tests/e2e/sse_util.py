"""Helpers for the server-side encryption tests: a boto3 KMS client, SSE-C
keys, and reading the KMS audit log through `strongbox audit kms`."""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import subprocess

import boto3
from botocore.config import Config

from harness import REGION, server_binary


def kms_client(server, scheme="https", access_key=None, secret_key=None):
    return boto3.session.Session().client(
        "kms",
        endpoint_url=server.endpoint(scheme),
        aws_access_key_id=access_key or server.access_key,
        aws_secret_access_key=secret_key or server.secret_key,
        region_name=REGION,
        verify=server.verify(scheme) if scheme == "https" else None,
        config=Config(retries={"total_max_attempts": 1, "mode": "standard"}),
    )


def new_key(server, description="sse test key") -> str:
    """A fresh customer managed key of the default account; returns its ARN."""
    return kms_client(server).create_key(Description=description)["KeyMetadata"]["Arn"]


def customer_key() -> bytes:
    return secrets.token_bytes(32)


def sse_c(key: bytes, prefix: str = "SSECustomer") -> dict:
    """boto3 arguments for an SSE-C key (boto3 adds the key MD5 itself)."""
    return {f"{prefix}Algorithm": "AES256", f"{prefix}Key": key}


def key_md5(key: bytes) -> str:
    return base64.b64encode(hashlib.md5(key).digest()).decode()


def audit_events(server, key: str | None = None) -> list[dict]:
    """KMS audit events of the server, as `strongbox audit kms` prints them."""
    cmd = [str(server_binary()), "audit", "kms", "--data-dir", str(server.data_dir)]
    if key:
        cmd += ["--key", key]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60, check=True).stdout
    return [json.loads(line) for line in out.splitlines() if line.strip()]


def events_for(events: list[dict], name: str, s3_arn: str | None = None) -> list[dict]:
    """Events named `name`, optionally only those whose encryption context is `s3_arn`."""
    found = [e for e in events if e.get("eventName") == name]
    if s3_arn is not None:
        found = [e for e in found
                 if (e.get("requestParameters") or {}).get("encryptionContext", {}).get("aws:s3:arn") == s3_arn]
    return found
