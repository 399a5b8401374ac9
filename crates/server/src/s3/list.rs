use super::StrongboxS3;
use super::convert::{engine, etag, timestamp};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as TOKEN;
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use s3s::dto::*;
use s3s::{S3Request, S3Response, S3Result, s3_error};
use strongbox_engine::{ListPage, ListQuery};

const DEFAULT_MAX_KEYS: i32 = 1000;

/// Characters left as they are under `encoding-type=url`.
const URL_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b'/');

pub(super) struct Encoder(bool);

impl Encoder {
    pub(super) fn new(e: Option<&EncodingType>) -> S3Result<Self> {
        match e.map(EncodingType::as_str) {
            None => Ok(Self(false)),
            Some("url") => Ok(Self(true)),
            Some(_) => Err(s3_error!(
                InvalidArgument,
                "Invalid Encoding Method specified in Request"
            )),
        }
    }

    pub(super) fn apply(&self, s: String) -> String {
        if self.0 {
            utf8_percent_encode(&s, URL_SAFE).to_string()
        } else {
            s
        }
    }
}

fn max_keys(v: Option<i32>) -> S3Result<usize> {
    let v = v.unwrap_or(DEFAULT_MAX_KEYS);
    if v < 0 {
        return Err(s3_error!(InvalidArgument, "max-keys cannot be negative"));
    }
    Ok(usize::try_from(v.min(DEFAULT_MAX_KEYS)).unwrap_or(1000))
}

impl StrongboxS3 {
    async fn page(
        &self,
        bucket: &str,
        q: &ListQuery,
        enc: &Encoder,
        with_owner: bool,
    ) -> S3Result<(ListPage, Vec<Object>, Vec<CommonPrefix>)> {
        let page = engine(self.engine.list_objects(bucket, q).await)?;
        let owner = if with_owner {
            let b = engine(self.engine.bucket(bucket).await)?;
            Some(self.owner_of(&b.owner).await?)
        } else {
            None
        };
        let objects = page
            .objects
            .iter()
            .map(|o| Object {
                key: Some(enc.apply(o.key.clone())),
                size: i64::try_from(o.size).ok(),
                e_tag: Some(etag(&o.etag)),
                last_modified: Some(timestamp(o.last_modified_ms)),
                storage_class: Some(ObjectStorageClass::from_static(ObjectStorageClass::STANDARD)),
                owner: owner.clone(),
                ..Default::default()
            })
            .collect();
        let prefixes = page
            .common_prefixes
            .iter()
            .map(|p| CommonPrefix {
                prefix: Some(enc.apply(p.clone())),
            })
            .collect();
        Ok((page, objects, prefixes))
    }

    pub(super) async fn do_list_objects_v2(
        &self,
        req: S3Request<ListObjectsV2Input>,
    ) -> S3Result<S3Response<ListObjectsV2Output>> {
        let i = req.input;
        let enc = Encoder::new(i.encoding_type.as_ref())?;
        let max = max_keys(i.max_keys)?;
        let after_token = match &i.continuation_token {
            Some(t) => Some(
                TOKEN
                    .decode(t)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok())
                    .ok_or_else(|| s3_error!(InvalidArgument, "The continuation token provided is incorrect"))?,
            ),
            None => None,
        };
        let after = after_token.or_else(|| i.start_after.clone()).filter(|s| !s.is_empty());
        let q = ListQuery {
            prefix: i.prefix.clone().unwrap_or_default(),
            delimiter: i.delimiter.clone().filter(|d| !d.is_empty()),
            after,
            max_keys: max,
        };
        let (page, objects, prefixes) = self.page(&i.bucket, &q, &enc, i.fetch_owner.unwrap_or(false)).await?;
        let key_count = i32::try_from(objects.len() + prefixes.len()).unwrap_or(i32::MAX);
        let next = if page.is_truncated {
            page.last.as_ref().map(|l| TOKEN.encode(l))
        } else {
            None
        };
        Ok(S3Response::new(ListObjectsV2Output {
            name: Some(i.bucket),
            prefix: Some(enc.apply(q.prefix)),
            delimiter: q.delimiter.clone().map(|d| enc.apply(d)),
            max_keys: i.max_keys.or(Some(DEFAULT_MAX_KEYS)),
            key_count: Some(key_count),
            continuation_token: i.continuation_token,
            next_continuation_token: next,
            start_after: i.start_after.map(|s| enc.apply(s)),
            is_truncated: Some(page.is_truncated),
            contents: Some(objects),
            common_prefixes: Some(prefixes),
            encoding_type: i.encoding_type,
            ..Default::default()
        }))
    }

    pub(super) async fn do_list_objects(
        &self,
        req: S3Request<ListObjectsInput>,
    ) -> S3Result<S3Response<ListObjectsOutput>> {
        let i = req.input;
        let enc = Encoder::new(i.encoding_type.as_ref())?;
        let max = max_keys(i.max_keys)?;
        let q = ListQuery {
            prefix: i.prefix.clone().unwrap_or_default(),
            delimiter: i.delimiter.clone().filter(|d| !d.is_empty()),
            after: i.marker.clone().filter(|m| !m.is_empty()),
            max_keys: max,
        };
        let (page, objects, prefixes) = self.page(&i.bucket, &q, &enc, true).await?;
        // As AWS: NextMarker only when a delimiter was given (otherwise the last Key serves).
        let next_marker = (page.is_truncated && q.delimiter.is_some())
            .then(|| page.last.clone().map(|l| enc.apply(l)))
            .flatten();
        Ok(S3Response::new(ListObjectsOutput {
            name: Some(i.bucket),
            prefix: Some(enc.apply(q.prefix)),
            delimiter: q.delimiter.clone().map(|d| enc.apply(d)),
            marker: Some(i.marker.map(|m| enc.apply(m)).unwrap_or_default()),
            max_keys: i.max_keys.or(Some(DEFAULT_MAX_KEYS)),
            is_truncated: Some(page.is_truncated),
            next_marker,
            contents: Some(objects),
            common_prefixes: Some(prefixes),
            encoding_type: i.encoding_type,
            ..Default::default()
        }))
    }
}
