//! Browser POST uploads (`POST /bucket`, multipart/form-data): s3s parses the
//! whole form (`transform_multipart`) and its policy (`PostPolicy`) and
//! extracts the signature fields (`PostSignatureV4/V2::extract`) before it
//! can check any signature, so every byte here is unauthenticated.
//!
//! Input: byte 0 is flags (bit 0: the harness builds the form from the rest,
//! bit 1: pass the body length as Content-Length); bytes 1-3 split the body
//! into the pieces the parser receives; the rest is the raw body or, in
//! build mode, `name=value` lines, 0xFF, then the file content.
//! The boundary is fixed (`fuzzboundary`).
//!
//! Oracles:
//! - nothing panics and parsing ends (libFuzzer's -timeout);
//! - the parsed field table is lower-cased and sorted by name, within
//!   `MultipartLimits`;
//! - with Content-Length known, a file stream that ends without error
//!   yielded exactly `content_len` bytes;
//! - the headers Strongbox authorizes the upload with
//!   (`post_form::condition_headers`) take ACL, encryption and tagging from
//!   the form's fields, never from the request's own headers;
//! - a form the harness built (names and values free of CR/LF, quotes and
//!   the boundary) parses back to exactly its fields and file content;
//! - `PostPolicy::from_base64` of the base64 of a JSON policy equals
//!   `from_json` of it (the input, if UTF-8, is also tried as policy JSON).
#![no_main]

use bytes::Bytes;
use futures::StreamExt;
use http::{HeaderMap, HeaderValue};
use libfuzzer_sys::fuzz_target;
use s3s::dto::{PostObjectInput, Timestamp, TimestampFormat};
use s3s::post_policy::PostPolicy;
use s3s::{MultipartLimits, transform_multipart};

const BOUNDARY: &str = "fuzzboundary";
const LIMITS: MultipartLimits = MultipartLimits {
    max_field_size: 4096,
    max_fields_size: 16384,
    max_parts: 64,
};

type StdError = Box<dyn std::error::Error + Send + Sync + 'static>;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_at_checked(4) else {
        return;
    };
    let with_len = head[0] & 2 != 0;
    let splits = [head[1], head[2], head[3]];
    if head[0] & 1 != 0 {
        built(rest, with_len, &splits);
    } else {
        let _ = parse(rest, with_len, &splits);
    }
    if let Ok(text) = std::str::from_utf8(rest) {
        policy(text);
    }
});

struct Parsed {
    fields: Vec<(String, String)>,
    file: Option<Vec<u8>>,
}

fn parse(body: &[u8], with_len: bool, splits: &[u8; 3]) -> Option<Parsed> {
    let mut cuts: Vec<usize> = splits.iter().map(|&s| usize::from(s) * body.len() / 256).collect();
    cuts.sort_unstable();
    let mut pieces: Vec<Result<Bytes, StdError>> = Vec::new();
    let mut at = 0;
    for c in cuts.into_iter().chain([body.len()]) {
        pieces.push(Ok(Bytes::copy_from_slice(&body[at..c])));
        at = c;
    }
    let total = with_len.then_some(body.len() as u64);
    futures::executor::block_on(async move {
        let mut form = transform_multipart(futures::stream::iter(pieces), BOUNDARY.as_bytes(), LIMITS, total)
            .await
            .ok()?;
        let fields = form.fields().to_vec();
        assert!(fields.windows(2).all(|w| w[0].0 <= w[1].0), "fields not sorted");
        assert!(fields.iter().all(|(k, _)| !k.bytes().any(|b| b.is_ascii_uppercase())));
        assert!(fields.len() < LIMITS.max_parts);
        assert!(fields.iter().all(|(_, v)| v.len() <= LIMITS.max_field_size));
        for (name, value) in &fields {
            if form.fields().iter().filter(|(k, _)| k == name).count() == 1 {
                assert_eq!(form.find_field_value(name), Some(value.as_str()));
            }
        }
        signature_fields(&fields);
        condition_headers(&fields);
        if let Some(p) = form.find_field_value("policy") {
            let _ = PostPolicy::from_base64(p);
        }
        let mut stream = form.take_file_stream()?;
        let content_len = stream.content_len();
        let mut file = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(b) => {
                    file.extend_from_slice(&b);
                    assert!(file.len() <= body.len());
                }
                Err(_) => return Some(Parsed { fields, file: None }),
            }
        }
        if let Some(n) = content_len {
            assert_eq!(
                file.len() as u64,
                n,
                "file stream ended short of/over its content length"
            );
        }
        Some(Parsed {
            fields,
            file: Some(file),
        })
    })
}

fn signature_fields(fields: &[(String, String)]) {
    let once = |n: &str| fields.iter().filter(|(k, _)| k == n).count() == 1;
    if s3s_sigv4::PostSignatureV4::extract(fields).is_ok() {
        for n in [
            "policy",
            "x-amz-algorithm",
            "x-amz-credential",
            "x-amz-date",
            "x-amz-signature",
        ] {
            assert!(once(n), "{n}");
        }
    }
    if s3s_sigv2::PostSignatureV2::extract(fields).is_ok() {
        for n in ["policy", "awsaccesskeyid", "signature"] {
            assert!(once(n), "{n}");
        }
    }
}

