//! Differential test: a deliberately naive evaluator written straight from
//! AWS's "Policy evaluation logic" and "Condition operators" pages, sharing no
//! code with the engine (it reads the JSON with serde_json, matches wildcards
//! by recursion on character vectors, compares numbers as f64 over a value
//! pool where that is exact, counts dates day by day), checked against the
//! real engine on random small bucket, identity and boundary policies,
//! callers (anonymous, owner root, same-account user, other root, other
//! user) and contexts. Not covered here: service principals, session
//! policies, binary and IgnoreCase-negated operators (unit-tested instead).
#![expect(clippy::unwrap_used, reason = "test helpers: any failure aborts the test")]

use std::collections::HashMap;

use proptest::prelude::*;
use serde_json::{Value, json};
use strongbox_policy::{
    Authorization, ContextKeys, NamedPolicy, Policy, PolicyKind, PrincipalFacts, RequestFacts, Verdict, evaluate,
};

const OWNER: &str = "111111111111";

// ---------------------------------------------------------------- reference

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Allow,
    Deny,
    Implicit,
}

#[derive(Debug, Clone)]
struct Caller {
    arn: Option<&'static str>,
    account: Option<&'static str>,
}

/// Context: lower-cased key -> values.
type Ctx = HashMap<String, Vec<String>>;

fn as_list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(items) => items.clone(),
        other => vec![other.clone()],
    }
}

fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// `*` matches any sequence, `?` any one character (recursive, naive).
fn glob(p: &[(char, bool)], t: &[char]) -> bool {
    match p.split_first() {
        None => t.is_empty(),
        Some((('*', true), rest)) => (0..=t.len()).any(|i| glob(rest, &t[i..])),
        Some((('?', true), rest)) => !t.is_empty() && glob(rest, &t[1..]),
        Some(((c, _), rest)) => t.first() == Some(c) && glob(rest, &t[1..]),
    }
}

/// Pattern characters, `(char, is_wildcard)`, after variable substitution;
/// `None` if a variable is missing.
fn substitute(pattern: &str, ctx: &Ctx, variables: bool) -> Option<Vec<(char, bool)>> {
    let mut out = Vec::new();
    let chars: Vec<char> = pattern.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if variables
            && chars[i] == '$'
            && chars.get(i + 1) == Some(&'{')
            && let Some(end) = chars[i..].iter().position(|c| *c == '}')
        {
            let name: String = chars[i + 2..i + end].iter().collect();
            let value = match name.as_str() {
                "*" | "?" | "$" => name.clone(),
                _ => match ctx.get(&name.to_lowercase()) {
                    Some(v) if v.len() == 1 => v[0].clone(),
                    _ => return None,
                },
            };
            out.extend(value.chars().map(|c| (c, false)));
            i += end + 1;
            continue;
        }
        out.push((chars[i], chars[i] == '*' || chars[i] == '?'));
        i += 1;
    }
    Some(out)
}

fn ipv4(s: &str) -> Option<(u32, u32)> {
    let (addr, bits) = match s.split_once('/') {
        Some((a, b)) => (a, b.parse::<u32>().ok()?),
        None => (s, 32),
    };
    let octets: Vec<u32> = addr
        .split('.')
        .map(|o| o.parse::<u8>().map(u32::from))
        .collect::<Result<_, _>>()
        .ok()?;
    if octets.len() != 4 || bits > 32 {
        return None;
    }
    Some((octets.iter().fold(0, |acc, o| acc * 256 + o), bits))
}

