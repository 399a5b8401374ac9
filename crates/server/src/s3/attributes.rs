//! GetObjectAttributes: the object's metadata without its body, as the SDKs'
//! checksum helpers and `aws s3api get-object-attributes` read it.
use super::StrongboxS3;
use super::convert::{ChecksumOut, engine, timestamp};
use super::sse::check_customer_key;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use strongbox_engine::ChecksumAlgorithm;
use strongbox_meta::{ObjectRecord, Segment};

/// S3's default and largest page of parts.
const MAX_PARTS: i32 = 1000;

const KNOWN: [&str; 5] = [
    ObjectAttributes::CHECKSUM,
    ObjectAttributes::ETAG,
    ObjectAttributes::OBJECT_PARTS,
    ObjectAttributes::OBJECT_SIZE,
    ObjectAttributes::STORAGE_CLASS,
];

impl StrongboxS3 {
    pub(super) async fn do_get_object_attributes(
        &self,
        req: S3Request<GetObjectAttributesInput>,
    ) -> S3Result<S3Response<GetObjectAttributesOutput>> {
        let ctx = super::context(&req)?;
        let i = &req.input;
        let customer = crate::s3::sse::customer_key!(ctx, i)?;
        // One header value may list several attributes ("ETag, ObjectSize").
        let wanted: Vec<&str> = i
            .object_attributes
            .iter()
            .flat_map(|a| a.as_str().split(','))
            .map(str::trim)
            .filter(|a| !a.is_empty())
            .collect();
        if wanted.is_empty() || wanted.iter().any(|a| !KNOWN.contains(a)) {
            return Err(s3_error!(InvalidArgument, "Invalid attribute name specified."));
        }
        let max_parts = i.max_parts.unwrap_or(MAX_PARTS);
        if max_parts < 0 {
            return Err(s3_error!(InvalidArgument, "max-parts must be a non-negative integer"));
        }
        let marker = i.part_number_marker.unwrap_or(0);
        if marker < 0 {
            return Err(s3_error!(
                InvalidArgument,
                "part-number-marker must be a non-negative integer"
            ));
        }
        let o = engine(
            self.engine
                .object_version(&i.bucket, &i.key, i.version_id.as_deref())
                .await,
        )?;
        // As HEAD: an SSE-C object is described only to the holder of its key.
        check_customer_key(&o.doc.encryption, customer.as_ref())?;
        let has = |a: &str| wanted.contains(&a);
        let mut out = GetObjectAttributesOutput {
            last_modified: Some(timestamp(o.last_modified_ms)),
            ..Default::default()
        };
        if has(ObjectAttributes::ETAG) {
            // GetObjectAttributes reports the ETag without quotes.
            out.e_tag = Some(ETag::Strong(o.etag.clone()));
        }
        if has(ObjectAttributes::OBJECT_SIZE) {
            out.object_size = i64::try_from(o.size).ok();
        }
        if has(ObjectAttributes::STORAGE_CLASS) {
            out.storage_class = Some(StorageClass::from_static(StorageClass::STANDARD));
        }
        if has(ObjectAttributes::CHECKSUM) && o.doc.checksum.is_some() {
            let c = ChecksumOut::of_object(&o);
            out.checksum = Some(Checksum {
                checksum_crc32: c.crc32,
                checksum_crc32c: c.crc32c,
                checksum_crc64nvme: c.crc64nvme,
                checksum_sha1: c.sha1,
                checksum_sha256: c.sha256,
                checksum_type: c.kind,
                ..Default::default()
            });
        }
        if has(ObjectAttributes::OBJECT_PARTS) {
            out.object_parts = object_parts(&o, marker, max_parts);
        }
        Ok(S3Response::new(out))
    }
}

/// A page of a multipart object's parts (none for a single-PUT object). As
/// S3, the parts themselves are listed only when they carry a checksum.
fn object_parts(o: &ObjectRecord, marker: i32, max: i32) -> Option<GetObjectAttributesParts> {
    let multipart = o.doc.segments.iter().any(|s| s.part_number > 0);
    if !multipart {
        return None;
    }
    let total = i32::try_from(o.doc.segments.len()).unwrap_or(i32::MAX);
    let algorithm = o
        .doc
        .checksum
        .as_ref()
        .and_then(|c| ChecksumAlgorithm::parse(&c.algorithm));
    let mut page = GetObjectAttributesParts {
        total_parts_count: Some(total),
        part_number_marker: Some(marker),
        max_parts: Some(max),
        is_truncated: Some(false),
        ..Default::default()
    };
    let Some(algorithm) = algorithm else {
        return Some(page);
    };
    let after = o
        .doc
        .segments
        .iter()
        .filter(|s| i64::from(s.part_number) > i64::from(marker));
    let take = usize::try_from(max).unwrap_or(0);
    let shown: Vec<&Segment> = after.clone().take(take).collect();
    let truncated = after.count() > shown.len();
    page.is_truncated = Some(truncated);
    if truncated {
        page.next_part_number_marker = shown.last().and_then(|s| i32::try_from(s.part_number).ok());
    }
    page.parts = Some(shown.iter().map(|s| part(s, algorithm)).collect());
    Some(page)
}

fn part(s: &Segment, algorithm: ChecksumAlgorithm) -> ObjectPart {
    let mut p = ObjectPart {
        part_number: i32::try_from(s.part_number).ok(),
        size: i64::try_from(s.size).ok(),
        ..Default::default()
    };
    let v = s.checksum.clone();
    match algorithm {
        ChecksumAlgorithm::Crc32 => p.checksum_crc32 = v,
        ChecksumAlgorithm::Crc32c => p.checksum_crc32c = v,
        ChecksumAlgorithm::Crc64Nvme => p.checksum_crc64nvme = v,
        ChecksumAlgorithm::Sha1 => p.checksum_sha1 = v,
        ChecksumAlgorithm::Sha256 => p.checksum_sha256 = v,
    }
    p
}
