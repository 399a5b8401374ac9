//! The few `/proc` readings a run records: a process's CPU time (utime +
//! stime of `/proc/PID/stat`, all threads), its resident memory (`VmRSS`,
//! and the peak `VmHWM` that writing `5` to `/proc/PID/clear_refs` resets)
//! and the load average; and for the mixed workload's leak checks, a
//! process's open file descriptors and the entries of a directory. Linux
//! only; anything unreadable is `None` and shows as "-" in the report.

/// Clock ticks per second for `/proc/PID/stat`. `getconf CLK_TCK` is 100
/// on every Linux architecture this runs on.
const CLOCK_TICKS: f64 = 100.0;

/// CPU seconds (user + system) the process has used so far.
pub fn process_cpu_secs(pid: u32) -> Option<f64> {
    stat_cpu_secs(&std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?)
}

/// CPU seconds this process has used so far.
pub fn self_cpu_secs() -> Option<f64> {
    stat_cpu_secs(&std::fs::read_to_string("/proc/self/stat").ok()?)
}

/// The 1, 5 and 15 minute load averages.
pub fn loadavg() -> Option<[f64; 3]> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let mut it = text.split_whitespace().map(|f| f.parse::<f64>().ok());
    Some([it.next()??, it.next()??, it.next()??])
}

/// Resident memory of a process, in KiB.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// `VmRSS`: resident now.
    pub rss_kib: u64,
    /// `VmHWM`: the peak of `VmRSS` since the process started or since the
    /// last [`reset_peak_rss`].
    pub hwm_kib: u64,
}

/// The process's current and peak resident memory.
pub fn memory(pid: u32) -> Option<Memory> {
    status_memory(&std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?)
}

/// Resets the process's `VmHWM` to its current `VmRSS` (Linux 4.0 and
/// later; needs the right to write the process's `clear_refs`, which the
/// process's owner has). Returns whether the kernel accepted it.
pub fn reset_peak_rss(pid: u32) -> bool {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").is_ok()
}

/// Open file descriptors of a process: the entries of `/proc/PID/fd`
/// (sockets, files, pipes, eventfds alike).
pub fn open_fds(pid: u32) -> Option<u64> {
    count_entries(std::path::Path::new(&format!("/proc/{pid}/fd")))
}

/// Entries of a directory (not recursive); None when it cannot be read.
pub fn count_entries(dir: &std::path::Path) -> Option<u64> {
    let entries = std::fs::read_dir(dir).ok()?;
    Some(entries.filter(Result::is_ok).count() as u64)
}

/// `VmRSS` and `VmHWM` of a status file (lines like `VmRSS:   1234 kB`).
fn status_memory(status: &str) -> Option<Memory> {
    let field = |name: &str| -> Option<u64> {
        let line = status.lines().find(|l| l.starts_with(name))?;
        line.get(name.len()..)?.split_whitespace().next()?.parse().ok()
    };
    Some(Memory {
        rss_kib: field("VmRSS:")?,
        hwm_kib: field("VmHWM:")?,
    })
}

/// Fields 14 (utime) and 15 (stime) of a stat line. The command name
/// (field 2) is in parentheses and may itself contain spaces or `)`, so
/// fields are counted from the last `)`: field 3 is the first after it.
fn stat_cpu_secs(stat: &str) -> Option<f64> {
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    let mut fields = rest.split_whitespace().skip(11);
    let utime: u64 = fields.next()?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / CLOCK_TICKS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utime_and_stime_after_a_tricky_name() {
        let line = "1234 (a) b) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 4 0 100 0 0";
        assert_eq!(stat_cpu_secs(line), Some(3.0));
        assert_eq!(stat_cpu_secs("garbage"), None);
    }

    #[test]
    fn parses_memory_from_status() {
        let status = "Name:\tx\nVmPeak:\t 9000 kB\nVmHWM:\t    2048 kB\nVmRSS:\t    1024 kB\n";
        assert_eq!(
            status_memory(status),
            Some(Memory {
                rss_kib: 1024,
                hwm_kib: 2048
            })
        );
        assert_eq!(status_memory("Name:\tkthread\n"), None);
    }

    #[test]
    fn reads_this_process() {
        assert!(self_cpu_secs().is_some());
        assert!(loadavg().is_some());
        let pid = std::process::id();
        let mem = memory(pid).unwrap();
        assert!(mem.hwm_kib >= mem.rss_kib && mem.rss_kib > 0);
        // stdin, stdout, stderr at least (other tests open and close more).
        assert!(open_fds(pid).unwrap() >= 3);
        let dir = tempfile_dir();
        std::fs::write(dir.join("a"), b"x").unwrap();
        assert_eq!(count_entries(&dir), Some(1));
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(count_entries(&dir), None);
    }

    fn tempfile_dir() -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("strongbox-bench-procfs-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir
    }
}
