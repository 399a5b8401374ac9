//! Virtual-hosted-style addressing: `<bucket>.<base domain>` names the bucket;
//! the base domains themselves (and IP addresses) mean path style.
use s3s::host::{S3Host, VirtualHost};
use s3s::{S3Result, s3_error};

pub struct BaseDomains {
    pub domains: Vec<String>,
}

impl S3Host for BaseDomains {
    fn parse_host_header<'a>(&'a self, host: &'a str) -> S3Result<VirtualHost<'a>> {
        let name = strip_port(host);
        for domain in &self.domains {
            if name.eq_ignore_ascii_case(domain) {
                return Ok(VirtualHost::new(name));
            }
            if let Some(bucket) = name.strip_suffix(domain.as_str()).and_then(|b| b.strip_suffix('.'))
                && !bucket.is_empty()
            {
                return Ok(VirtualHost::new(domain.as_str()).with_bucket(bucket));
            }
        }
        // Unknown hosts (e.g. a bare hostname) are treated as path style,
        // as an endpoint reached through a proxy would be.
        if name.is_empty() {
            return Err(s3_error!(InvalidRequest, "Missing Host header"));
        }
        Ok(VirtualHost::new(name))
    }
}

fn strip_port(host: &str) -> &str {
    if host.starts_with('[') {
        return host.split(']').next().map_or(host, |h| h.trim_start_matches('['));
    }
    host.rsplit_once(':').map_or(host, |(h, _)| h)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn virtual_hosts_and_path_style() {
        let h = BaseDomains {
            domains: vec!["localhost".into(), "s3.example.com".into()],
        };
        assert_eq!(
            h.parse_host_header("mybucket.localhost:9443").unwrap().bucket(),
            Some("mybucket")
        );
        assert_eq!(h.parse_host_header("a.b.s3.example.com").unwrap().bucket(), Some("a.b"));
        assert_eq!(h.parse_host_header("localhost:9080").unwrap().bucket(), None);
        assert_eq!(h.parse_host_header("127.0.0.1:9080").unwrap().bucket(), None);
        assert_eq!(h.parse_host_header("otherlocalhost").unwrap().bucket(), None);
    }
}
