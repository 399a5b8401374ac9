#!/usr/bin/env python3
"""Runs crash trials (trial.py) and prints a summary line:

    crash: 100 trials, 0 failures, 412 acknowledged writes checked

    tests/crash/run.py --trials N --seed S [--time-limit SECONDS] [--workdir DIR] [--keep]

Trials cycle through the operation registry (ops.REGISTRY), so each
operation is the primary one of about N / len(REGISTRY) trials. They share
one data directory, so every trial also checks what earlier trials left
(durability across repeated crashes); after a failing trial the data
directory is kept under the work directory and the next trial starts on a
fresh one. Exit status: 0 if every trial passed, 1 otherwise. The server
binary is $STRONGBOX_BIN (default target/debug/strongbox).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ops import REGISTRY  # noqa: E402
from trial import fresh_server, run_trial  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--trials", type=int, default=100)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=3600, help="stop starting trials after this many seconds")
    ap.add_argument("--workdir", type=Path, help="where data directories and logs go (default: a temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the work directory even if every trial passed")
    args = ap.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="strongbox-crash-"))
    workdir.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    generation = 0
    server = fresh_server(workdir, f"gen{generation}")
    model: dict = {}
    results = []
    for n in range(args.trials):
        if time.monotonic() - started > args.time_limit:
            print(f"crash: time limit of {args.time_limit:.0f}s reached after {n} of {args.trials} trials")
            break
        primary = REGISTRY[n % len(REGISTRY)]
        try:
            r = run_trial(n, server, model, primary, args.seed * 100_003 + n, workdir)
        except Exception as e:  # noqa: BLE001 - a harness or server failure fails the trial
            from trial import TrialResult

            r = TrialResult(n, primary.name, failures=[f"trial aborted: {type(e).__name__}: {e}"])
            server.kill()
        results.append(r)
        status = "ok" if not r.failures else "FAILED"
        print(
            f"trial {n:4d} {primary.name:15s} {status:6s} {r.seconds:5.1f}s "
            f"acked={sum(r.acked.values()):3d} inflight={sum(r.inflight.values()):2d}",
            flush=True,
        )
        if r.failures:
            for f in r.failures:
                print(f"    {f}")
            print(f"    data directory kept: {server.data_dir}; log: {server.log_path}")
            generation += 1
            server = fresh_server(workdir, f"gen{generation}")
            model = {}
    failures = [r for r in results if r.failures]
    print_counts(results)
    acked_checked = sum(r.acked_checked for r in results)
    acked_total = sum(sum(r.acked.values()) for r in results)
    print(f"crash: {len(results)} trials, {len(failures)} failures, {acked_checked} acknowledged writes checked "
          f"({acked_total} acknowledged operations; {time.monotonic() - started:.0f}s, seed {args.seed})")
    if not failures and not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    else:
        print(f"crash: work directory {workdir}")
    return 1 if failures or not results else 0


def print_counts(results) -> None:
    """Per operation: trials it was primary in, acknowledged and in-flight operations."""
    for op in REGISTRY:
        trials = sum(1 for r in results if r.primary == op.name)
        acked = sum(r.acked.get(op.name, 0) for r in results)
        inflight = sum(r.inflight.get(op.name, 0) for r in results)
        print(f"crash: {op.name:15s} trials={trials:4d} acknowledged={acked:5d} in_flight_at_kill={inflight:4d}")


if __name__ == "__main__":
    sys.exit(main())