/// The headers Strongbox authorizes a POST with (`post_form::condition_headers`)
/// come from the form's fields, never from the request's own headers.
fn condition_headers(fields: &[(String, String)]) {
    let get = |n: &str| fields.iter().rev().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let key = get("key").unwrap_or_default();
    let Ok(mut input) = PostObjectInput::builder()
        .bucket("amzn-s3-demo-bucket".into())
        .key(key)
        .build()
    else {
        return;
    };
    input.acl = get("acl").map(Into::into);
    input.grant_read = get("x-amz-grant-read");
    input.grant_read_acp = get("x-amz-grant-read-acp");
    input.grant_write_acp = get("x-amz-grant-write-acp");
    input.grant_full_control = get("x-amz-grant-full-control");
    input.server_side_encryption = get("x-amz-server-side-encryption").map(Into::into);
    input.ssekms_key_id = get("x-amz-server-side-encryption-aws-kms-key-id");
    input.sse_customer_algorithm = get("x-amz-server-side-encryption-customer-algorithm");
    input.storage_class = get("x-amz-storage-class").map(Into::into);
    input.object_lock_mode = get("x-amz-object-lock-mode").map(Into::into);
    input.object_lock_legal_hold_status = get("x-amz-object-lock-legal-hold").map(Into::into);
    input.object_lock_retain_until_date =
        get("x-amz-object-lock-retain-until-date").and_then(|v| Timestamp::parse(TimestampFormat::DateTime, &v).ok());
    input.tagging = get("tagging");
    let mut request = HeaderMap::new();
    request.insert("x-amz-server-side-encryption", HeaderValue::from_static("aws:kms"));
    request.insert("x-amz-acl", HeaderValue::from_static("public-read-write"));
    request.insert("x-amz-tagging", HeaderValue::from_static("a=b"));
    request.insert("user-agent", HeaderValue::from_static("fuzz/1"));
    let h = strongbox_server::fuzzing::condition_headers(&request, &input);
    assert_eq!(h.get("user-agent"), request.get("user-agent"));
    for (header, field) in [
        ("x-amz-server-side-encryption", "x-amz-server-side-encryption"),
        ("x-amz-acl", "acl"),
        ("x-amz-tagging", "tagging"),
    ] {
        if let Some(v) = h.get(header) {
            let field = get(field);
            let field = field.as_deref().map(str::as_bytes);
            assert_eq!(Some(v.as_bytes()), field, "{header} did not come from the form");
        }
    }
    for name in h.keys() {
        let n = name.as_str();
        assert!(
            n.starts_with("x-amz-") || ["user-agent", "referer", "host", "date"].contains(&n),
            "unexpected header {n}"
        );
    }
}

fn built(input: &[u8], with_len: bool, splits: &[u8; 3]) {
    let (lines, file) = match input.iter().position(|&b| b == 0xFF) {
        Some(i) => (&input[..i], &input[i + 1..]),
        None => (input, &[][..]),
    };
    // Field names: visible ASCII but the Content-Disposition delimiters.
    let clean = |s: &str| {
        !s.is_empty() && s.bytes().all(|b| b.is_ascii_graphic() && !b"\"\\;=".contains(&b)) && !s.contains(BOUNDARY)
    };
    let text = String::from_utf8_lossy(lines);
    let mut fields: Vec<(String, String)> = text
        .split('\n')
        .filter_map(|l| l.split_once('='))
        .filter(|(k, v)| {
            // A value longer than the field limit is refused, rightly (FieldTooLarge).
            clean(k)
                && !v.contains(['\r', '\n'])
                && !v.contains(BOUNDARY)
                && !k.eq_ignore_ascii_case("file")
                && v.len() < LIMITS.max_field_size
        })
        .map(|(k, v)| (k.trim().to_owned(), v.to_owned()))
        .filter(|(k, _)| clean(k))
        .take(LIMITS.max_parts - 2)
        .collect();
    if file.windows(BOUNDARY.len()).any(|w| w == BOUNDARY.as_bytes()) {
        return;
    }
    let mut body = Vec::new();
    for (k, v) in &fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n").as_bytes(),
        );
    }
    body.extend_from_slice(
        format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\n")
            .as_bytes(),
    );
    body.extend_from_slice(file);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    let parsed = parse(&body, with_len, splits).expect("a well-formed form parses");
    for (k, _) in &mut fields {
        k.make_ascii_lowercase();
    }
    fields.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(parsed.fields, fields);
    assert_eq!(parsed.file.as_deref(), Some(file), "file content differs");
}

fn policy(text: &str) {
    let Ok(p) = PostPolicy::from_json(text) else { return };
    let _ = p.content_length_range();
    let b64 = base64_encode(text.as_bytes());
    let q = PostPolicy::from_base64(&b64).expect("base64 of a parsing policy parses");
    assert_eq!(p.conditions, q.conditions);
    assert_eq!(format!("{:?}", p.expiration), format!("{:?}", q.expiration));
}

fn base64_encode(data: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in data.chunks(3) {
        let n =
            (u32::from(c[0]) << 16) | (u32::from(*c.get(1).unwrap_or(&0)) << 8) | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
