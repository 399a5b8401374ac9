//! The LIST phase: ListObjectsV2 (`GET /bucket?list-type=2&prefix=P/`,
//! 1000 keys a page, following `NextContinuationToken`) over every key under
//! the run's prefix, one page after another, repeated `--list-repeat` times.
//!
//! Each complete listing is checked: keys strictly ascending across pages
//! (no duplicate or skipped page), `KeyCount` equal to the keys on the page,
//! a truncated page carrying a new token, and, when this run stored the
//! objects, as many keys as the PUT phase stored. A failed page or check
//! is one error and ends that listing. No new page is requested after
//! `--max-secs`; a listing cut there is reported as incomplete, not as an
//! error. The phase reports the median listing, per-page latencies, and
//! the server's CPU per 1000 keys listed.
use crate::client::{S3, read_text};
use crate::meter::Meter;
use crate::phase::{Op, PhaseResult};
use crate::xml;
use anyhow::{anyhow, bail, ensure};
use bytes::Bytes;
use http::Method;
use std::time::{Duration, Instant};

/// Keys asked for per page: the S3 maximum.
const MAX_KEYS: &str = "1000";

/// What to list and how often.
pub struct ListJob<'a> {
    pub s3: &'a S3,
    /// The run's prefix; keys are listed under `<prefix>/`.
    pub prefix: &'a str,
    /// How many keys a listing must find (None: just report).
    pub expected_keys: Option<u64>,
    pub repeats: usize,
    pub max_time: Duration,
    pub request_timeout: Duration,
    /// List with ListObjectVersions (`GET /bucket?versions`) instead.
    pub versions: bool,
}

/// The listing figures of a LIST phase.
#[derive(Clone, Debug, Default)]
pub struct ListStats {
    pub repeats: usize,
    pub expected_keys: Option<u64>,
    /// Listings that reached the last page, in order.
    pub complete: Vec<Listing>,
    /// Listings cut by the time bound.
    pub incomplete: usize,
    /// Keys received over the whole phase, complete listings or not.
    pub keys_received: u64,
}

/// One complete listing.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Listing {
    pub keys: u64,
    pub pages: u64,
    pub secs: f64,
}

impl ListStats {
    /// Median duration of the complete listings.
    pub fn median_secs(&self) -> Option<f64> {
        median(self.complete.iter().map(|l| l.secs).collect())
    }

    /// Median of the complete listings' keys per second.
    pub fn keys_per_s(&self) -> Option<f64> {
        median(self.complete.iter().map(|l| l.keys as f64 / l.secs.max(1e-9)).collect())
    }

    /// Keys and pages of the first complete listing.
    pub fn first(&self) -> Option<Listing> {
        self.complete.first().copied()
    }
}

/// Median of the values (mean of the two middle ones for an even count).
fn median(mut values: Vec<f64>) -> Option<f64> {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    match values.len() {
        0 => None,
        n if n % 2 == 1 => values.get(mid).copied(),
        _ => Some((values.get(mid - 1)? + values.get(mid)?) / 2.0),
    }
}

/// Runs the LIST phase.
pub async fn run(job: ListJob<'_>, server_pid: Option<u32>) -> PhaseResult {
    let meter = Meter::start(server_pid);
    let start = Instant::now();
    let deadline = start + job.max_time;
    let mut run = Run {
        job: &job,
        deadline,
        pages: 0,
        errors: 0,
        first_error: None,
        latencies: Vec::new(),
        stats: ListStats {
            repeats: job.repeats,
            expected_keys: job.expected_keys,
            ..ListStats::default()
        },
    };
    for _ in 0..job.repeats {
        if Instant::now() >= deadline {
            break;
        }
        match run.one_listing().await {
            Ok(Some(listing)) => run.stats.complete.push(listing),
            Ok(None) => run.stats.incomplete += 1,
            Err(e) => {
                run.errors += 1;
                run.first_error.get_or_insert(format!("{e:#}"));
            }
        }
    }
    let wall = start.elapsed();
    let measures = meter.finish();
    run.latencies.sort_unstable();
    PhaseResult {
        op: Op::List,
        ok: run.pages,
        errors: run.errors,
        first_error: run.first_error,
        bytes: 0,
        wall,
        latencies: run.latencies,
        measures,
        list: Some(run.stats),
    }
}

/// The state of a LIST phase in progress.
struct Run<'a> {
    job: &'a ListJob<'a>,
    deadline: Instant,
    /// Pages received and parsed.
    pages: u64,
    errors: u64,
    first_error: Option<String>,
    latencies: Vec<Duration>,
    stats: ListStats,
}

