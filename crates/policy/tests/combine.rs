//! The combining function: explicit deny, same-account and cross-account
//! rules, anonymous callers, boundaries and session policies.
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]

use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, StatementRef, Verdict,
    evaluate,
};

const OWNER: &str = "111122223333";
const OTHER: &str = "444455556666";
const ALICE: &str = "arn:aws:iam::111122223333:user/alice";
const OWNER_ROOT: &str = "arn:aws:iam::111122223333:root";
const BOB: &str = "arn:aws:iam::444455556666:user/bob";
const OTHER_ROOT: &str = "arn:aws:iam::444455556666:root";

fn bucket_policy(statements: &str) -> Policy {
    let json = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
    Policy::parse(&json, &PolicyKind::Bucket { bucket: "b".into() }).unwrap()
}

fn identity_policy(statements: &str) -> Policy {
    let json = format!(r#"{{"Version": "2012-10-17", "Statement": [{statements}]}}"#);
    Policy::parse(&json, &PolicyKind::Identity).unwrap()
}

fn who(arn: &'static str, account: &'static str) -> PrincipalFacts<'static> {
    PrincipalFacts {
        arn: Some(arn),
        account: Some(account),
        ..Default::default()
    }
}

struct Case<'a> {
    principal: PrincipalFacts<'a>,
    identity: Vec<&'a Policy>,
    resource: Option<&'a Policy>,
    boundary: Option<&'a Policy>,
    session: Vec<&'a Policy>,
}

impl<'a> Case<'a> {
    fn new(principal: PrincipalFacts<'a>) -> Self {
        Case {
            principal,
            identity: vec![],
            resource: None,
            boundary: None,
            session: vec![],
        }
    }

    fn run(&self, action: &str) -> Verdict {
        let context = ContextKeys::new();
        let named = |name: &'a str| move |p: &&'a Policy| NamedPolicy { name, policy: p };
        let identity: Vec<NamedPolicy> = self.identity.iter().map(named("identity")).collect();
        let session: Vec<NamedPolicy> = self.session.iter().map(named("session")).collect();
        let a = Authorization {
            facts: RequestFacts {
                principal: self.principal,
                action,
                resource: "arn:aws:s3:::b/k",
                context: &context,
            },
            identity_policies: &identity,
            resource_policy: self.resource.map(|p| NamedPolicy {
                name: "bucket",
                policy: p,
            }),
            resource_owner: Some(OWNER),
            permissions_boundary: self.boundary.map(|p| NamedPolicy {
                name: "boundary",
                policy: p,
            }),
            session_policies: &session,
        };
        evaluate(&a)
    }
}

const ALLOW_GET: &str = r#"{"Sid": "Get", "Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}"#;

#[test]
fn owner_root_without_policies_is_allowed() {
    assert_eq!(
        Case::new(who(OWNER_ROOT, OWNER)).run("s3:GetObject"),
        Verdict::Allow { by: vec![] }
    );
}

#[test]
fn explicit_deny_beats_everything_and_names_statements() {
    let deny = bucket_policy(
        r#"{"Sid": "NoDelete", "Effect": "Deny", "Principal": "*", "Action": "s3:Delete*", "Resource": "arn:aws:s3:::b/*"}"#,
    );
    let mut case = Case::new(who(OWNER_ROOT, OWNER));
    case.resource = Some(&deny);
    let expected = StatementRef {
        policy: "bucket".into(),
        sid: Some("NoDelete".into()),
        index: 0,
    };
    assert_eq!(
        case.run("s3:DeleteObject"),
        Verdict::ExplicitDeny { by: vec![expected] }
    );
    assert!(case.run("s3:GetObject").is_allowed());
}

#[test]
fn same_account_user_needs_identity_or_direct_resource_grant() {
    let identity = identity_policy(ALLOW_GET);
    let mut case = Case::new(who(ALICE, OWNER));
    assert_eq!(case.run("s3:GetObject"), Verdict::ImplicitDeny);
    case.identity = vec![&identity];
    let by = vec![StatementRef {
        policy: "identity".into(),
        sid: Some("Get".into()),
        index: 0,
    }];
    assert_eq!(case.run("s3:GetObject"), Verdict::Allow { by });
    assert_eq!(case.run("s3:PutObject"), Verdict::ImplicitDeny);

    let direct = bucket_policy(&format!(
        r#"{{"Effect": "Allow", "Principal": {{"AWS": "{ALICE}"}}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}"#
    ));
    let mut case = Case::new(who(ALICE, OWNER));
    case.resource = Some(&direct);
    assert!(case.run("s3:PutObject").is_allowed());

    // Naming the account only delegates to the account's identity policies.
    let account = bucket_policy(&format!(
        r#"{{"Effect": "Allow", "Principal": {{"AWS": "{OWNER}"}}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}"#
    ));
    let mut case = Case::new(who(ALICE, OWNER));
    case.resource = Some(&account);
    assert_eq!(case.run("s3:PutObject"), Verdict::ImplicitDeny);
    case.identity = vec![&identity];
    assert!(case.run("s3:GetObject").is_allowed());
}

