//! Bucket versioning (Put/GetBucketVersioning), ListObjectVersions, and the
//! `x-amz-version-id` every versioned answer carries.
use super::StrongboxS3;
use super::convert::{engine, etag, timestamp};
use super::list::Encoder;
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use strongbox_engine::{NULL_VERSION, VersionsQuery};
use strongbox_meta::{BucketRecord, BucketVersioning, VersioningState};

const DEFAULT_MAX_KEYS: i32 = 1000;

/// The listing order of a ListObjectVersions page: `true` for a delete
/// marker. s3s writes all `<Version>`s and then all `<DeleteMarker>`s; AWS
/// interleaves them in key and version order, and the outer service
/// restores that order with [`interleave`].
#[derive(Clone)]
pub(crate) struct VersionOrder(pub Vec<bool>);

/// Rewrites a ListVersionsResult body so its `<Version>` and
/// `<DeleteMarker>` elements follow `order`; `None` when the body is not
/// what s3s writes (then it is sent as it is).
pub(crate) fn interleave(body: &[u8], order: &[bool]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(body).ok()?;
    // Element contents are escaped XML: a literal `<Version>` only starts an element.
    let blocks = |open: &str, close: &str| -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut at = 0;
        while let Some(start) = text.get(at..).and_then(|t| t.find(open)).map(|i| at + i) {
            let Some(end) = text
                .get(start..)
                .and_then(|t| t.find(close))
                .map(|i| start + i + close.len())
            else {
                break;
            };
            out.push((start, end));
            at = end;
        }
        out
    };
    let versions = blocks("<Version>", "</Version>");
    let markers = blocks("<DeleteMarker>", "</DeleteMarker>");
    let markers_count = order.iter().filter(|m| **m).count();
    if versions.len() + markers.len() != order.len() || markers.len() != markers_count {
        return None;
    }
    let mut spans: Vec<(usize, usize)> = versions.iter().chain(&markers).copied().collect();
    spans.sort_unstable();
    let (mut v, mut m) = (versions.iter(), markers.iter());
    let mut merged = String::new();
    for is_marker in order {
        let (a, b) = if *is_marker { m.next()? } else { v.next()? };
        merged.push_str(text.get(*a..*b)?);
    }
    let close = text.rfind("</ListVersionsResult>")?;
    let mut out = String::with_capacity(text.len());
    let mut at = 0;
    for (a, b) in spans {
        out.push_str(text.get(at..a)?);
        at = b;
    }
    if at > close {
        return None;
    }
    out.push_str(text.get(at..close)?);
    out.push_str(&merged);
    out.push_str(text.get(close..)?);
    Some(out.into_bytes())
}

/// The `x-amz-version-id` of an answer about `version_id`: none for a bucket
/// that never had versioning (its objects' `null` is not shown, as AWS).
pub(super) fn shown_version(bucket: &BucketRecord, version_id: &str) -> Option<String> {
    (version_id != NULL_VERSION || bucket.versioning_state() != VersioningState::Unversioned)
        .then(|| version_id.to_owned())
}

/// AWS's answer to a request MFA Delete covers that came without a code.
fn mfa_required() -> s3s::S3Error {
    s3_error!(AccessDenied, "Mfa Authentication must be used for this request")
}

