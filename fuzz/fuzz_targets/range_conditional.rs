//! The `Range` and conditional (`If-Match`, `If-None-Match`,
//! `If-Modified-Since`, `If-Unmodified-Since`) headers of GET, HEAD,
//! CopyObject and conditional writes, parsed as s3s parses them
//! (`Range::parse`, `ETagCondition::parse_http_header`,
//! `Timestamp::parse(HttpDate)`) and then applied by Strongbox's server
//! (`plan_read`, the `Preconditions` check, `write_expect`, the 304/412
//! error, UploadPartCopy's `copy_range`), plus the bucket-name and object-key validation of the request
//! path. A public-read object sees these from anyone.
//!
//! Input: lines `Range`, `If-Match`, `If-None-Match`, `If-Modified-Since`,
//! `If-Unmodified-Since`, `partNumber`, the object's ETag, its size, its
//! last-modified milliseconds, its part sizes (comma-separated), a bucket
//! name and an object key. A missing line is an absent header.
//!
//! Oracles:
//! - nothing panics (no overflow on huge sizes, offsets or dates);
//! - an accepted Range re-renders (`to_header_string`) to one that parses
//!   the same; a satisfiable range is non-empty, inside the object, starts
//!   at `first` (or ends at the end for a suffix) and is what `plan_read`
//!   serves, with `Content-Range: bytes A-B/SIZE`; Range with partNumber is
//!   refused; a part's range is that part's bytes; a suffix range of an
//!   empty object is served as the whole empty object (200, as AWS);
//! - `x-amz-copy-source-range` is accepted only as `bytes=FIRST-LAST` in
//!   decimal digits with FIRST <= LAST < size;
//! - preconditions follow S3's order (If-Match, else If-Unmodified-Since,
//!   then If-None-Match, else If-Modified-Since) with 412 / 304, and a 304
//!   carries the quoted ETag and an HTTP-date Last-Modified;
//! - writes map (If-Match: etag, If-None-Match: *) to the expectations and
//!   refuse the rest;
//! - a valid bucket name is 3-63 lower-case letters, digits, dots and
//!   hyphens; a valid key is 1-1024 bytes without NUL.
#![no_main]

use libfuzzer_sys::fuzz_target;
use s3s::dto::{ETagCondition, Range, Timestamp, TimestampFormat};
use strongbox_engine::{EngineError, Expect};
use strongbox_meta::{ContentHeaders, EncryptionRecord, ObjectDoc, ObjectRecord, Segment};
use strongbox_server::fuzzing as server;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let mut lines = text.split('\n');
    let mut next = || lines.next().filter(|l| !l.is_empty());
    let (raw_range, if_match, if_none_match, ims, ius) = (next(), next(), next(), next(), next());
    let part_number = next().and_then(|l| l.parse::<i32>().ok());
    let etag = next().unwrap_or("9b2cf535f27731c974343645a3985328").to_owned();
    let size = next().and_then(|l| l.parse::<u64>().ok());
    let last_modified_ms = next().and_then(|l| l.parse::<i64>().ok()).unwrap_or(1_700_000_000_000);
    let parts: Vec<u64> = next()
        .map(|l| l.split(',').filter_map(|p| p.parse().ok()).collect())
        .unwrap_or_default();
    let (bucket, key) = (next(), next());

    let segments: Vec<Segment> = if parts.is_empty() {
        vec![Segment {
            blob_id: "b0".into(),
            size: size.unwrap_or(0),
            ..Default::default()
        }]
    } else {
        parts
            .iter()
            .enumerate()
            .map(|(i, &s)| Segment {
                blob_id: format!("b{i}"),
                size: s,
                part_number: i as u32 + 1,
                ..Default::default()
            })
            .collect()
    };
    let Some(total) = segments.iter().try_fold(0u64, |a, s| a.checked_add(s.size)) else {
        return;
    };
    let o = ObjectRecord {
        bucket: "amzn-s3-demo-bucket".into(),
        key: "k".into(),
        version_id: "null".into(),
        size: size.filter(|_| parts.is_empty()).unwrap_or(total),
        etag,
        last_modified_ms,
        doc: ObjectDoc {
            v: 1,
            content: ContentHeaders::default(),
            user_meta: Vec::new(),
            checksum: None,
            tags: Vec::new(),
            encryption: EncryptionRecord::default(),
            segments,
            upload_id: None,
        },
    };

    let range = raw_range.and_then(|r| Range::parse(r).ok());
    if let Some(r) = &range {
        check_range(r, &o);
    }
    check_plan(&o, range.as_ref(), part_number);
    check_copy_range(raw_range, o.size);

    let cond = |v: Option<&str>| v.and_then(|v| ETagCondition::parse_http_header(v.as_bytes()).ok());
    let date = |v: Option<&str>| v.and_then(|v| Timestamp::parse(TimestampFormat::HttpDate, v).ok());
    let (im, inm, ims, ius) = (cond(if_match), cond(if_none_match), date(ims), date(ius));
    check_preconditions(&o, im.as_ref(), inm.as_ref(), ims.as_ref(), ius.as_ref());
    check_write(im.as_ref(), inm.as_ref());

    if let Some(b) = bucket
        && strongbox_types::BucketName::parse(b).is_ok()
    {
        assert!((3..=63).contains(&b.len()));
        assert!(
            b.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
        );
    }
    if let Some(k) = key
        && strongbox_types::ObjectKey::parse(k).is_ok()
    {
        assert!((1..=1024).contains(&k.len()) && !k.contains('\0'));
    }
});

