//! Conversions between s3s DTOs and engine values, and the per-request
//! checks every object operation shares (checksums, preconditions).
use super::s3_err;
use http::HeaderMap;
use s3s::dto::{self, ETag, ETagCondition, Timestamp};
use s3s::{S3Error, S3ErrorCode, S3Result, TrailingHeaders, s3_error};
use strongbox_engine::{ChecksumAlgorithm, Digests, EngineError, checksum};
use strongbox_meta::{ObjectRecord, Tag};
use strongbox_types::{InvalidValue, ObjectKey};

pub(crate) fn object_key(key: &str) -> S3Result<ObjectKey> {
    ObjectKey::parse(key).map_err(|e| match e {
        InvalidValue::KeyTooLong => s3_error!(KeyTooLongError, "Your key is too long"),
        other => S3Error::with_message(S3ErrorCode::InvalidArgument, other.to_string()),
    })
}

/// Epoch milliseconds as a timestamp. One the calendar cannot hold (past
/// year 9999; only a damaged record has it) is shown as the epoch, like a
/// negative one, instead of panicking in the conversion.
pub(crate) fn timestamp(ms: i64) -> Timestamp {
    let nanos = i128::from(ms.max(0)) * 1_000_000;
    Timestamp::from(time::OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(time::OffsetDateTime::UNIX_EPOCH))
}

/// Seconds since the epoch of a timestamp (HTTP dates have second precision).
pub(crate) fn epoch_secs(t: &Timestamp) -> i64 {
    time::OffsetDateTime::from(t.clone()).unix_timestamp()
}

pub(crate) fn etag(value: &str) -> ETag {
    ETag::Strong(value.to_owned())
}

pub(crate) fn user_meta(m: Option<dto::Metadata>) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = m
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k.to_ascii_lowercase(), v))
        .collect();
    v.sort();
    v
}

pub(crate) fn metadata_dto(m: &[(String, String)]) -> Option<dto::Metadata> {
    (!m.is_empty()).then(|| m.iter().cloned().collect())
}

/// Parses the `x-amz-tagging` header (URL-encoded query form).
pub(crate) fn tagging_header(h: Option<&str>) -> S3Result<Vec<Tag>> {
    let Some(h) = h.filter(|h| !h.is_empty()) else {
        return Ok(vec![]);
    };
    h.split('&')
        .map(|pair| {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            let dec = |s: &str| {
                percent_encoding::percent_decode_str(&s.replace('+', " "))
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| s3_error!(InvalidArgument, "The header 'x-amz-tagging' shall be encoded as UTF-8 then URLEncoded URL query parameters without tag name duplicates."))
            };
            Ok(Tag { key: dec(k)?, value: dec(v)? })
        })
        .collect()
}

pub(crate) fn tags_from_dto(t: dto::Tagging) -> Vec<Tag> {
    t.tag_set
        .into_iter()
        .map(|t| Tag {
            key: t.key.unwrap_or_default(),
            value: t.value.unwrap_or_default(),
        })
        .collect()
}

pub(crate) fn tags_to_dto(t: &[Tag]) -> dto::TagSet {
    t.iter()
        .map(|t| dto::Tag {
            key: Some(t.key.clone()),
            value: Some(t.value.clone()),
        })
        .collect()
}

pub(crate) fn checksum_algorithm(a: Option<&dto::ChecksumAlgorithm>) -> S3Result<Option<ChecksumAlgorithm>> {
    a.map(|a| {
        ChecksumAlgorithm::parse(a.as_str())
            .ok_or_else(|| s3_error!(InvalidRequest, "Value for x-amz-checksum-algorithm header is invalid."))
    })
    .transpose()
}

/// What a request says about its body's integrity, checked once the body is in.
pub(crate) struct ChecksumPlan {
    content_md5: Option<Vec<u8>>,
    expected: Vec<(ChecksumAlgorithm, Vec<u8>)>,
    trailer: Option<ChecksumAlgorithm>,
    trailing: Option<TrailingHeaders>,
    requested: Option<ChecksumAlgorithm>,
}

/// The `x-amz-checksum-*` header values of a request, by algorithm.
pub(crate) struct ChecksumHeaders<'a> {
    pub crc32: Option<&'a String>,
    pub crc32c: Option<&'a String>,
    pub crc64nvme: Option<&'a String>,
    pub sha1: Option<&'a String>,
    pub sha256: Option<&'a String>,
}