/// One policy value against one request value; `None` = unreadable.
fn compare(op: &str, policy: &str, request: &str, ctx: &Ctx, variables: bool) -> Option<bool> {
    let req: Vec<char> = request.chars().collect();
    Some(match op {
        "StringEquals" | "StringNotEquals" => match substitute(policy, ctx, variables) {
            Some(p) => p.iter().map(|(c, _)| *c).collect::<String>() == request,
            None => false,
        },
        "StringEqualsIgnoreCase" => match substitute(policy, ctx, variables) {
            Some(p) => p.iter().map(|(c, _)| *c).collect::<String>().to_lowercase() == request.to_lowercase(),
            None => false,
        },
        "StringLike" | "StringNotLike" => substitute(policy, ctx, variables).is_some_and(|p| glob(&p, &req)),
        "NumericLessThan" => request.parse::<f64>().ok()? < policy.parse::<f64>().ok()?,
        "NumericEquals" => request.parse::<f64>().ok()? == policy.parse::<f64>().ok()?,
        "Bool" => {
            let p = policy.to_lowercase();
            let r = request.to_lowercase();
            if !["true", "false"].contains(&p.as_str()) || !["true", "false"].contains(&r.as_str()) {
                return None;
            }
            p == r
        }
        "DateLessThan" | "DateGreaterThanEquals" => {
            let (r, p) = (naive_epoch(request)?, naive_epoch(policy)?);
            if op == "DateLessThan" { r < p } else { r >= p }
        }
        "ArnLike" | "ArnNotLike" => {
            // Policy variables work with the ARN operators too; a substituted
            // value's characters are literal.
            let Some(subst) = substitute(policy, ctx, variables) else {
                return Some(false);
            };
            let mut p: Vec<Vec<(char, bool)>> = vec![Vec::new()];
            for (c, wild) in subst {
                if c == ':' && !wild && p.len() < 6 {
                    p.push(Vec::new());
                } else if let Some(last) = p.last_mut() {
                    last.push((c, wild));
                }
            }
            let r: Vec<&str> = request.splitn(6, ':').collect();
            p.len() == 6 && r.len() == 6 && p.iter().zip(&r).all(|(p, r)| glob(p, &r.chars().collect::<Vec<_>>()))
        }
        "IpAddress" | "NotIpAddress" => {
            let (net, bits) = ipv4(policy)?;
            let (addr, _) = ipv4(request)?;
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            net & mask == addr & mask
        }
        _ => return None,
    })
}

/// Epoch seconds of `YYYY-MM-DDTHH:MM:SSZ` or of a digits-only string,
/// counting days year by year and month by month.
fn naive_epoch(s: &str) -> Option<i64> {
    if !s.is_empty() && s.chars().all(|c| c.is_ascii_digit()) {
        return s.parse().ok();
    }
    let b = s.as_bytes();
    if b.len() != 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z'
    {
        return None;
    }
    let num = |from: usize, to: usize| s[from..to].parse::<i64>().ok();
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, minute, second) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    let leap = |y: i64| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let mut days = 0;
    for y in 1970..year {
        days += if leap(y) { 366 } else { 365 };
    }
    let lengths = [
        31,
        if leap(year) { 29 } else { 28 },
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&month)
        || day < 1
        || day > lengths[month as usize - 1]
        || hour > 23
        || minute > 59
        || second > 59
    {
        return None;
    }
    days += lengths[..month as usize - 1].iter().sum::<i64>() + day - 1;
    Some(days * 86_400 + hour * 3600 + minute * 60 + second)
}

fn negated(op: &str) -> bool {
    op.contains("Not")
}

fn condition_block(block: &Value, ctx: &Ctx, variables: bool) -> bool {
    let Some(block) = block.as_object() else { return true };
    block.iter().all(|(full_op, keys)| {
        keys.as_object().unwrap().iter().all(|(key, values)| {
            let values: Vec<String> = as_list(values).iter().map(text).collect();
            one_condition(full_op, key, &values, ctx, variables)
        })
    })
}

fn one_condition(full_op: &str, key: &str, values: &[String], ctx: &Ctx, variables: bool) -> bool {
    let present = ctx.get(&key.to_lowercase()).filter(|v| !v.is_empty());
    if full_op == "Null" {
        return values
            .iter()
            .any(|v| (v == "true" && present.is_none()) || (v == "false" && present.is_some()));
    }
    let (set, op) = match full_op.split_once(':') {
        Some((set, op)) => (Some(set), op),
        None => (None, full_op),
    };
    let (op, if_exists) = match op.strip_suffix("IfExists") {
        Some(op) => (op, true),
        None => (op, false),
    };
    let Some(request_values) = present else {
        return if_exists || set == Some("ForAllValues") || (set.is_none() && negated(op));
    };
    // Per request value: does it satisfy the operator against the value list?
    let mut per_value = Vec::new();
    for r in request_values {
        let mut any = false;
        for p in values {
            match compare(op, p, r, ctx, variables) {
                Some(hit) => any |= hit,
                None => return false,
            }
        }
        per_value.push(if negated(op) { !any } else { any });
    }
    match set {
        Some("ForAllValues") => per_value.iter().all(|b| *b),
        Some("ForAnyValue") => per_value.iter().any(|b| *b),
        _ if negated(op) => per_value.iter().all(|b| *b),
        _ => per_value.iter().any(|b| *b),
    }
}

