//! The options of a mixed run and the two values they parse into: the
//! operation mix (`put=40,get=40,...`) and durations (`90s`, `30m`, `1h`).
use crate::cli::Size;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct MixedArgs {
    /// Relative weights of the operations: any of put, get, list, delete
    /// and multipart, e.g. put=40,get=40,list=5,delete=10,multipart=5.
    #[arg(long, default_value = "put=40,get=40,list=5,delete=10,multipart=5")]
    pub mix: Mix,
    /// Object sizes, picked uniformly at random for every PUT and multipart upload.
    #[arg(long, value_delimiter = ',', default_value = "4KiB,256KiB,8MiB")]
    pub sizes: Vec<Size>,
    /// How long to run: seconds, or with an s, m or h suffix.
    #[arg(long, default_value = "60s")]
    pub duration: Secs,
    /// Start no request after this many (the count bound).
    #[arg(long, default_value_t = 10_000_000)]
    pub max_requests: u64,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 8)]
    pub concurrency: usize,
    /// Keys the run writes, overwrites and deletes (the bounded key space).
    #[arg(long, default_value_t = 64)]
    pub keys: usize,
    /// Part size of the multipart uploads.
    #[arg(long, default_value = "5MiB")]
    pub multipart_part_size: Size,
    /// Give up on one request (a whole multipart upload) after this many
    /// seconds; counted as a failure.
    #[arg(long, default_value_t = 120.0)]
    pub request_timeout: f64,
    /// Key prefix (default mixed-<unix time>).
    #[arg(long)]
    pub prefix: Option<String>,
    /// Sample the server (--server-pid) every this often.
    #[arg(long, default_value = "5s")]
    pub sample_every: Secs,
    /// Write the samples as CSV to this file.
    #[arg(long)]
    pub samples_csv: Option<PathBuf>,
    /// The server's directory of in-flight temporary files, counted at every
    /// sample (Strongbox: <data-dir>/tmp).
    #[arg(long)]
    pub server_tmp_dir: Option<PathBuf>,
    /// Share of the run (percent) whose samples the RSS and FD checks ignore.
    #[arg(long, default_value_t = 10.0)]
    pub warmup_pct: f64,
    /// After the warm-up, RSS must stay within this many percent of its median.
    #[arg(long, default_value_t = 10.0)]
    pub rss_tolerance_pct: f64,
    /// After the warm-up, open FDs must stay within this many of their median.
    #[arg(long, default_value_t = 16)]
    pub fd_slack: u64,
}

/// Operations of the mixed workload.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum MixOp {
    Put,
    Get,
    List,
    Delete,
    Multipart,
}

impl MixOp {
    pub const ALL: [MixOp; 5] = [MixOp::Put, MixOp::Get, MixOp::List, MixOp::Delete, MixOp::Multipart];

    pub fn name(self) -> &'static str {
        match self {
            MixOp::Put => "PUT",
            MixOp::Get => "GET",
            MixOp::List => "LIST",
            MixOp::Delete => "DELETE",
            MixOp::Multipart => "MULTIPART",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Weights of the operations, indexed by [`MixOp`]; at least one is positive.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mix {
    weights: [u32; 5],
}

impl Mix {
    pub fn weight(&self, op: MixOp) -> u32 {
        self.weights.get(op.index()).copied().unwrap_or(0)
    }

    fn total(&self) -> u64 {
        self.weights.iter().map(|&w| u64::from(w)).sum()
    }

    /// The operation a uniform random `r` picks, in proportion to the weights.
    pub fn pick(&self, r: u64) -> MixOp {
        let mut point = r % self.total().max(1);
        for op in MixOp::ALL {
            let w = u64::from(self.weight(op));
            if point < w {
                return op;
            }
            point -= w;
        }
        MixOp::Put
    }
}

impl std::str::FromStr for Mix {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let mut weights = [0u32; 5];
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, weight) = item
                .split_once('=')
                .ok_or_else(|| format!("{item:?}: expected op=weight"))?;
            let op = match name.trim().to_ascii_lowercase().as_str() {
                "put" => MixOp::Put,
                "get" => MixOp::Get,
                "list" => MixOp::List,
                "delete" | "del" => MixOp::Delete,
                "multipart" | "mpu" => MixOp::Multipart,
                other => return Err(format!("unknown op {other:?} (put, get, list, delete, multipart)")),
            };
            let w: u32 = weight
                .trim()
                .parse()
                .map_err(|_| format!("{item:?}: the weight must be a whole number"))?;
            if let Some(slot) = weights.get_mut(op.index()) {
                *slot = w;
            }
        }
        let mix = Mix { weights };
        if mix.total() == 0 {
            return Err(format!("{s:?}: no operation has a positive weight"));
        }
        Ok(mix)
    }
}

impl std::fmt::Display for Mix {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = MixOp::ALL
            .iter()
            .filter(|&&op| self.weight(op) > 0)
            .map(|&op| format!("{}={}", op.name().to_ascii_lowercase(), self.weight(op)))
            .collect();
        write!(f, "{}", parts.join(","))
    }
}

/// A duration written as `90`, `90s`, `30m` or `1h` (fractions allowed).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Secs(pub Duration);

impl std::str::FromStr for Secs {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let (number, scale) = match t.chars().last() {
            Some('s') => (t.trim_end_matches('s'), 1.0),
            Some('m') => (t.trim_end_matches('m'), 60.0),
            Some('h') => (t.trim_end_matches('h'), 3600.0),
            _ => (t, 1.0),
        };
        let n: f64 = number
            .trim()
            .parse()
            .map_err(|_| format!("{s:?}: expected seconds, or a number with s, m or h"))?;
        Duration::try_from_secs_f64(n * scale)
            .ok()
            .filter(|d| !d.is_zero())
            .map(Secs)
            .ok_or_else(|| format!("{s:?}: must be positive"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_parses_picks_in_proportion_and_prints() {
        let mix: Mix = "put=40,get=40,list=5,delete=10,multipart=5".parse().unwrap();
        assert_eq!(mix.to_string(), "put=40,get=40,list=5,delete=10,multipart=5");
        let mut counts = [0u32; 5];
        for r in 0..100 {
            counts[mix.pick(r).index()] += 1;
        }
        assert_eq!(counts, [40, 40, 5, 10, 5]);
        let only_get: Mix = "get=1".parse().unwrap();
        assert!((0..50).all(|r| only_get.pick(r) == MixOp::Get));
        assert!("put=0".parse::<Mix>().is_err());
        assert!("copy=3".parse::<Mix>().is_err());
        assert!("put".parse::<Mix>().is_err());
        assert!("put=-1".parse::<Mix>().is_err());
    }

    #[test]
    fn durations_parse() {
        assert_eq!("90".parse::<Secs>().unwrap().0, Duration::from_secs(90));
        assert_eq!("30m".parse::<Secs>().unwrap().0, Duration::from_secs(1800));
        assert_eq!("1.5h".parse::<Secs>().unwrap().0, Duration::from_secs(5400));
        assert_eq!("2s".parse::<Secs>().unwrap().0, Duration::from_secs(2));
        assert!("0s".parse::<Secs>().is_err());
        assert!("ten".parse::<Secs>().is_err());
        assert!("-5".parse::<Secs>().is_err());
    }
}
