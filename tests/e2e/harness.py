"""Process and client harness for the Strongbox end-to-end tests.

Starts `strongbox serve` on free loopback ports with its own data directory
and fixed root credentials, waits for readiness, and builds boto3 clients and
`aws` CLI invocations against it.  Only stdlib, boto3/botocore, requests and
the awscli are used.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path

import boto3
import requests
from botocore.config import Config

REPO_ROOT = Path(__file__).resolve().parents[2]
REGION = "us-east-1"
READY_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0

# Every server started by this process, so a failing test can show the log
# of the servers it talked to and leftovers can be killed at exit.
ALL_SERVERS: list["StrongboxServer"] = []


def server_binary() -> Path:
    override = os.environ.get("STRONGBOX_BIN")
    return Path(override) if override else REPO_ROOT / "target" / "debug" / "strongbox"


def free_ports(n: int) -> list[int]:
    """Ports the kernel hands out for port 0, all held at once so they differ."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def random_credentials() -> tuple[str, str]:
    alphabet = string.ascii_uppercase + string.digits
    access = "SBTEST" + "".join(secrets.choice(alphabet) for _ in range(14))
    secret = secrets.token_urlsafe(30)[:40]
    return access, secret


class ServerFailed(AssertionError):
    pass


class StrongboxServer:
    """One `strongbox serve` process on its own data directory."""

    def __init__(
        self,
        data_dir: Path,
        log_dir: Path,
        *,
        name: str = "main",
        credentials: tuple[str, str] | None = None,
        http: bool = True,
        https: bool = True,
        extra_env: dict | None = None,
    ):
        self.name = name
        self.data_dir = Path(data_dir)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.log_dir = Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.access_key, self.secret_key = credentials or random_credentials()
        self.enable_http = http
        self.enable_https = https
        self.extra_env = dict(extra_env or {})
        self.proc: subprocess.Popen | None = None
        self.http_port: int | None = None
        self.https_port: int | None = None
        self.log_path: Path | None = None
        self.starts = 0
        self._clients: dict = {}
        ALL_SERVERS.append(self)

    # ---- addresses -------------------------------------------------------
    @property
    def cert_path(self) -> Path:
        return self.data_dir / "tls" / "cert.pem"

    @property
    def http_endpoint(self) -> str:
        assert self.http_port, "http listener disabled"
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def https_endpoint(self) -> str:
        assert self.https_port, "https listener disabled"
        return f"https://127.0.0.1:{self.https_port}"

    def endpoint(self, scheme: str) -> str:
        return self.http_endpoint if scheme == "http" else self.https_endpoint

    def verify(self, scheme: str):
        """The `verify=` argument for requests/boto3 for this scheme."""
        return str(self.cert_path) if scheme == "https" else True

    # ---- lifecycle -------------------------------------------------------
    def start(self, timeout: float = READY_TIMEOUT) -> "StrongboxServer":
        binary = server_binary()
        if not binary.exists():
            raise ServerFailed(
                f"server binary {binary} does not exist; build it with "
                "`cargo build --ignore-rust-version` (run-tests.sh does)"
            )
        assert self.proc is None or self.proc.poll() is not None, "already running"
        self.http_port, self.https_port = free_ports(2)
        if not self.enable_http:
            self.http_port = None
        if not self.enable_https:
            self.https_port = None
        self.starts += 1
        self.log_path = self.log_dir / f"strongbox-{self.name}-{self.starts}.log"
        # Hermetic: no STRONGBOX_* settings from the caller's environment and
        # no ./strongbox.toml picked up from the working directory.
        env = {k: v for k, v in os.environ.items() if not k.startswith("STRONGBOX_")}
        env["STRONGBOX_ROOT_ACCESS_KEY"] = self.access_key
        env["STRONGBOX_ROOT_SECRET_KEY"] = self.secret_key
        env.setdefault("RUST_BACKTRACE", "1")
        env.update(self.extra_env)
        cmd = [
            str(binary),
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--http-addr",
            f"127.0.0.1:{self.http_port}" if self.http_port else "off",
            "--https-addr",
            f"127.0.0.1:{self.https_port}" if self.https_port else "off",
        ]
        log = open(self.log_path, "wb")
        try:
            self.proc = subprocess.Popen(
                cmd, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                cwd=self.log_dir,
            )
        finally:
            log.close()
        self._clients.clear()
        self.wait_ready(timeout)
        return self

    def wait_ready(self, timeout: float = READY_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        pending = []
        if self.http_port:
            pending.append(("http", self.http_endpoint + "/health/ready"))
        if self.https_port:
            pending.append(("https", self.https_endpoint + "/health/ready"))
        last = "no attempt yet"
        while pending:
            if self.proc.poll() is not None:
                raise ServerFailed(
                    f"strongbox exited with {self.proc.returncode} before it was ready\n"
                    + self.log_tail()
                )
            if time.monotonic() > deadline:
                self.kill()
                raise ServerFailed(
                    f"strongbox not ready within {timeout}s (last: {last})\n" + self.log_tail()
                )
            scheme, url = pending[0]
            if scheme == "https" and not self.cert_path.exists():
                last = f"{self.cert_path} not written yet"
                time.sleep(0.1)
                continue
            try:
                r = requests.get(url, timeout=2, verify=self.verify(scheme))
                last = f"{url} -> {r.status_code}"
                if r.status_code == 200:
                    pending.pop(0)
                    continue
            except requests.RequestException as e:
                last = f"{url} -> {type(e).__name__}: {e}"
            time.sleep(0.1)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout: float = STOP_TIMEOUT) -> int:
        """SIGTERM and wait; returns the exit code (kills with SIGKILL on timeout)."""
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()
                raise ServerFailed(
                    f"strongbox did not exit within {timeout}s of SIGTERM\n" + self.log_tail()
                )
        return self.proc.returncode

    def kill(self) -> None:
        """SIGKILL (crash) and reap."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def log_text(self, offset: int = 0) -> str:
        if not self.log_path or not self.log_path.exists():
            return ""
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_size(self) -> int:
        try:
            return self.log_path.stat().st_size if self.log_path else 0
        except FileNotFoundError:
            return 0

    def log_tail(self, lines: int = 60) -> str:
        text = self.log_text()
        tail = "\n".join(text.splitlines()[-lines:])
        return f"---- {self.log_path} (last {lines} lines) ----\n{tail}"

    # ---- clients ---------------------------------------------------------
    def client(self, scheme: str = "http", *, access_key=None, secret_key=None, endpoint=None,
               **config_kwargs):
        """A boto3 S3 client with default settings except: no retries (so
        failures surface as-is) and bounded timeouts."""
        key = (scheme, access_key, secret_key, endpoint, repr(sorted(config_kwargs.items())))
        if key in self._clients:
            return self._clients[key]
        cfg = Config(
            retries={"total_max_attempts": 1, "mode": "standard"},
            connect_timeout=10,
            read_timeout=120,
            max_pool_connections=16,
            **config_kwargs,
        )
        client = boto3.session.Session().client(
            "s3",
            endpoint_url=endpoint or self.endpoint(scheme),
            aws_access_key_id=access_key or self.access_key,
            aws_secret_access_key=secret_key or self.secret_key,
            region_name=REGION,
            verify=self.verify(scheme) if scheme == "https" else None,
            config=cfg,
        )
        self._clients[key] = client
        return client

    def aws_env(self) -> dict:
        env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
        env.update(
            AWS_ACCESS_KEY_ID=self.access_key,
            AWS_SECRET_ACCESS_KEY=self.secret_key,
            AWS_DEFAULT_REGION=REGION,
            AWS_CONFIG_FILE=str(self.log_dir / "aws-config-none"),
            AWS_SHARED_CREDENTIALS_FILE=str(self.log_dir / "aws-credentials-none"),
            AWS_EC2_METADATA_DISABLED="true",
            AWS_PAGER="",
        )
        return env


def aws_executable() -> str:
    """The awscli next to the running interpreter (the venv's), else PATH's."""
    candidate = Path(sys.executable).parent / "aws"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("aws")
    if not found:
        raise AssertionError("aws CLI not found (pip install awscli)")
    return found


class AwsCli:
    """Runs `aws ...` against one server over one scheme."""

    def env(self) -> dict:
        env = self.server.aws_env()
        if self.credentials:
            env.update(AWS_ACCESS_KEY_ID=self.credentials["AccessKeyId"],
                       AWS_SECRET_ACCESS_KEY=self.credentials["SecretAccessKey"])
            if self.credentials.get("SessionToken"):
                env["AWS_SESSION_TOKEN"] = self.credentials["SessionToken"]
        return env

    def __init__(self, server: StrongboxServer, scheme: str, credentials: dict | None = None,
                 endpoint: str | None = None):
        """`credentials`: STS-shaped (AccessKeyId, SecretAccessKey, SessionToken)
        to run as instead of the account root; `endpoint`: instead of the
        server's 127.0.0.1 one (e.g. `localhost`, for S3 Control)."""
        self.server = server
        self.scheme = scheme
        self.credentials = credentials
        self.endpoint = endpoint or server.endpoint(scheme)

    def __call__(self, *args: str, check: bool = True, timeout: float = 180) -> subprocess.CompletedProcess:
        cmd = [aws_executable(), *args, "--endpoint-url", self.endpoint]
        if self.scheme == "https":
            cmd += ["--ca-bundle", str(self.server.cert_path)]
        result = subprocess.run(
            cmd, env=self.env(), capture_output=True, text=True, timeout=timeout,
            stdin=subprocess.DEVNULL,
        )
        if check and result.returncode != 0:
            raise AssertionError(
                f"`aws {' '.join(args)}` exited {result.returncode}\n"
                f"stdout:\n{result.stdout}\nstderr:\n{result.stderr}"
            )
        return result
