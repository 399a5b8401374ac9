//! Entry points for the cargo-fuzz targets `range_conditional` and
//! `post_form` (`fuzz/`); not an API. They expose, unchanged, what a GET,
//! HEAD, CopyObject or conditional write does with the `Range` and
//! `If-*` headers s3s parsed, and the headers a POST form is authorized with.
use s3s::S3Error;
use s3s::dto::{ETagCondition, Range, Timestamp};
use strongbox_engine::{EngineError, Expect};
use strongbox_meta::ObjectRecord;

pub use crate::post_form::condition_headers;

/// What [`plan_read`] decides: the byte range, the Content-Range value, the parts count.
pub type ReadPlan = (std::ops::Range<u64>, Option<String>, Option<i32>);

/// The byte range a GET/HEAD serves.
pub fn plan_read(o: &ObjectRecord, range: Option<&Range>, part_number: Option<i32>) -> Result<ReadPlan, S3Error> {
    crate::s3::plan_read(o, range, part_number)
}

/// GET/HEAD preconditions, in S3's order; a failed If-None-Match /
/// If-Modified-Since is [`EngineError::NotModified`].
pub fn preconditions(
    o: &ObjectRecord,
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
    if_modified_since: Option<&Timestamp>,
    if_unmodified_since: Option<&Timestamp>,
) -> Result<(), EngineError> {
    let pre = crate::s3::Preconditions {
        if_match,
        if_none_match,
        if_modified_since,
        if_unmodified_since,
    };
    pre.check(o, EngineError::NotModified)
}

/// The error a failed GET/HEAD precondition is answered with.
pub fn precondition_error(e: EngineError, o: &ObjectRecord) -> S3Error {
    crate::s3::precondition_error(e, o)
}

/// The `x-amz-copy-source-range` of UploadPartCopy against a source of `size` bytes.
pub fn copy_range(v: Option<&str>, size: u64) -> Result<std::ops::Range<u64>, S3Error> {
    crate::s3::copy_range(v, size)
}

/// What a conditional write's If-Match / If-None-Match require.
pub fn write_expect(
    if_match: Option<&ETagCondition>,
    if_none_match: Option<&ETagCondition>,
) -> Result<Expect, S3Error> {
    crate::s3::write_expect(if_match, if_none_match)
}