impl ChecksumPlan {
    pub fn new(
        headers: &HeaderMap,
        values: ChecksumHeaders<'_>,
        algorithm: Option<&dto::ChecksumAlgorithm>,
        content_md5: Option<&String>,
        trailing: Option<TrailingHeaders>,
    ) -> S3Result<Self> {
        let content_md5 = content_md5
            .map(|v| {
                checksum::from_b64(v)
                    .filter(|d| d.len() == 16)
                    .ok_or_else(|| s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."))
            })
            .transpose()?;
        // s3s drops an empty header's value; S3 rejects it like any other malformed digest.
        if content_md5.is_none() && headers.contains_key("content-md5") {
            return Err(s3_error!(InvalidDigest, "The Content-MD5 you specified was invalid."));
        }
        let mut expected = vec![];
        for (alg, v) in [
            (ChecksumAlgorithm::Crc32, values.crc32),
            (ChecksumAlgorithm::Crc32c, values.crc32c),
            (ChecksumAlgorithm::Crc64Nvme, values.crc64nvme),
            (ChecksumAlgorithm::Sha1, values.sha1),
            (ChecksumAlgorithm::Sha256, values.sha256),
        ] {
            if let Some(v) = v {
                let raw = checksum::from_b64(v).filter(|r| r.len() == checksum::checksum_of(alg, b"").len());
                let raw = raw.ok_or_else(|| {
                    S3Error::with_message(
                        S3ErrorCode::InvalidRequest,
                        format!("Value for {} header is invalid.", alg.header_name()),
                    )
                })?;
                expected.push((alg, raw));
            }
        }
        if expected.len() > 1 {
            return Err(s3_error!(
                InvalidRequest,
                "Expecting a single x-amz-checksum- header. Multiple checksum Types are not allowed."
            ));
        }
        let trailer = headers
            .get("x-amz-trailer")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().strip_prefix("x-amz-checksum-"))
            .and_then(ChecksumAlgorithm::parse);
        let requested = checksum_algorithm(algorithm)?;
        if let Some(r) = requested
            && expected.is_empty()
            && trailer.is_none()
            && !headers.contains_key(r.header_name().as_str())
        {
            return Err(S3Error::with_message(
                S3ErrorCode::InvalidRequest,
                format!(
                    "x-amz-sdk-checksum-algorithm specified, but no corresponding {} header or trailer was found.",
                    r.header_name()
                ),
            ));
        }
        Ok(Self {
            content_md5,
            expected,
            trailer,
            trailing,
            requested,
        })
    }

    /// The checksum stored with the object: the one the client sent, or
    /// CRC64NVME (what S3 computes by default for new objects).
    pub fn stored(&self) -> ChecksumAlgorithm {
        self.expected
            .first()
            .map(|(a, _)| *a)
            .or(self.trailer)
            .or(self.requested)
            .unwrap_or(ChecksumAlgorithm::Crc64Nvme)
    }

    pub fn compute(&self) -> Vec<ChecksumAlgorithm> {
        let mut v: Vec<ChecksumAlgorithm> = self.expected.iter().map(|(a, _)| *a).collect();
        v.extend(self.trailer);
        v.push(self.stored());
        v.sort_by_key(|a| a.as_str());
        v.dedup();
        v
    }

    /// Compares what arrived with what the request (and its trailer) promised.
    pub fn verify(&self, d: &Digests) -> Result<(), EngineError> {
        if let Some(md5) = &self.content_md5
            && md5.as_slice() != d.md5.as_slice()
        {
            return Err(EngineError::BadDigest(
                "The Content-MD5 you specified did not match what we received.".into(),
            ));
        }
        for (alg, want) in &self.expected {
            if d.get(*alg) != Some(want.as_slice()) {
                return Err(mismatch(*alg));
            }
        }
        if let Some(alg) = self.trailer {
            let name = alg.header_name();
            let sent = self
                .trailing
                .as_ref()
                .and_then(|t| t.read(|h| h.get(name.as_str()).and_then(|v| v.to_str().ok()).map(str::to_owned)))
                .flatten();
            let Some(sent) = sent else {
                return Err(EngineError::InvalidRequest(format!(
                    "The {name} trailer was declared but not sent."
                )));
            };
            let sent = checksum::from_b64(&sent)
                .ok_or_else(|| EngineError::InvalidRequest(format!("Value for {name} trailing header is invalid.")))?;
            if d.get(alg) != Some(sent.as_slice()) {
                return Err(mismatch(alg));
            }
        }
        Ok(())
    }
}

fn mismatch(alg: ChecksumAlgorithm) -> EngineError {
    EngineError::BadDigest(format!(
        "The {} you specified did not match the calculated checksum.",
        alg.as_str()
    ))
}

/// The checksum header fields every response DTO carries, filled from one value.
#[derive(Default)]
pub(crate) struct ChecksumOut {
    pub crc32: Option<String>,
    pub crc32c: Option<String>,
    pub crc64nvme: Option<String>,
    pub sha1: Option<String>,
    pub sha256: Option<String>,
    pub kind: Option<dto::ChecksumType>,
}

