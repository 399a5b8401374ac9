//! The request quota for cryptographic operations: a token bucket per
//! account holding at most one second's worth of requests, refilled
//! continuously at the configured rate. Calls from the API and from S3 draw
//! from the same bucket, as they do in AWS.
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

pub(crate) struct Quota {
    per_second: f64,
    buckets: Mutex<HashMap<String, Bucket>>,
}

struct Bucket {
    tokens: f64,
    at: Instant,
}

impl Quota {
    pub fn new(per_second: u32) -> Self {
        Quota {
            per_second: f64::from(per_second.max(1)),
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `account`'s bucket; false when it is empty.
    pub fn take(&self, account: &str, now: Instant) -> bool {
        let Ok(mut buckets) = self.buckets.lock() else {
            // A poisoned lock only means another request panicked mid-update;
            // refusing is the safe answer for a quota.
            return false;
        };
        let bucket = buckets.entry(account.to_owned()).or_insert(Bucket {
            tokens: self.per_second,
            at: now,
        });
        let elapsed = now.saturating_duration_since(bucket.at).as_secs_f64();
        bucket.tokens = (bucket.tokens + elapsed * self.per_second).min(self.per_second);
        bucket.at = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_second_of_requests_then_refill() {
        let q = Quota::new(3);
        let t0 = Instant::now();
        assert!((0..3).all(|_| q.take("a", t0)));
        assert!(!q.take("a", t0), "the fourth in the same instant is throttled");
        assert!(q.take("b", t0), "accounts have their own buckets");
        assert!(!q.take("a", t0 + Duration::from_millis(100)));
        assert!(
            q.take("a", t0 + Duration::from_millis(400)),
            "one token back after 1/3 s"
        );
        assert!(!q.take("a", t0 + Duration::from_millis(400)));
        let later = t0 + Duration::from_secs(10);
        assert!(
            (0..3).all(|_| q.take("a", later)),
            "the bucket holds at most one second"
        );
        assert!(!q.take("a", later));
    }
}