/// How the principal element matched: 0 no, 1 via account, 2 named, 3 "*".
fn principal_strength(principal: &Value, caller: &Caller) -> u8 {
    if principal == &json!("*") {
        return 3;
    }
    let mut best = 0;
    for entry in as_list(&principal["AWS"]) {
        let entry = text(&entry);
        let strength = if entry == "*" {
            3
        } else if caller
            .account
            .is_some_and(|a| entry == a || entry == format!("arn:aws:iam::{a}:root"))
        {
            1
        } else if caller.arn == Some(entry.as_str()) {
            2
        } else {
            0
        };
        best = best.max(strength);
    }
    best
}

/// Effects of the statements that apply, with principal strength.
fn applicable(policy: &Value, caller: &Caller, action: &str, resource: &str, ctx: &Ctx) -> Vec<(String, u8)> {
    let variables = policy["Version"] == json!("2012-10-17");
    let mut out = Vec::new();
    for st in as_list(&policy["Statement"]) {
        let strength = if let Some(p) = st.get("Principal") {
            principal_strength(p, caller)
        } else if let Some(p) = st.get("NotPrincipal") {
            if principal_strength(p, caller) == 0 { 2 } else { 0 }
        } else {
            2
        };
        if strength == 0 {
            continue;
        }
        let action_hit = |v: &Value| {
            let p: Vec<(char, bool)> = text(v)
                .to_lowercase()
                .chars()
                .map(|c| (c, c == '*' || c == '?'))
                .collect();
            glob(&p, &action.to_lowercase().chars().collect::<Vec<_>>())
        };
        let action_ok = match (st.get("Action"), st.get("NotAction")) {
            (Some(a), _) => as_list(a).iter().any(action_hit),
            (_, Some(a)) => !as_list(a).iter().any(action_hit),
            _ => false,
        };
        let resource_hit = |v: &Value| {
            substitute(&text(v), ctx, variables).is_some_and(|p| glob(&p, &resource.chars().collect::<Vec<_>>()))
        };
        let resource_ok = match (st.get("Resource"), st.get("NotResource")) {
            (Some(r), _) => as_list(r).iter().any(resource_hit),
            (_, Some(r)) => !as_list(r).iter().any(resource_hit),
            _ => false,
        };
        let condition_ok = st.get("Condition").is_none_or(|c| condition_block(c, ctx, variables));
        if action_ok && resource_ok && condition_ok {
            out.push((text(&st["Effect"]), strength));
        }
    }
    out
}

/// AWS evaluation logic for one bucket policy and the caller's identity
/// policies, read off the documentation's flow chart.
fn reference(
    bucket: &Value,
    identity: &[Value],
    boundary: Option<&Value>,
    caller: &Caller,
    action: &str,
    resource: &str,
    ctx: &Ctx,
) -> Outcome {
    let from_bucket = applicable(bucket, caller, action, resource, ctx);
    let from_boundary = boundary
        .map(|b| applicable(b, caller, action, resource, ctx))
        .unwrap_or_default();
    if from_boundary.iter().any(|(e, _)| e == "Deny") {
        return Outcome::Deny;
    }
    let from_identity: Vec<(String, u8)> = identity
        .iter()
        .flat_map(|p| applicable(p, caller, action, resource, ctx))
        .collect();
    if from_bucket.iter().chain(&from_identity).any(|(e, _)| e == "Deny") {
        return Outcome::Deny;
    }
    let bucket_allow = |min: u8| from_bucket.iter().any(|(e, s)| e == "Allow" && *s >= min);
    let identity_allow = from_identity.iter().any(|(e, _)| e == "Allow");
    let is_root =
        caller.account.is_some() && caller.arn == caller.account.map(|a| format!("arn:aws:iam::{a}:root")).as_deref();
    let allowed = if caller.arn.is_none() {
        bucket_allow(3)
    } else if caller.account == Some(OWNER) {
        is_root || identity_allow || bucket_allow(2)
    } else {
        (is_root || identity_allow) && bucket_allow(1)
    };
    // A permissions boundary only limits, and never the account root; nor
    // (AWS: "Resource-based policies ... that specify the user ARN") a grant
    // in the same account that names the user itself.
    let boundary_ok = boundary.is_none() || is_root || from_boundary.iter().any(|(e, _)| e == "Allow");
    let names_user_directly = caller.account == Some(OWNER) && from_bucket.iter().any(|(e, s)| e == "Allow" && *s == 2);
    if allowed && (boundary_ok || names_user_directly) {
        Outcome::Allow
    } else {
        Outcome::Implicit
    }
}