impl Run<'_> {
    /// Lists every key under the prefix once; None when cut by the deadline.
    async fn one_listing(&mut self) -> anyhow::Result<Option<Listing>> {
        let started = Instant::now();
        let mut token: Option<String> = None;
        let mut last_key: Option<String> = None;
        let (mut keys, mut pages) = (0u64, 0u64);
        loop {
            if pages > 0 && Instant::now() >= self.deadline {
                return Ok(None);
            }
            let sent = Instant::now();
            let page = tokio::time::timeout(self.job.request_timeout, self.page(token.as_deref()))
                .await
                .map_err(|_| {
                    anyhow!(
                        "LIST page {}: no response within {:?}",
                        pages + 1,
                        self.job.request_timeout
                    )
                })??;
            self.latencies.push(sent.elapsed());
            self.pages += 1;
            pages += 1;
            self.stats.keys_received += page.keys.len() as u64;
            keys += page.keys.len() as u64;
            if self.job.versions {
                // Versions of one key repeat it.
                check_order_versions(last_key.as_deref(), &page.keys)?;
            } else {
                check_order(last_key.as_deref(), &page.keys)?;
            }
            if let Some(k) = page.keys.last() {
                last_key = Some(k.clone());
            }
            if !page.truncated {
                break;
            }
            let next = page
                .next_token
                .ok_or_else(|| anyhow!("LIST page {pages}: truncated without a token"))?;
            ensure!(
                token.as_deref() != Some(next.as_str()),
                "LIST page {pages}: the same token again"
            );
            token = Some(next);
        }
        if let Some(expected) = self.job.expected_keys {
            ensure!(
                keys == expected,
                "LIST {}/: {keys} keys in {pages} pages, the PUT phase stored {expected}",
                self.job.prefix
            );
        }
        Ok(Some(Listing {
            keys,
            pages,
            secs: started.elapsed().as_secs_f64(),
        }))
    }

    /// One ListObjectsV2 (or ListObjectVersions) page.
    async fn page(&self, token: Option<&str>) -> anyhow::Result<Page> {
        if self.job.versions {
            versions_page(self.job.s3, self.job.prefix, token).await
        } else {
            page(self.job.s3, self.job.prefix, token).await
        }
    }
}

/// One ListObjectsV2 page of the keys under `<prefix>/`, checked for a
/// `KeyCount` that matches it (also the mixed workload's LIST).
pub async fn page(s3: &S3, prefix: &str, token: Option<&str>) -> anyhow::Result<Page> {
    let prefix = format!("{prefix}/");
    let mut query = vec![("list-type", "2"), ("prefix", prefix.as_str()), ("max-keys", MAX_KEYS)];
    if let Some(t) = token {
        query.push(("continuation-token", t));
    }
    let resp = s3
        .call(Method::GET, None, &query, Bytes::new(), &http::HeaderMap::new())
        .await?;
    parse_page(&read_text(resp, "ListObjectsV2").await?)
}

/// One ListObjectVersions page under `<prefix>/`; its token is
/// `NextKeyMarker` and `NextVersionIdMarker` joined by a newline.
pub async fn versions_page(s3: &S3, prefix: &str, token: Option<&str>) -> anyhow::Result<Page> {
    let prefix = format!("{prefix}/");
    let mut query = vec![("versions", ""), ("prefix", prefix.as_str()), ("max-keys", MAX_KEYS)];
    if let Some((key, version)) = token.and_then(|t| t.split_once('\n')) {
        query.push(("key-marker", key));
        query.push(("version-id-marker", version));
    }
    let resp = s3
        .call(Method::GET, None, &query, Bytes::new(), &http::HeaderMap::new())
        .await?;
    parse_versions_page(&read_text(resp, "ListObjectVersions").await?)
}

fn parse_versions_page(text: &str) -> anyhow::Result<Page> {
    ensure!(
        text.contains("<ListVersionsResult"),
        "not a ListVersionsResult: {text:.300}"
    );
    let keys: Vec<String> = xml::raw_elements(text, "Key")
        .map(|k| xml::unescape(k).into_owned())
        .collect();
    let truncated = match xml::first(text, "IsTruncated").as_deref().map(str::trim) {
        Some("true") => true,
        Some("false") | None => false,
        Some(other) => bail!("IsTruncated {other:?}"),
    };
    let next_token = match (
        xml::first(text, "NextKeyMarker"),
        xml::first(text, "NextVersionIdMarker"),
    ) {
        (Some(k), Some(v)) => Some(format!("{k}\n{v}")),
        _ => None,
    };
    Ok(Page {
        keys,
        truncated,
        next_token,
    })
}

/// Version listings repeat a key for each of its versions: never descending.
fn check_order_versions(previous: Option<&str>, keys: &[String]) -> anyhow::Result<()> {
    let mut last = previous;
    for key in keys {
        if let Some(before) = last {
            ensure!(
                before <= key.as_str(),
                "LIST: key {key:?} after {before:?}: not ascending"
            );
        }
        last = Some(key);
    }
    Ok(())
}

