#!/usr/bin/env bash
# The cost of temporary credentials: 4 KiB GETs at concurrency 8 through
# strongbox-bench, signed (1) by an IAM user's long-term key and (2) by a
# session of a role with the same policy (AssumeRole; every request carries
# and is checked with its session token), on one throw-away release server.
# Prints both `strongbox-bench` reports; JSON results land in WORK.
#
#   scripts/bench-sts.sh [COUNT]        (default 20000 GETs per run; ORDER=reversed)
#
# Needs the release binaries (cargo build --release --ignore-rust-version
# -p strongbox -p strongbox-bench) and the test venv (boto3): run-tests.sh makes it.
set -euo pipefail
cd "$(dirname "$0")/.."
COUNT="${1:-20000}"
NAME=bench-sts
STRONGBOX_BIN="${STRONGBOX_BIN:-$PWD/target/release/strongbox}"
BENCH_BIN="${BENCH_BIN:-$PWD/target/release/strongbox-bench}"
PY="${PY:-$PWD/tests/.venv/bin/python}"
WORK="$(mktemp -d /tmp/bench-sts.XXXXXX)"
# shellcheck source=lib/server.sh
source scripts/lib/server.sh
trap stop_server EXIT
start_server

# A user and a role with the same S3 policy; the role's session credentials.
eval "$(ENDPOINT="$ENDPOINT" ACCESS_KEY="$ACCESS_KEY" SECRET_KEY="$SECRET_KEY" "$PY" - <<'EOF'
import json, os, boto3
kw = dict(endpoint_url=os.environ["ENDPOINT"], region_name="us-east-1",
          aws_access_key_id=os.environ["ACCESS_KEY"], aws_secret_access_key=os.environ["SECRET_KEY"])
iam, sts = boto3.client("iam", **kw), boto3.client("sts", **kw)
policy = json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]})
iam.create_user(UserName="bench")
iam.put_user_policy(UserName="bench", PolicyName="s3", PolicyDocument=policy)
key = iam.create_access_key(UserName="bench")["AccessKey"]
acct = sts.get_caller_identity()["Account"]
trust = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{acct}:root"}, "Action": "sts:AssumeRole"}]})
iam.create_role(RoleName="bench", AssumeRolePolicyDocument=trust)
iam.put_role_policy(RoleName="bench", PolicyName="s3", PolicyDocument=policy)
c = sts.assume_role(RoleArn=f"arn:aws:iam::{acct}:role/bench", RoleSessionName="bench")["Credentials"]
print(f"USER_KEY={key['AccessKeyId']} USER_SECRET={key['SecretAccessKey']}")
print(f"SESSION_KEY={c['AccessKeyId']} SESSION_SECRET={c['SecretAccessKey']} SESSION_TOKEN={c['SessionToken']}")
EOF
)"

run() {
    local label="$1"
    shift
    echo "== $label"
    "$BENCH_BIN" --endpoint "$ENDPOINT" --bucket bench-sts --server-pid "$SERVER_PID" "$@" \
        --json "$WORK/$label.json" \
        run --size 4KiB --concurrency 8 --count "$COUNT" --ops put,get --max-secs 120
}
# ORDER=reversed runs the session first (later runs find a larger metadata database).
long() { run long-term-key --access-key "$USER_KEY" --secret-key "$USER_SECRET"; }
session() { run session-token --access-key "$SESSION_KEY" --secret-key "$SESSION_SECRET" --session-token "$SESSION_TOKEN"; }
if [[ "${ORDER:-}" == reversed ]]; then session; long; else long; session; fi
echo "$NAME: results in $WORK"