// ---------------------------------------------------------------- generators

const CALLERS: [Caller; 5] = [
    Caller {
        arn: None,
        account: None,
    },
    Caller {
        arn: Some("arn:aws:iam::111111111111:root"),
        account: Some("111111111111"),
    },
    Caller {
        arn: Some("arn:aws:iam::111111111111:user/alice"),
        account: Some("111111111111"),
    },
    Caller {
        arn: Some("arn:aws:iam::222222222222:root"),
        account: Some("222222222222"),
    },
    Caller {
        arn: Some("arn:aws:iam::222222222222:user/bob"),
        account: Some("222222222222"),
    },
];

fn principal() -> impl Strategy<Value = (&'static str, Value)> {
    let value = prop_oneof![
        Just(json!("*")),
        Just(json!({"AWS": "*"})),
        Just(json!({"AWS": "111111111111"})),
        Just(json!({"AWS": "arn:aws:iam::222222222222:root"})),
        Just(json!({"AWS": ["arn:aws:iam::111111111111:user/alice", "222222222222"]})),
        Just(json!({"AWS": "arn:aws:iam::222222222222:user/bob"})),
    ];
    (prop_oneof![4 => Just("Principal"), 1 => Just("NotPrincipal")], value)
}

fn actions() -> impl Strategy<Value = (&'static str, Value)> {
    let one = prop_oneof![
        Just("s3:*"),
        Just("s3:Get*"),
        Just("s3:GetObject"),
        Just("S3:getobject"),
        Just("s3:PutObject"),
        Just("s3:?etObject"),
        Just("*")
    ];
    (
        prop_oneof![4 => Just("Action"), 1 => Just("NotAction")],
        prop::collection::vec(one, 1..3).prop_map(|v| json!(v)),
    )
}

fn resources() -> impl Strategy<Value = (&'static str, Value)> {
    let one = prop_oneof![
        Just("arn:aws:s3:::b"),
        Just("arn:aws:s3:::b/*"),
        Just("arn:aws:s3:::b/a*"),
        Just("arn:aws:s3:::b/?"),
        Just("arn:aws:s3:::b/${aws:username}/*"),
        Just("arn:aws:s3:::b/${k1}"),
        Just("arn:aws:s3:::b/${*}"),
    ];
    (
        prop_oneof![4 => Just("Resource"), 1 => Just("NotResource")],
        prop::collection::vec(one, 1..3).prop_map(|v| json!(v)),
    )
}

const OPERATORS: [&str; 18] = [
    "DateLessThan",
    "DateGreaterThanEquals",
    "ArnLike",
    "ArnNotLike",
    "StringEquals",
    "StringNotEquals",
    "StringEqualsIgnoreCase",
    "StringLike",
    "StringNotLike",
    "NumericLessThan",
    "NumericEquals",
    "Bool",
    "IpAddress",
    "NotIpAddress",
    "Null",
    "StringEqualsIfExists",
    "ForAllValues:StringLike",
    "ForAnyValue:StringNotEquals",
];