fn check_range(r: &Range, o: &ObjectRecord) {
    let again = Range::parse(&r.to_header_string()).expect("a rendered Range parses");
    assert_eq!(&again, r);
    if let Ok(got) = r.check(o.size) {
        // RFC 9110: a suffix range of an empty representation is satisfiable
        // and selects all of it, i.e. nothing; every other range is non-empty.
        let empty_suffix = matches!(r, Range::Suffix { .. }) && o.size == 0;
        assert!(
            got.end <= o.size && (got.start < got.end || empty_suffix),
            "{r:?} on {} gave {got:?}",
            o.size
        );
        match *r {
            Range::Int { first, last } => {
                assert_eq!(got.start, first);
                assert_eq!(got.end, last.map_or(o.size, |l| (l + 1).min(o.size)));
            }
            Range::Suffix { length } => {
                assert_eq!(got.end, o.size);
                assert_eq!(got.end - got.start, length.min(o.size));
            }
        }
    }
}

/// `x-amz-copy-source-range`: exactly `bytes=FIRST-LAST`, both decimal,
/// FIRST <= LAST < size; the range is FIRST..=LAST.
fn check_copy_range(v: Option<&str>, size: u64) {
    let Ok(got) = server::copy_range(v, size) else { return };
    let Some(v) = v else {
        assert_eq!(got, 0..size);
        return;
    };
    let (a, b) = v
        .strip_prefix("bytes=")
        .and_then(|r| r.split_once('-'))
        .expect("accepted a malformed range");
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit());
    assert!(digits(a) && digits(b), "accepted {v:?}");
    assert!(got.start < got.end && got.end <= size && got.start == a.parse::<u64>().unwrap_or(u64::MAX));
}

fn check_plan(o: &ObjectRecord, range: Option<&Range>, part_number: Option<i32>) {
    let planned = server::plan_read(o, range, part_number);
    match (range, part_number) {
        (Some(_), Some(_)) => assert!(planned.is_err()),
        (Some(r), None) => match (r.check(o.size), planned) {
            (Ok(want), Ok((got, content_range, parts))) if want.is_empty() => {
                // Served as the whole (empty) object, 200 without Content-Range, as AWS does.
                assert_eq!((got, content_range, parts), (want, None, None));
            }
            (Ok(want), Ok((got, content_range, parts))) => {
                assert_eq!(got, want);
                assert_eq!(
                    content_range,
                    Some(format!("bytes {}-{}/{}", want.start, want.end - 1, o.size))
                );
                assert_eq!(parts, None);
            }
            (Err(_), Err(_)) => {}
            (want, got) => panic!("plan_read disagrees with Range::check: {want:?} vs {got:?}"),
        },
        (None, Some(n)) => {
            let segs = &o.doc.segments;
            match planned {
                Ok((got, content_range, _)) => {
                    let i = usize::try_from(n).expect("a served part number is positive") - 1;
                    let start: u64 = segs[..i].iter().map(|s| s.size).sum();
                    assert_eq!(got, start..start + segs[i].size);
                    assert!(content_range.is_some());
                }
                Err(_) => assert!(n < 1 || usize::try_from(n).is_ok_and(|n| n > segs.len())),
            }
        }
        (None, None) => {
            let (got, content_range, parts) = planned.expect("a whole-object read is planned");
            assert_eq!((got, content_range, parts), (0..o.size, None, None));
        }
    }
}

fn check_preconditions(
    o: &ObjectRecord,
    im: Option<&ETagCondition>,
    inm: Option<&ETagCondition>,
    ims: Option<&Timestamp>,
    ius: Option<&Timestamp>,
) {
    let matches = |c: &ETagCondition| match c {
        ETagCondition::Any => true,
        ETagCondition::ETag(t) => t.value() == o.etag,
    };
    let secs = |t: &Timestamp| time::OffsetDateTime::from(t.clone()).unix_timestamp();
    let modified = o.last_modified_ms / 1000;
    let expected = if im.is_some_and(|c| !matches(c)) || (im.is_none() && ius.is_some_and(|t| modified > secs(t))) {
        Some(412)
    } else if inm.is_some_and(matches) || (inm.is_none() && ims.is_some_and(|t| modified <= secs(t))) {
        Some(304)
    } else {
        None
    };
    let got = server::preconditions(o, im, inm, ims, ius);
    match (&got, expected) {
        (Ok(()), None) => {}
        (Err(EngineError::PreconditionFailed), Some(412)) => {}
        (Err(EngineError::NotModified), Some(304)) => {
            let e = server::precondition_error(EngineError::NotModified, o);
            assert_eq!(e.status_code().map(|s| s.as_u16()), Some(304));
            let h = e.headers().expect("a 304 carries validators");
            if let Some(v) = h.get(http::header::ETAG) {
                assert_eq!(v.as_bytes(), format!("\"{}\"", o.etag).as_bytes());
            }
            let lm = h.get(http::header::LAST_MODIFIED).expect("a 304 has Last-Modified");
            let lm = lm.to_str().expect("Last-Modified is ASCII");
            assert!(Timestamp::parse(TimestampFormat::HttpDate, lm).is_ok(), "{lm:?}");
        }
        _ => panic!("preconditions gave {got:?}, S3's order gives {expected:?}"),
    }
}

fn check_write(im: Option<&ETagCondition>, inm: Option<&ETagCondition>) {
    let got = server::write_expect(im, inm);
    match (im, inm) {
        (None, None) => assert!(matches!(got, Ok(Expect::Any))),
        (Some(ETagCondition::ETag(t)), None) => assert!(matches!(got, Ok(Expect::ETag(v)) if v == t.value())),
        (None, Some(ETagCondition::Any)) => assert!(matches!(got, Ok(Expect::Absent))),
        _ => assert!(got.is_err()),
    }
}
