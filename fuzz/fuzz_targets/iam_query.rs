//! IAM Query-protocol input (`Action=...&Version=...` in the query string and
//! an `application/x-www-form-urlencoded` body): the parameter decoding
//! (`Params::parse`: `+`, `%XX`, UTF-8), lookups, flags, pagination
//! (`Page`) and the value validators every IAM action runs, and the
//! `<ErrorResponse>` a refusal is answered with (it echoes input back).
//! This input is read after SigV4 authentication; STS requests are decoded
//! by the same `Params` (their session tokens: target `sts_token`).
//!
//! Input: the first line is the query string (none if the input has no
//! newline), the rest the body.
//!
//! Oracles:
//! - nothing panics;
//! - each validator accepts only what its AWS pattern allows (names
//!   `[\w+=,.@-]{1,max}`, paths `/.../`, version ids `v[1-9][0-9]*`,
//!   access key ids `[\w]{16,128}`, length limits);
//! - a page never has more than MaxItems items, starts at the marker, and
//!   has a next marker exactly when items were left out;
//! - every error is a 4xx with a non-empty code, and (checked for the
//!   first two errors of each input) its XML carries the message escaped so that unescaping gives it back (control characters
//!   other than tab/CR/LF replaced by U+FFFD), with no stray markup.
#![no_main]

use libfuzzer_sys::fuzz_target;
use strongbox_iam::IamError;
use strongbox_iam::fuzzing as iam;

const NAMES: [&str; 22] = [
    "Action",
    "Version",
    "UserName",
    "NewUserName",
    "GroupName",
    "PolicyName",
    "Path",
    "NewPath",
    "PathPrefix",
    "PolicyArn",
    "PolicyDocument",
    "VersionId",
    "AccessKeyId",
    "Description",
    "Marker",
    "MaxItems",
    "Status",
    "SetAsDefault",
    "OnlyAttached",
    "Scope",
    "PolicyUsageFilter",
    "Tags.member.1.Key",
];

thread_local! {
    static XML_CHECKS: std::cell::Cell<u32> = const { std::cell::Cell::new(0) };
}

fuzz_target!(|data: &[u8]| {
    XML_CHECKS.with(|n| n.set(2));
    let (query, body) = match data.iter().position(|&b| b == b'\n') {
        Some(i) => (std::str::from_utf8(&data[..i]).ok(), &data[i + 1..]),
        None => (None, data),
    };
    let params = match iam::Params::parse(query, body) {
        Ok(p) => p,
        Err(e) => return error(&e),
    };
    for name in NAMES {
        if let Some(v) = params.get(name) {
            values(v);
        }
        match params.flag(name) {
            Ok(true) => assert!(params.get(name).is_some_and(|v| v.eq_ignore_ascii_case("true"))),
            Ok(false) => assert!(params.get(name).is_none_or(|v| v.eq_ignore_ascii_case("false"))),
            Err(e) => error(&e),
        }
        if let Err(e) = params.required(name, "field") {
            assert!(params.get(name).is_none());
            error(&e);
        }
    }
    match iam::Page::from(&params) {
        Ok(page) => pages(&page, &params),
        Err(e) => error(&e),
    }
});

fn values(v: &str) {
    let chars = v.chars().count();
    let word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    for max in [
        iam::USER_NAME_MAX,
        iam::EXISTING_NAME_MAX,
        iam::GROUP_NAME_MAX,
        iam::POLICY_NAME_MAX,
    ] {
        match iam::name("userName", v, max) {
            Ok(()) => assert!((1..=max).contains(&chars) && v.bytes().all(|b| word(b) || b"+=,.@-".contains(&b))),
            Err(e) => error(&e),
        }
    }
    match iam::path("path", v) {
        Ok(()) => assert!(v.starts_with('/') && v.ends_with('/') && chars <= 512 && !v.contains(char::is_whitespace)),
        Err(e) => error(&e),
    }
    match iam::path_prefix("pathPrefix", v) {
        Ok(()) => assert!(v.starts_with('/') && chars <= 512 && !v.contains(char::is_whitespace)),
        Err(e) => error(&e),
    }
    match iam::arn("policyArn", v) {
        Ok(()) => assert!((20..=2048).contains(&chars)),
        Err(e) => error(&e),
    }
    match iam::document("policyDocument", v) {
        Ok(()) => assert!((1..=131_072).contains(&chars) && v.chars().all(|c| c as u32 <= 0xff)),
        Err(e) => error(&e),
    }
    match iam::version_id("versionId", v) {
        Ok(()) => {
            let d = &v[1..];
            assert!(
                v.starts_with('v') && !d.is_empty() && !d.starts_with('0') && d.bytes().all(|b| b.is_ascii_digit())
            );
        }
        Err(e) => error(&e),
    }
    match iam::access_key_id("accessKeyId", v) {
        Ok(()) => assert!((16..=128).contains(&chars) && v.bytes().all(word)),
        Err(e) => error(&e),
    }
    match iam::description("description", v) {
        Ok(()) => assert!(chars <= 1000),
        Err(e) => error(&e),
    }
}

/// More items than the largest page (MaxItems is at most 1000).
static ITEMS: std::sync::LazyLock<Vec<String>> =
    std::sync::LazyLock::new(|| (0..1200).map(|i| format!("u{i:04}")).collect());

fn pages(page: &iam::Page, params: &iam::Params) {
    let items: &[String] = &ITEMS;
    let (got, next) = page.apply(items.iter().map(String::as_str).collect(), |s| (*s).to_owned());
    let max: usize = params.get("MaxItems").map_or(100, |v| v.parse().unwrap_or(0));
    assert!(got.len() <= max);
    let from = params
        .get("Marker")
        .map_or(0, |m| items.partition_point(|i| i.as_str() < m));
    assert!(got.iter().eq(items[from..(from + got.len())].iter()));
    assert_eq!(next.as_deref(), items.get(from + got.len()).map(String::as_str));
}

fn error(e: &IamError) {
    assert!(e.status().is_client_error(), "{e:?}");
    assert!(!e.code().is_empty());
    // The XML check costs far more than the validators (a dozen errors per
    // input): it is done for the first two errors of each input.
    if XML_CHECKS.with(|n| n.replace(n.get().saturating_sub(1))) == 0 {
        return;
    }
    let message = e.to_string();
    let xml = iam::error_xml(e, "req-1");
    let inner = xml
        .split_once("<Message>")
        .and_then(|(_, rest)| rest.split_once("</Message>"))
        .map(|(m, _)| m)
        .expect("the error XML has a Message");
    assert!(!inner.contains(['<', '>']), "markup inside Message: {inner:?}");
    let unescaped = inner
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&");
    let expected: String = message
        .chars()
        .map(|c| {
            if c.is_control() && !matches!(c, '\t' | '\n' | '\r') {
                '\u{FFFD}'
            } else {
                c
            }
        })
        .collect();
    assert_eq!(unescaped, expected);
}