const POLICY_VALUES: [&str; 17] = [
    "2020-01-01T00:00:00Z",
    "1577836800",
    "arn:aws:s3:::b*",
    "arn:*:s3:::?/*",
    "a",
    "a*",
    "A",
    "1",
    "1.2",
    "1.10",
    "1.1",
    "true",
    "false",
    "10.0.0.0/24",
    "10.0.0.5",
    "x",
    "${aws:username}",
];
const KEYS: [&str; 3] = ["k1", "K2", "aws:username"];
const CONTEXT_VALUES: [&str; 18] = [
    "2020-01-01T00:00:00Z",
    "1577836800",
    "arn:aws:s3:::bb",
    "2020-01-01T00:00:00Z",
    "2019-12-31T23:59:59Z",
    "arn:aws:s3:::b/x",
    "arn:aws:s3:::bb",
    "a",
    "A",
    "ab",
    "alice",
    "1",
    "1.2",
    "1.3",
    "true",
    "false",
    "10.0.0.5",
    "10.0.1.5",
];

fn family_values(op: &str) -> &'static [&'static str] {
    match op {
        o if o.contains("Date") => &["2020-01-01T00:00:00Z", "1577836800", "2019-12-31T23:59:59Z"],
        o if o.contains("Arn") => &["arn:aws:s3:::b*", "arn:*:s3:::?/*", "arn:aws:s3:::bb"],
        o if o.contains("Numeric") => &["1", "1.2", "1.3"],
        o if o.contains("Ip") => &["10.0.0.0/24", "10.0.0.5"],
        "Bool" => &["true", "false"],
        _ => &["a", "a*", "alice", "${aws:username}"],
    }
}

fn condition() -> impl Strategy<Value = Option<Value>> {
    // Mostly values from the operator's own family, so every
    // operator meets readable values often; otherwise from the mixed pool.
    let entry = prop::sample::select(&OPERATORS[..]).prop_flat_map(|op| {
        let family: &'static [&'static str] = family_values(op);
        let pool = prop_oneof![4 => prop::sample::select(family), 1 => prop::sample::select(&POLICY_VALUES[..])];
        (
            Just(op),
            prop::sample::select(&KEYS[..]),
            prop::collection::vec(pool, 1..3),
        )
    });
    prop::option::of(prop::collection::vec(entry, 1..3)).prop_map(|entries| {
        entries.map(|entries| {
            let mut block = serde_json::Map::new();
            for (op, key, values) in entries {
                let values: Vec<&str> = if op == "Null" {
                    vec![values[0].len().is_multiple_of(2).to_string().leak()]
                } else {
                    values
                };
                let keys = block.entry(op.to_owned()).or_insert_with(|| json!({}));
                keys.as_object_mut().unwrap().insert(key.to_owned(), json!(values));
            }
            Value::Object(block)
        })
    })
}

fn statement(with_principal: bool) -> impl Strategy<Value = Value> {
    (prop::bool::ANY, principal(), actions(), resources(), condition()).prop_map(move |(allow, p, a, r, c)| {
        let mut st = serde_json::Map::new();
        st.insert("Effect".into(), json!(if allow { "Allow" } else { "Deny" }));
        if with_principal {
            st.insert(p.0.into(), p.1);
        }
        st.insert(a.0.into(), a.1);
        st.insert(r.0.into(), r.1);
        if let Some(c) = c {
            st.insert("Condition".into(), c);
        }
        Value::Object(st)
    })
}

fn policy(with_principal: bool) -> impl Strategy<Value = Value> {
    (
        prop::bool::weighted(0.8),
        prop::collection::vec(statement(with_principal), 1..4),
    )
        .prop_map(|(v2012, sts)| {
            if v2012 {
                json!({"Version": "2012-10-17", "Statement": sts})
            } else {
                json!({"Statement": sts})
            }
        })
}

fn context() -> impl Strategy<Value = Vec<(&'static str, Vec<&'static str>)>> {
    prop::collection::vec(
        (
            prop::sample::select(&KEYS[..]),
            prop::collection::vec(prop::sample::select(&CONTEXT_VALUES[..]), 0..3),
        ),
        0..3,
    )
}

// ---------------------------------------------------------------- the property