impl ChecksumOut {
    pub fn of(algorithm: &str, value: &str, kind: Option<&str>) -> Self {
        let mut out = Self {
            kind: kind.map(|k| dto::ChecksumType::from(k.to_owned())),
            ..Self::default()
        };
        let v = Some(value.to_owned());
        match ChecksumAlgorithm::parse(algorithm) {
            Some(ChecksumAlgorithm::Crc32) => out.crc32 = v,
            Some(ChecksumAlgorithm::Crc32c) => out.crc32c = v,
            Some(ChecksumAlgorithm::Crc64Nvme) => out.crc64nvme = v,
            Some(ChecksumAlgorithm::Sha1) => out.sha1 = v,
            Some(ChecksumAlgorithm::Sha256) => out.sha256 = v,
            None => {}
        }
        out
    }

    pub fn of_object(o: &ObjectRecord) -> Self {
        o.doc
            .checksum
            .as_ref()
            .map(|c| Self::of(&c.algorithm, &c.value, Some(&c.kind)))
            .unwrap_or_default()
    }
}

/// Assigns the checksum fields of a response DTO.
macro_rules! set_checksums {
    ($out:expr, $c:expr) => {{
        let c = $c;
        $out.checksum_crc32 = c.crc32;
        $out.checksum_crc32c = c.crc32c;
        $out.checksum_crc64nvme = c.crc64nvme;
        $out.checksum_sha1 = c.sha1;
        $out.checksum_sha256 = c.sha256;
    }};
}
pub(crate) use set_checksums;

/// Conditional request headers of GET/HEAD/CopyObject-source, in S3's order of evaluation.
pub(crate) struct Preconditions<'a> {
    pub if_match: Option<&'a ETagCondition>,
    pub if_none_match: Option<&'a ETagCondition>,
    pub if_modified_since: Option<&'a Timestamp>,
    pub if_unmodified_since: Option<&'a Timestamp>,
}

impl Preconditions<'_> {
    /// `not_modified` is the outcome of a failed If-None-Match / If-Modified-Since:
    /// 304 for GET and HEAD, 412 for a copy source.
    pub fn check(&self, o: &ObjectRecord, not_modified: EngineError) -> Result<(), EngineError> {
        let matches = |c: &ETagCondition| match c {
            ETagCondition::Any => true,
            ETagCondition::ETag(t) => t.value() == o.etag,
        };
        let modified_secs = o.last_modified_ms / 1000;
        match (self.if_match, self.if_unmodified_since) {
            (Some(c), _) if !matches(c) => return Err(EngineError::PreconditionFailed),
            (None, Some(t)) if modified_secs > epoch_secs(t) => {
                return Err(EngineError::PreconditionFailed);
            }
            _ => {}
        }
        match (self.if_none_match, self.if_modified_since) {
            (Some(c), _) if matches(c) => Err(not_modified),
            (None, Some(t)) if modified_secs <= epoch_secs(t) => Err(not_modified),
            _ => Ok(()),
        }
    }
}

/// What a conditional write's If-Match / If-None-Match headers require.
pub(crate) fn write_expect(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> S3Result<strongbox_engine::Expect> {
    use strongbox_engine::Expect;
    match (if_match, if_none_match) {
        (None, None) => Ok(Expect::Any),
        (Some(ETagCondition::ETag(t)), None) => Ok(Expect::ETag(t.value().to_owned())),
        (None, Some(ETagCondition::Any)) => Ok(Expect::Absent),
        (Some(ETagCondition::Any), None) => Err(s3_error!(NotImplemented, "If-Match: * is not supported for writes")),
        (None, Some(ETagCondition::ETag(_))) => {
            Err(s3_error!(NotImplemented, "If-None-Match on a write only accepts *"))
        }
        (Some(_), Some(_)) => Err(s3_error!(
            NotImplemented,
            "If-Match and If-None-Match cannot be combined on a write"
        )),
    }
}

/// Content-Type S3 stores when the client sends none.
pub(crate) const DEFAULT_CONTENT_TYPE: &str = "binary/octet-stream";

pub(crate) fn content_type_or_default(t: Option<&dto::ContentType>) -> Option<String> {
    Some(t.map_or_else(|| DEFAULT_CONTENT_TYPE.to_owned(), ToString::to_string))
}

/// The error for a failed GET/HEAD precondition; a 304 carries the
/// validators (ETag, Last-Modified) as HTTP requires.
pub(crate) fn precondition_error(e: EngineError, o: &ObjectRecord) -> S3Error {
    let not_modified = matches!(e, EngineError::NotModified);
    let mut err = s3_err(e);
    if not_modified {
        let mut h = HeaderMap::new();
        if let Ok(v) = http::HeaderValue::from_str(&format!("\"{}\"", o.etag)) {
            h.insert(http::header::ETAG, v);
        }
        let mut date = Vec::new();
        if timestamp(o.last_modified_ms)
            .format(dto::TimestampFormat::HttpDate, &mut date)
            .is_ok()
            && let Ok(v) = http::HeaderValue::from_bytes(&date)
        {
            h.insert(http::header::LAST_MODIFIED, v);
        }
        err.set_headers(h);
    }
    err
}

pub(crate) fn engine<T>(r: Result<T, EngineError>) -> S3Result<T> {
    r.map_err(s3_err)
}