#[test]
fn cross_account_needs_both_sides() {
    let grant = bucket_policy(&format!(
        r#"{{"Sid": "X", "Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{OTHER}:root"}}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#
    ));
    let identity = identity_policy(ALLOW_GET);
    let mut bob = Case::new(who(BOB, OTHER));
    bob.identity = vec![&identity];
    assert_eq!(
        bob.run("s3:GetObject"),
        Verdict::ImplicitDeny,
        "identity alone is not enough"
    );
    bob.resource = Some(&grant);
    assert!(bob.run("s3:GetObject").is_allowed());
    bob.identity = vec![];
    assert_eq!(
        bob.run("s3:GetObject"),
        Verdict::ImplicitDeny,
        "resource grant alone is not enough"
    );

    let mut root = Case::new(who(OTHER_ROOT, OTHER));
    assert_eq!(root.run("s3:GetObject"), Verdict::ImplicitDeny);
    root.resource = Some(&grant);
    assert!(
        root.run("s3:GetObject").is_allowed(),
        "the other account's root needs no identity policy"
    );
    assert_eq!(root.run("s3:PutObject"), Verdict::ImplicitDeny);
}

#[test]
fn anonymous_only_through_public_grants() {
    let anonymous = PrincipalFacts::default();
    let public = bucket_policy(
        r#"{"Effect": "Allow", "Principal": {"AWS": "*"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#,
    );
    let account = bucket_policy(&format!(
        r#"{{"Effect": "Allow", "Principal": {{"AWS": "{OWNER}"}}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#
    ));
    let excluding = bucket_policy(&format!(
        r#"{{"Effect": "Allow", "NotPrincipal": {{"AWS": "{BOB}"}}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#
    ));
    let mut case = Case::new(anonymous);
    assert_eq!(case.run("s3:GetObject"), Verdict::ImplicitDeny);
    case.resource = Some(&public);
    assert!(case.run("s3:GetObject").is_allowed());
    case.resource = Some(&account);
    assert_eq!(case.run("s3:GetObject"), Verdict::ImplicitDeny);
    case.resource = Some(&excluding);
    assert_eq!(case.run("s3:GetObject"), Verdict::ImplicitDeny);
}

#[test]
fn not_principal_deny_spares_the_named() {
    let policy = bucket_policy(&format!(
        r#"{{"Effect": "Deny", "NotPrincipal": {{"AWS": ["{ALICE}", "{OWNER_ROOT}"]}}, "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"}}"#
    ));
    let identity = identity_policy(ALLOW_GET);
    let mut alice = Case::new(who(ALICE, OWNER));
    alice.identity = vec![&identity];
    alice.resource = Some(&policy);
    assert!(alice.run("s3:GetObject").is_allowed());
    let mut bob = Case::new(who(BOB, OTHER));
    bob.identity = vec![&identity];
    bob.resource = Some(&policy);
    assert!(matches!(bob.run("s3:GetObject"), Verdict::ExplicitDeny { .. }));
    let mut anonymous = Case::new(PrincipalFacts::default());
    anonymous.resource = Some(&policy);
    assert!(matches!(anonymous.run("s3:GetObject"), Verdict::ExplicitDeny { .. }));
}