fn engine(
    bucket: &Value,
    identity: &[Value],
    boundary: Option<&Value>,
    caller: &Caller,
    action: &str,
    resource: &str,
    pairs: &[(&str, Vec<&str>)],
) -> Outcome {
    let bucket = Policy::parse(&bucket.to_string(), &PolicyKind::Bucket { bucket: "b".into() }).unwrap();
    let identity: Vec<Policy> = identity
        .iter()
        .map(|p| Policy::parse(&p.to_string(), &PolicyKind::Identity).unwrap())
        .collect();
    let named: Vec<NamedPolicy> = identity
        .iter()
        .map(|p| NamedPolicy {
            name: "identity",
            policy: p,
        })
        .collect();
    let boundary = boundary.map(|b| Policy::parse(&b.to_string(), &PolicyKind::Identity).unwrap());
    let mut context = ContextKeys::new();
    for (k, values) in pairs {
        context.insert_multi(k, values);
    }
    let a = Authorization {
        facts: RequestFacts {
            principal: PrincipalFacts {
                arn: caller.arn,
                account: caller.account,
                ..Default::default()
            },
            action,
            resource,
            context: &context,
        },
        identity_policies: &named,
        resource_policy: Some(NamedPolicy {
            name: "bucket",
            policy: &bucket,
        }),
        resource_owner: Some(OWNER),
        permissions_boundary: boundary.as_ref().map(|policy| NamedPolicy {
            name: "boundary",
            policy,
        }),
        session_policies: &[],
    };
    match evaluate(&a) {
        Verdict::Allow { .. } => Outcome::Allow,
        Verdict::ExplicitDeny { .. } => Outcome::Deny,
        Verdict::ImplicitDeny => Outcome::Implicit,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5000))]

    #[test]
    fn engine_agrees_with_the_reference(
        bucket in policy(true),
        identity in prop::collection::vec(policy(false), 0..2),
        boundary in prop::option::weighted(0.3, policy(false)),
        caller in prop::sample::select(&CALLERS[..]),
        action in prop::sample::select(&["s3:GetObject", "s3:PutObject", "s3:ListBucket"][..]),
        resource in prop::sample::select(&["arn:aws:s3:::b", "arn:aws:s3:::b/a", "arn:aws:s3:::b/alice/x", "arn:aws:s3:::b/ab", "arn:aws:s3:::b/*"][..]),
        pairs in context(),
    ) {
        // Anonymous callers have no identity policies.
        let identity = if caller.arn.is_none() { Vec::new() } else { identity };
        let boundary = if caller.arn.is_none() { None } else { boundary };
        let mut ctx: Ctx = HashMap::new();
        for (k, values) in &pairs {
            ctx.entry(k.to_lowercase()).or_default().extend(values.iter().map(|v| v.to_string()));
        }
        let expected = reference(&bucket, &identity, boundary.as_ref(), &caller, action, resource, &ctx);
        let actual = engine(&bucket, &identity, boundary.as_ref(), &caller, action, resource, &pairs);
        prop_assert_eq!(actual, expected, "bucket={} identity={:?} boundary={:?} caller={:?} action={} resource={} ctx={:?}", bucket, identity, boundary, caller, action, resource, ctx);
    }

    /// One public Allow whose only variable part is the condition block: every
    /// case is decided by the operators, so they are all exercised densely.
    #[test]
    fn conditions_agree_with_the_reference(condition in condition(), pairs in context()) {
        let mut statement = json!({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "arn:aws:s3:::b/*"});
        if let Some(condition) = condition {
            statement["Condition"] = condition;
        }
        let bucket = json!({"Version": "2012-10-17", "Statement": [statement]});
        let mut ctx: Ctx = HashMap::new();
        for (k, values) in &pairs {
            ctx.entry(k.to_lowercase()).or_default().extend(values.iter().map(|v| v.to_string()));
        }
        let anonymous = &CALLERS[0];
        let expected = reference(&bucket, &[], None, anonymous, "s3:GetObject", "arn:aws:s3:::b/k", &ctx);
        let actual = engine(&bucket, &[], None, anonymous, "s3:GetObject", "arn:aws:s3:::b/k", &pairs);
        prop_assert_eq!(actual, expected, "bucket={} ctx={:?}", bucket, ctx);
    }
}
