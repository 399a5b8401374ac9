//! ListObjects (v1 and v2) over ordered key-range scans: a delimiter roll-up
//! skips the whole rolled-up range with one seek, so a page costs
//! O(page size) rows no matter how many keys the bucket holds.
use crate::{Engine, Result};
use strongbox_meta::{KeyRange, ObjectSummary};

/// Rows fetched per store call while filling a page.
const SCAN_BATCH: usize = 1000;

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub prefix: String,
    pub delimiter: Option<String>,
    /// Exclusive: list keys (and common prefixes) strictly after this.
    pub after: Option<String>,
    pub max_keys: usize,
}

#[derive(Debug, Clone, Default)]
pub struct ListPage {
    pub objects: Vec<ObjectSummary>,
    pub common_prefixes: Vec<String>,
    pub is_truncated: bool,
    /// The last key or common prefix returned (the next marker).
    pub last: Option<String>,
}

impl Engine {
    pub async fn list_objects(&self, bucket: &str, q: &ListQuery) -> Result<ListPage> {
        self.bucket(bucket).await?;
        let mut page = ListPage::default();
        if q.max_keys == 0 {
            // As S3: max-keys=0 is an empty, untruncated page.
            return Ok(page);
        }
        let end = successor(q.prefix.as_bytes());
        let mut range = KeyRange {
            start: q.prefix.as_bytes().to_vec(),
            start_inclusive: true,
            end,
        };
        if let Some(after) = &q.after
            && after.as_bytes() >= range.start.as_slice()
        {
            range.start = after.as_bytes().to_vec();
            range.start_inclusive = false;
            // A marker inside a rolled-up prefix continues after that whole prefix.
            if let Some(cp) = q.delimiter.as_deref().and_then(|d| common_prefix(&q.prefix, d, after))
                && let Some(next) = successor(cp.as_bytes())
            {
                range.start = next;
                range.start_inclusive = true;
            }
        }
        let mut count = 0;
        loop {
            // One row past what the page can still take tells whether it is truncated.
            let limit = SCAN_BATCH.min(q.max_keys.saturating_sub(count) + 1);
            let batch = self.meta.scan_objects(bucket, &range, limit).await?;
            let exhausted = batch.len() < limit;
            let mut reseek = None;
            for obj in batch {
                if count == q.max_keys {
                    page.is_truncated = true;
                    return Ok(page);
                }
                match q
                    .delimiter
                    .as_deref()
                    .and_then(|d| common_prefix(&q.prefix, d, &obj.key))
                {
                    Some(cp) => {
                        page.last = Some(cp.to_owned());
                        page.common_prefixes.push(cp.to_owned());
                        count += 1;
                        match successor(cp.as_bytes()) {
                            Some(next) => {
                                reseek = Some(next);
                                break;
                            }
                            None => return Ok(page),
                        }
                    }
                    None => {
                        page.last = Some(obj.key.clone());
                        range.start = obj.key.as_bytes().to_vec();
                        range.start_inclusive = false;
                        page.objects.push(obj);
                        count += 1;
                    }
                }
            }
            match reseek {
                Some(next) => {
                    range.start = next;
                    range.start_inclusive = true;
                }
                None if exhausted => return Ok(page),
                None => {}
            }
        }
    }
}

/// The common prefix `key` rolls up to: prefix + up to and including the
/// first delimiter after the prefix.
pub(crate) fn common_prefix<'k>(prefix: &str, delimiter: &str, key: &'k str) -> Option<&'k str> {
    if delimiter.is_empty() {
        return None;
    }
    let rest = key.get(prefix.len()..)?;
    let pos = rest.find(delimiter)?;
    key.get(..prefix.len() + pos + delimiter.len())
}

/// The smallest byte string greater than every string starting with `p`
/// (None when there is none, i.e. `p` is empty or all 0xFF).
pub(crate) fn successor(p: &[u8]) -> Option<Vec<u8>> {
    let mut s = p.to_vec();
    while let Some(last) = s.pop() {
        if last < 0xFF {
            s.push(last + 1);
            return Some(s);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rollup_and_successor() {
        assert_eq!(common_prefix("", "/", "a/b/c"), Some("a/"));
        assert_eq!(common_prefix("a/", "/", "a/b/c"), Some("a/b/"));
        assert_eq!(common_prefix("a/", "/", "a/c"), None);
        assert_eq!(common_prefix("", "", "a/c"), None);
        assert_eq!(successor(b"a/"), Some(b"a0".to_vec()));
        assert_eq!(successor(b""), None);
    }
}
