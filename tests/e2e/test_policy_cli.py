"""`strongbox policy validate` (same validation as the server, with line and
column) and `strongbox policy simulate` (Allow / explicit Deny / implicit
deny with the deciding statements)."""

import json
import subprocess

from harness import server_binary

DOC = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
         "Resource": ["arn:aws:s3:::docs", "arn:aws:s3:::docs/*"],
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
        {"Sid": "PartnerRead", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::222233334444:root"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::docs/*"},
    ],
}


def strongbox(*args):
    return subprocess.run([str(server_binary()), "policy", *args], capture_output=True, text=True, timeout=60)


def test_validate_accepts_a_good_policy_and_locates_a_bad_one(tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(DOC, indent=2))
    ok = strongbox("validate", str(good))
    assert ok.returncode == 0, ok.stderr
    assert "valid bucket policy for docs" in ok.stdout and "2 statement" in ok.stdout
    bad = tmp_path / "bad.json"
    bad.write_text('{\n  "Version": "2012-10-17",\n  "Statement": [\n'
                   '    {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",\n'
                   '     "Resource": "arn:aws:s3:::docs/*",\n'
                   '     "Condition": {"StringEqualz": {"aws:SourceIp": "x"}}}\n  ]\n}\n')
    failed = strongbox("validate", str(bad))
    assert failed.returncode == 1
    assert f"{bad}:6:20: MalformedPolicy" in failed.stderr and "StringEqualz" in failed.stderr, failed.stderr
    outside = tmp_path / "outside.json"
    outside.write_text(json.dumps(DOC))
    wrong_bucket = strongbox("validate", "--bucket", "other", str(outside))
    assert wrong_bucket.returncode == 1 and "MalformedPolicy" in wrong_bucket.stderr


def simulate(tmp_path, *args):
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(DOC))
    out = strongbox("simulate", "--policy", str(path), "--resource", "arn:aws:s3:::docs/a.txt",
                    "--resource-owner", "111122223333", *args)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_simulate_reports_the_decision_and_deciding_statements(tmp_path):
    partner = ("--principal", "arn:aws:iam::222233334444:root")
    allowed = simulate(tmp_path, "--action", "s3:GetObject", *partner, "--context", "aws:SecureTransport=true")
    assert allowed.splitlines()[0] == "Decision: Allow" and "Sid PartnerRead" in allowed
    denied = simulate(tmp_path, "--action", "s3:GetObject", *partner, "--context", "aws:SecureTransport=false")
    assert denied.splitlines()[0] == "Decision: ExplicitDeny" and "Sid DenyHTTP" in denied
    implicit = simulate(tmp_path, "--action", "s3:PutObject", *partner, "--context", "aws:SecureTransport=true")
    assert implicit.strip() == "Decision: ImplicitDeny"
    anonymous = simulate(tmp_path, "--action", "s3:GetObject", "--context", "aws:SecureTransport=true")
    assert anonymous.strip() == "Decision: ImplicitDeny"


def test_simulate_with_an_identity_policy_same_and_cross_account(tmp_path):
    identity = tmp_path / "user.json"
    identity.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "HomeDir", "Effect": "Allow", "Action": "s3:PutObject",
         "Resource": "arn:aws:s3:::docs/home/${aws:username}/*"}]}))
    user = ("--principal", "arn:aws:iam::111122223333:user/alice", "--identity-policy", str(identity),
            "--context", "aws:username=alice", "--context", "aws:SecureTransport=true")
    path = tmp_path / "policy.json"
    path.write_text(json.dumps(DOC))
    def run(resource, owner):
        out = strongbox("simulate", "--policy", str(path), "--action", "s3:PutObject", "--resource", resource,
                        "--resource-owner", owner, *user)
        assert out.returncode == 0, out.stderr
        return out.stdout.splitlines()[0]
    assert run("arn:aws:s3:::docs/home/alice/x", "111122223333") == "Decision: Allow"
    assert run("arn:aws:s3:::docs/home/bob/x", "111122223333") == "Decision: ImplicitDeny"
    # Another account's bucket: the identity allow alone is not enough.
    assert run("arn:aws:s3:::docs/home/alice/x", "999988887777") == "Decision: ImplicitDeny"


PUBLIC_READ = {"Version": "2012-10-17", "Statement": [
    {"Sid": "PublicRead", "Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
     "Resource": "arn:aws:s3:::site/*"},
    {"Sid": "DenyHTTP", "Effect": "Deny", "Principal": "*", "Action": "s3:*",
     "Resource": "arn:aws:s3:::site/*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}},
]}


def test_simulate_an_anonymous_caller_against_public_read_and_deny_http(tmp_path):
    """Issue 11: --principal anonymous (or *) simulates an unauthenticated caller."""
    path = tmp_path / "public.json"
    path.write_text(json.dumps(PUBLIC_READ))
    for who in ("anonymous", "*"):
        def run(*args):
            out = strongbox("simulate", "--policy", str(path), "--resource", "arn:aws:s3:::site/index.html",
                            "--resource-owner", "111122223333", "--principal", who, *args)
            assert out.returncode == 0, out.stderr
            return out.stdout
        allowed = run("--action", "s3:GetObject", "--context", "aws:SecureTransport=true")
        assert allowed.splitlines()[0] == "Decision: Allow" and "Sid PublicRead" in allowed
        denied = run("--action", "s3:GetObject", "--context", "aws:SecureTransport=false")
        assert denied.splitlines()[0] == "Decision: ExplicitDeny" and "Sid DenyHTTP" in denied
        assert run("--action", "s3:PutObject", "--context", "aws:SecureTransport=true").strip() == (
            "Decision: ImplicitDeny")


def test_simulate_roles_sessions_mfa_boundaries_and_session_policies(tmp_path):
    """Issue 12: role and assumed-role principals, MFA context keys, a
    permissions boundary and session policies."""
    bucket_policy = tmp_path / "mfa.json"
    bucket_policy.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Sid": "RoleReads", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::111122223333:role/app"},
         "Action": "s3:GetObject", "Resource": "arn:aws:s3:::docs/*"},
        {"Sid": "NeedMFA", "Effect": "Deny", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::docs/*",
         "Condition": {"BoolIfExists": {"aws:MultiFactorAuthPresent": "false"}}}]}))
    narrow = tmp_path / "narrow.json"
    narrow.write_text(json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}))

    def run(principal, *extra):
        out = strongbox("simulate", "--policy", str(bucket_policy), "--action", "s3:GetObject",
                        "--resource", "arn:aws:s3:::docs/a.txt", "--principal", principal, *extra)
        return out.stdout.splitlines()[0]

    session = "arn:aws:sts::111122223333:assumed-role/app/build-1"
    assert run(session, "--context", "aws:MultiFactorAuthPresent=true") == "Decision: Allow"
    assert run("arn:aws:iam::111122223333:role/app", "--context", "aws:MultiFactorAuthPresent=true") == "Decision: Allow"
    assert run(session, "--context", "aws:MultiFactorAuthPresent=false") == "Decision: ExplicitDeny"
    # A long-term key has no MFA key at all: BoolIfExists denies it too.
    assert run("arn:aws:iam::111122223333:user/alice") == "Decision: ExplicitDeny"
    # A session policy limits a grant that names the role.
    assert run(session, "--context", "aws:MultiFactorAuthPresent=true", "--session-policy", str(narrow)) == "Decision: ImplicitDeny"
    assert run("arn:aws:sts::111122223333:assumed-role/other/s", "--context", "aws:MultiFactorAuthPresent=true") == "Decision: ImplicitDeny"