#[test]
fn boundaries_and_session_policies_only_limit() {
    let identity = identity_policy(r#"{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}"#);
    let boundary = identity_policy(r#"{"Effect": "Allow", "Action": "s3:Get*", "Resource": "*"}"#);
    let session = identity_policy(r#"{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/k"}"#);
    let deny = identity_policy(r#"{"Effect": "Deny", "Action": "s3:GetObject", "Resource": "*"}"#);
    let mut case = Case::new(who(ALICE, OWNER));
    case.identity = vec![&identity];
    case.boundary = Some(&boundary);
    assert!(case.run("s3:GetObject").is_allowed());
    assert_eq!(case.run("s3:PutObject"), Verdict::ImplicitDeny);
    case.session = vec![&session];
    assert!(case.run("s3:GetObject").is_allowed());
    assert_eq!(case.run("s3:GetObjectAcl"), Verdict::ImplicitDeny);
    case.session = vec![&deny];
    assert!(matches!(case.run("s3:GetObject"), Verdict::ExplicitDeny { .. }));
    // A boundary alone grants nothing.
    let mut bare = Case::new(who(ALICE, OWNER));
    bare.boundary = Some(&boundary);
    assert_eq!(bare.run("s3:GetObject"), Verdict::ImplicitDeny);
}

#[test]
fn service_principals_need_a_resource_grant() {
    let cloudfront = PrincipalFacts {
        service: Some("cloudfront.amazonaws.com"),
        ..Default::default()
    };
    let policy = bucket_policy(
        r#"{"Effect": "Allow", "Principal": {"Service": "cloudfront.amazonaws.com"}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}"#,
    );
    let mut case = Case::new(cloudfront);
    assert_eq!(case.run("s3:GetObject"), Verdict::ImplicitDeny);
    case.resource = Some(&policy);
    assert!(case.run("s3:GetObject").is_allowed());
    assert_eq!(case.run("s3:PutObject"), Verdict::ImplicitDeny);
}

#[test]
fn verdicts_serialize_for_audit_logs() {
    let v = Verdict::Allow {
        by: vec![StatementRef {
            policy: "p".into(),
            sid: None,
            index: 2,
        }],
    };
    let json = serde_json::to_string(&v).unwrap();
    assert_eq!(
        json,
        r#"{"decision":"Allow","by":[{"policy":"p","sid":null,"index":2}]}"#
    );
}

const ROLE: &str = "arn:aws:iam::111122223333:role/app";
const SESSION: &str = "arn:aws:sts::111122223333:assumed-role/app/s1";

fn session_of_role() -> PrincipalFacts<'static> {
    PrincipalFacts {
        arn: Some(SESSION),
        account: Some(OWNER),
        role_arn: Some(ROLE),
        ..Default::default()
    }
}

#[test]
fn role_sessions_match_the_role_arn_but_stay_limited() {
    let grant = |arn: &str| {
        bucket_policy(&format!(
            r#"{{"Effect": "Allow", "Principal": {{"AWS": "{arn}"}}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#
        ))
    };
    let (to_role, to_session, to_alice) = (grant(ROLE), grant(SESSION), grant(ALICE));
    let narrow = identity_policy(r#"{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}"#);
    let mut c = Case::new(session_of_role());
    c.resource = Some(&to_role);
    assert!(
        c.run("s3:GetObject").is_allowed(),
        "naming the role grants its sessions"
    );
    c.session = vec![&narrow];
    assert_eq!(
        c.run("s3:GetObject"),
        Verdict::ImplicitDeny,
        "a session policy limits a role grant"
    );
    c.resource = Some(&to_session);
    assert!(
        c.run("s3:GetObject").is_allowed(),
        "a grant to the session ARN is not limited"
    );
    c.resource = Some(&to_alice);
    c.session = vec![];
    assert_eq!(
        c.run("s3:GetObject"),
        Verdict::ImplicitDeny,
        "another principal's grant"
    );
}

#[test]
fn boundary_limits_identity_but_not_a_grant_naming_the_user() {
    let allow_get = identity_policy(ALLOW_GET);
    let boundary = identity_policy(r#"{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}"#);
    let to_alice = bucket_policy(&format!(
        r#"{{"Effect": "Allow", "Principal": {{"AWS": "{ALICE}"}}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}}"#
    ));
    let mut c = Case::new(who(ALICE, OWNER));
    c.identity = vec![&allow_get];
    c.boundary = Some(&boundary);
    assert_eq!(c.run("s3:GetObject"), Verdict::ImplicitDeny);
    c.resource = Some(&to_alice);
    assert!(c.run("s3:GetObject").is_allowed());
}

#[test]
fn owner_root_session_policies_narrow_the_root() {
    let narrow = identity_policy(r#"{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}"#);
    let mut c = Case::new(who(OWNER_ROOT, OWNER));
    c.session = vec![&narrow];
    assert_eq!(c.run("s3:GetObject"), Verdict::ImplicitDeny);
    assert!(c.run("s3:ListBucket").is_allowed());
}

#[test]
fn trust_policies_name_principals_and_check_conditions() {
    use strongbox_policy::policy_allows;
    let trust = Policy::parse(
        &format!(
            r#"{{"Version": "2012-10-17", "Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{OTHER}:root"}},
                "Action": "sts:AssumeRole", "Condition": {{"StringEquals": {{"sts:ExternalId": "ext-1"}}}}}}]}}"#
        ),
        &PolicyKind::Trust,
    )
    .unwrap();
    fn facts(context: &ContextKeys) -> RequestFacts<'_> {
        RequestFacts {
            principal: who(BOB, OTHER),
            action: "sts:AssumeRole",
            resource: "arn:aws:iam::111122223333:role/app",
            context,
        }
    }
    let mut context = ContextKeys::new();
    assert!(!policy_allows(&trust, &facts(&context)), "no ExternalId");
    context.insert("sts:ExternalId", "ext-1");
    assert!(policy_allows(&trust, &facts(&context)));
    let alice = RequestFacts {
        principal: who(ALICE, OWNER),
        ..facts(&context)
    };
    assert!(!policy_allows(&trust, &alice), "another account's principal");
    // The trust grammar: no Resource, only STS actions, a Principal.
    let parse = |s: &str| Policy::parse(s, &PolicyKind::Trust).map(|_| ()).map_err(|e| e.message);
    let with_resource = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "sts:AssumeRole", "Resource": "*"}]}"#;
    assert_eq!(parse(with_resource), Err("Has prohibited field Resource".to_owned()));
    let s3_action =
        r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}]}"#;
    assert_eq!(
        parse(s3_action),
        Err("AssumeRole policy may only specify STS AssumeRole actions.".to_owned())
    );
    let no_principal = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole"}]}"#;
    assert_eq!(parse(no_principal), Err("Missing required field Principal".to_owned()));
}