/// What the listing needs from one ListObjectsV2 page.
#[derive(Debug, PartialEq)]
pub struct Page {
    pub keys: Vec<String>,
    pub truncated: bool,
    pub next_token: Option<String>,
}

fn parse_page(text: &str) -> anyhow::Result<Page> {
    ensure!(
        text.contains("<ListBucketResult"),
        "not a ListBucketResult: {text:.300}"
    );
    let keys: Vec<String> = xml::raw_elements(text, "Key")
        .map(|k| xml::unescape(k).into_owned())
        .collect();
    if let Some(count) = xml::first(text, "KeyCount") {
        ensure!(
            count.trim() == keys.len().to_string(),
            "KeyCount {count} but {} keys on the page",
            keys.len()
        );
    }
    let truncated = match xml::first(text, "IsTruncated").as_deref().map(str::trim) {
        Some("true") => true,
        Some("false") | None => false,
        Some(other) => bail!("IsTruncated {other:?}"),
    };
    Ok(Page {
        keys,
        truncated,
        next_token: xml::first(text, "NextContinuationToken"),
    })
}

/// Keys must come in strictly ascending (UTF-8 binary) order, across pages.
pub fn check_order(previous: Option<&str>, keys: &[String]) -> anyhow::Result<()> {
    let mut last = previous;
    for key in keys {
        if let Some(before) = last {
            ensure!(
                before < key.as_str(),
                "LIST: key {key:?} after {before:?}: not ascending"
            );
        }
        last = Some(key);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>p/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated>
<Contents><Key>p/00000000</Key><ETag>&quot;x&quot;</ETag><Size>1</Size></Contents>
<Contents><Key>p/a&amp;b</Key><ETag>&quot;y&quot;</ETag><Size>1</Size></Contents>
<NextContinuationToken>dG9r/+==</NextContinuationToken></ListBucketResult>"#;

    #[test]
    fn parses_a_truncated_versions_page() {
        let page = parse_versions_page(
            "<ListVersionsResult><IsTruncated>true</IsTruncated><Version><Key>p/a</Key><VersionId>1</VersionId></Version>\
             <DeleteMarker><Key>p/a</Key></DeleteMarker><NextKeyMarker>p/a</NextKeyMarker>\
             <NextVersionIdMarker>0f</NextVersionIdMarker></ListVersionsResult>",
        )
        .unwrap();
        assert_eq!(page.keys, vec!["p/a".to_owned(), "p/a".to_owned()]);
        assert_eq!(page.next_token.as_deref(), Some("p/a\n0f"));
        assert!(check_order_versions(None, &page.keys).is_ok());
        assert!(check_order_versions(Some("p/b"), &page.keys).is_err());
    }

    #[test]
    fn parses_a_truncated_page() {
        let page = parse_page(PAGE).unwrap();
        assert_eq!(page.keys, vec!["p/00000000".to_owned(), "p/a&b".to_owned()]);
        assert!(page.truncated);
        assert_eq!(page.next_token.as_deref(), Some("dG9r/+=="));
    }

    #[test]
    fn rejects_inconsistent_pages() {
        assert!(parse_page(&PAGE.replace("<KeyCount>2", "<KeyCount>3")).is_err());
        assert!(parse_page(&PAGE.replace(">true<", ">maybe<")).is_err());
        assert!(parse_page("<Error><Code>AccessDenied</Code></Error>").is_err());
        let last = parse_page(&PAGE.replace(">true<", ">false<")).unwrap();
        assert!(!last.truncated);
    }

    #[test]
    fn order_is_checked_across_pages() {
        let keys = |k: &[&str]| k.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        assert!(check_order(None, &keys(&["a", "b"])).is_ok());
        assert!(check_order(Some("b"), &keys(&["c"])).is_ok());
        assert!(check_order(Some("b"), &keys(&["b"])).is_err());
        assert!(check_order(None, &keys(&["b", "a"])).is_err());
    }

    #[test]
    fn median_of_listings() {
        assert_eq!(median(vec![]), None);
        assert_eq!(median(vec![3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(vec![4.0, 1.0, 2.0, 3.0]), Some(2.5));
        let stats = ListStats {
            complete: vec![
                Listing {
                    keys: 100,
                    pages: 1,
                    secs: 0.5,
                },
                Listing {
                    keys: 100,
                    pages: 1,
                    secs: 0.1,
                },
                Listing {
                    keys: 100,
                    pages: 1,
                    secs: 0.2,
                },
            ],
            ..ListStats::default()
        };
        assert_eq!(stats.median_secs(), Some(0.2));
        assert_eq!(stats.keys_per_s(), Some(500.0));
    }
}
