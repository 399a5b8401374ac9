//! Multipart upload of one object, as the PUT of a `--multipart-part-size`
//! run: CreateMultipartUpload (with the SSE request headers), the parts one
//! after another (each with the SSE-C key when there is one, as S3 requires),
//! then CompleteMultipartUpload. Concurrency comes from uploading several
//! objects at once, never from parallel parts of one object. A failed upload
//! is aborted (best effort); one cut short by the request timeout is not.
use crate::client::{S3, read_text};
use crate::xml;
use anyhow::{Context, anyhow, bail};
use bytes::Bytes;
use http::{Method, header};
use http_body_util::BodyExt;
use std::ops::Range;

impl S3 {
    /// Uploads `body` in parts of `part_size` bytes (the last may be
    /// shorter; an empty body is one empty part) and returns the object's
    /// ETag without its quotes (`<hex>-<parts>` on S3).
    pub async fn put_multipart(&self, key: &str, body: &Bytes, part_size: usize) -> anyhow::Result<String> {
        let upload_id = self.create_multipart_upload(key).await?;
        match self.upload_parts_and_complete(key, &upload_id, body, part_size).await {
            Ok(etag) => Ok(etag),
            Err(e) => {
                // The error of the upload is the one worth reporting.
                let _ = self.abort_multipart_upload(key, &upload_id).await;
                Err(e)
            }
        }
    }

    async fn create_multipart_upload(&self, key: &str) -> anyhow::Result<String> {
        let resp = self
            .call(
                Method::POST,
                Some(key),
                &[("uploads", "")],
                Bytes::new(),
                self.create_headers(),
            )
            .await?;
        let text = read_text(resp, "CreateMultipartUpload").await?;
        xml::first(&text, "UploadId")
            .with_context(|| format!("CreateMultipartUpload {key}: no UploadId in {text:.300}"))
    }

    async fn upload_parts_and_complete(
        &self,
        key: &str,
        upload_id: &str,
        body: &Bytes,
        part_size: usize,
    ) -> anyhow::Result<String> {
        let mut etags = Vec::new();
        for (index, range) in part_ranges(body.len(), part_size).into_iter().enumerate() {
            let number = (index + 1).to_string();
            let query = [("partNumber", number.as_str()), ("uploadId", upload_id)];
            let resp = self
                .call(
                    Method::PUT,
                    Some(key),
                    &query,
                    body.slice(range),
                    self.customer_headers(),
                )
                .await?;
            let etag = resp
                .headers()
                .get(header::ETAG)
                .with_context(|| format!("UploadPart {key} part {number}: no ETag"))?
                .to_str()
                .context("part ETag is not ASCII")?
                .trim_matches('"')
                .to_owned();
            resp.into_body()
                .collect()
                .await
                .context("reading UploadPart response")?;
            etags.push(etag);
        }
        let resp = self
            .call(
                Method::POST,
                Some(key),
                &[("uploadId", upload_id)],
                Bytes::from(complete_body(&etags)),
                &http::HeaderMap::new(),
            )
            .await?;
        let header_etag = resp
            .headers()
            .get(header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = read_text(resp, "CompleteMultipartUpload").await?;
        // S3 may answer 200 and put the error in the body.
        if text.contains("<Error>") {
            bail!("CompleteMultipartUpload {key}: {text:.300}");
        }
        let etag = xml::first(&text, "ETag")
            .or(header_etag)
            .ok_or_else(|| anyhow!("CompleteMultipartUpload {key}: no ETag in {text:.300}"))?;
        Ok(etag.trim_matches('"').to_owned())
    }

    async fn abort_multipart_upload(&self, key: &str, upload_id: &str) -> anyhow::Result<()> {
        let resp = self
            .call(
                Method::DELETE,
                Some(key),
                &[("uploadId", upload_id)],
                Bytes::new(),
                &http::HeaderMap::new(),
            )
            .await?;
        resp.into_body()
            .collect()
            .await
            .context("reading AbortMultipartUpload response")?;
        Ok(())
    }
}

/// The byte ranges of the parts of a `len`-byte body: `part_size` each, the
/// last one shorter; at least one (empty) part.
pub fn part_ranges(len: usize, part_size: usize) -> Vec<Range<usize>> {
    let part_size = part_size.max(1);
    let mut ranges: Vec<_> = (0..len)
        .step_by(part_size)
        .map(|start| start..len.min(start.saturating_add(part_size)))
        .collect();
    if ranges.is_empty() {
        ranges.push(0..0);
    }
    ranges
}

/// Whether `etag` has the shape of a multipart ETag of `parts` parts.
pub fn is_multipart_etag(etag: &str, parts: usize) -> bool {
    etag.rsplit_once('-')
        .is_some_and(|(hash, n)| !hash.is_empty() && n == parts.to_string())
}

/// The CompleteMultipartUpload body listing parts 1..=n with their ETags.
fn complete_body(etags: &[String]) -> String {
    let mut body = String::from("<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (index, etag) in etags.iter().enumerate() {
        body.push_str(&format!(
            "<Part><PartNumber>{}</PartNumber><ETag>\"{}\"</ETag></Part>",
            index + 1,
            xml::escape(etag)
        ));
    }
    body.push_str("</CompleteMultipartUpload>");
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_the_body_once() {
        assert_eq!(part_ranges(0, 5), vec![0..0]);
        assert_eq!(part_ranges(5, 5), vec![0..5]);
        assert_eq!(part_ranges(11, 5), vec![0..5, 5..10, 10..11]);
        assert_eq!(part_ranges(3, 0), vec![0..1, 1..2, 2..3]);
    }

    #[test]
    fn complete_body_numbers_parts_from_one() {
        let body = complete_body(&["aa".into(), "bb".into()]);
        assert!(body.contains("<Part><PartNumber>1</PartNumber><ETag>\"aa\"</ETag></Part>"));
        assert!(body.contains("<Part><PartNumber>2</PartNumber><ETag>\"bb\"</ETag></Part>"));
        assert!(body.ends_with("</CompleteMultipartUpload>"));
    }

    #[test]
    fn multipart_etags_end_in_the_part_count() {
        assert!(is_multipart_etag("0123abcd-3", 3));
        assert!(!is_multipart_etag("0123abcd-3", 2));
        assert!(!is_multipart_etag("0123abcd", 1));
        assert!(!is_multipart_etag("-1", 1));
    }
}