impl StrongboxS3 {
    /// MFA Delete: the request's `x-amz-mfa` ("SERIAL CODE") must be a
    /// valid, unused code of the bucket owner's root device, sent over HTTPS.
    pub(super) async fn require_mfa(
        &self,
        ctx: &crate::context::RequestContext,
        bucket: &BucketRecord,
        mfa: Option<&str>,
    ) -> S3Result<()> {
        let Some(mfa) = mfa else {
            return Err(mfa_required());
        };
        if ctx.conn.tls.is_none() {
            return Err(s3_error!(
                InvalidRequest,
                "The x-amz-mfa header can only be used over HTTPS."
            ));
        }
        let Some((serial, code)) = mfa.trim().split_once(' ') else {
            return Err(s3_error!(
                InvalidRequest,
                "The x-amz-mfa header must be the device serial number, a space and the code."
            ));
        };
        let ok = self
            .authz
            .check_root_mfa(bucket.owner.as_str(), serial.trim(), code.trim())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "MFA check failed");
                s3_error!(InternalError, "We encountered an internal error. Please try again.")
            })?;
        if ok {
            Ok(())
        } else {
            Err(s3_error!(AccessDenied, "The MFA code is not valid for this request."))
        }
    }

    /// Whether a DELETE of a version needs `x-amz-mfa` on this bucket.
    pub(super) fn mfa_delete_on(bucket: &BucketRecord) -> bool {
        bucket.versioning.is_some_and(|v| v.mfa_delete)
    }

    pub(super) async fn do_put_bucket_versioning(
        &self,
        req: S3Request<PutBucketVersioningInput>,
    ) -> S3Result<S3Response<PutBucketVersioningOutput>> {
        let i = &req.input;
        let bucket = engine(self.engine.bucket(&i.bucket).await)?;
        let conf = &i.versioning_configuration;
        let enabled = match conf.status.as_ref().map(BucketVersioningStatus::as_str) {
            Some("Enabled") => true,
            Some("Suspended") => false,
            // Only MFADelete given: the status stays (unversioned cannot be kept that way).
            None if conf.mfa_delete.is_some() => bucket.versioning.is_some_and(|v| v.enabled),
            _ => {
                return Err(s3_error!(
                    MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema"
                ));
            }
        };
        if !enabled && bucket.object_lock.is_some() {
            // Checked before MFA so a refused change does not spend a code;
            // the store checks again in the write's transaction.
            return Err(super::s3_err(strongbox_engine::EngineError::InvalidBucketState(
                "An Object Lock configuration is present on this bucket, so the versioning state cannot be changed."
                    .into(),
            )));
        }
        let current_mfa = bucket.versioning.is_some_and(|v| v.mfa_delete);
        let mfa_delete = match conf.mfa_delete.as_ref().map(MFADelete::as_str) {
            None => current_mfa,
            Some("Disabled") => false,
            Some("Enabled") => true,
            Some(_) => {
                return Err(s3_error!(
                    MalformedXML,
                    "The XML you provided was not well-formed or did not validate against our published schema"
                ));
            }
        };
        if mfa_delete != current_mfa || current_mfa {
            // Changing MFA Delete, and any versioning change while it is on,
            // is for the bucket owner's root with its MFA device only: an IAM
            // user's s3:PutBucketVersioning does not reach it.
            let ctx = super::context(&req)?;
            let is_owner_root = matches!(&ctx.principal,
                strongbox_policy::Principal::AccountRoot { account } if *account == bucket.owner);
            if !is_owner_root {
                return Err(s3_error!(AccessDenied, "Access Denied"));
            }
            self.require_mfa(ctx, &bucket, i.mfa.as_deref()).await?;
        }
        engine(
            self.engine
                .set_versioning(&i.bucket, BucketVersioning { enabled, mfa_delete })
                .await,
        )?;
        Ok(S3Response::new(PutBucketVersioningOutput::default()))
    }

    pub(super) async fn do_get_bucket_versioning(
        &self,
        req: S3Request<GetBucketVersioningInput>,
    ) -> S3Result<S3Response<GetBucketVersioningOutput>> {
        let bucket = engine(self.engine.bucket(&req.input.bucket).await)?;
        let out = match bucket.versioning {
            // Never versioned: an empty configuration, as AWS.
            None => GetBucketVersioningOutput::default(),
            Some(v) => GetBucketVersioningOutput {
                status: Some(BucketVersioningStatus::from_static(if v.enabled {
                    BucketVersioningStatus::ENABLED
                } else {
                    BucketVersioningStatus::SUSPENDED
                })),
                mfa_delete: v
                    .mfa_delete
                    .then(|| MFADeleteStatus::from_static(MFADeleteStatus::ENABLED)),
            },
        };
        Ok(S3Response::new(out))
    }

    pub(super) async fn do_list_object_versions(
        &self,
        req: S3Request<ListObjectVersionsInput>,
    ) -> S3Result<S3Response<ListObjectVersionsOutput>> {
        let i = req.input;
        let enc = Encoder::new(i.encoding_type.as_ref())?;
        let max = i.max_keys.unwrap_or(DEFAULT_MAX_KEYS);
        if max < 0 {
            return Err(s3_error!(InvalidArgument, "max-keys cannot be negative"));
        }
        let key_marker = i.key_marker.clone().filter(|k| !k.is_empty());
        let version_marker = i.version_id_marker.clone().filter(|v| !v.is_empty());
        if version_marker.is_some() && key_marker.is_none() {
            return Err(s3_error!(
                InvalidArgument,
                "A version-id marker cannot be specified without a key marker."
            ));
        }
        let q = VersionsQuery {
            prefix: i.prefix.clone().unwrap_or_default(),
            delimiter: i.delimiter.clone().filter(|d| !d.is_empty()),
            key_marker,
            version_id_marker: version_marker,
            max_keys: usize::try_from(max.min(DEFAULT_MAX_KEYS)).unwrap_or(1000),
        };
        let page = engine(self.engine.list_versions(&i.bucket, &q).await)?;
        let bucket = engine(self.engine.bucket(&i.bucket).await)?;
        let owner = Some(self.owner_of(&bucket.owner).await?);
        let (mut versions, mut markers) = (Vec::new(), Vec::new());
        let order = VersionOrder(page.versions.iter().map(|v| v.delete_marker).collect());
        for v in page.versions {
            if v.delete_marker {
                markers.push(DeleteMarkerEntry {
                    key: Some(enc.apply(v.key)),
                    version_id: Some(v.version_id),
                    is_latest: Some(v.is_latest),
                    last_modified: Some(timestamp(v.last_modified_ms)),
                    owner: owner.clone(),
                });
            } else {
                versions.push(ObjectVersion {
                    key: Some(enc.apply(v.key)),
                    version_id: Some(v.version_id),
                    is_latest: Some(v.is_latest),
                    last_modified: Some(timestamp(v.last_modified_ms)),
                    e_tag: Some(etag(&v.etag)),
                    size: i64::try_from(v.size).ok(),
                    storage_class: Some(ObjectVersionStorageClass::from_static(
                        ObjectVersionStorageClass::STANDARD,
                    )),
                    owner: owner.clone(),
                    ..Default::default()
                });
            }
        }
        let prefixes = page
            .common_prefixes
            .into_iter()
            .map(|p| CommonPrefix {
                prefix: Some(enc.apply(p)),
            })
            .collect();
        let mut resp = S3Response::new(ListObjectVersionsOutput {
            name: Some(i.bucket),
            prefix: Some(enc.apply(q.prefix)),
            delimiter: q.delimiter.map(|d| enc.apply(d)),
            key_marker: Some(i.key_marker.map(|k| enc.apply(k)).unwrap_or_default()),
            version_id_marker: Some(i.version_id_marker.unwrap_or_default()),
            max_keys: Some(max),
            is_truncated: Some(page.is_truncated),
            next_key_marker: page.next_key.map(|k| enc.apply(k)),
            next_version_id_marker: page.next_version,
            versions: Some(versions),
            delete_markers: Some(markers),
            common_prefixes: Some(prefixes),
            encoding_type: i.encoding_type,
            ..Default::default()
        });
        resp.extensions.insert(order);
        Ok(resp)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_and_markers_are_interleaved_in_listing_order() {
        let body = "<?xml version=\"1.0\"?><ListVersionsResult><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes>\
            <DeleteMarker><Key>a</Key></DeleteMarker><DeleteMarker><Key>c</Key></DeleteMarker><Name>b</Name>\
            <Version><Key>a</Key><VersionId>1</VersionId></Version><Version><Key>b</Key></Version></ListVersionsResult>";
        let out = interleave(body.as_bytes(), &[true, false, false, true]).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<?xml version=\"1.0\"?><ListVersionsResult><CommonPrefixes><Prefix>p/</Prefix></CommonPrefixes><Name>b</Name>\
             <DeleteMarker><Key>a</Key></DeleteMarker><Version><Key>a</Key><VersionId>1</VersionId></Version>\
             <Version><Key>b</Key></Version><DeleteMarker><Key>c</Key></DeleteMarker></ListVersionsResult>"
        );
        // A body that does not match the order is left alone.
        assert!(interleave(body.as_bytes(), &[true, false]).is_none());
    }
}
