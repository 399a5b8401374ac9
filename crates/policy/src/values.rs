//! Typed condition values: exact decimals, instants, IP networks. Parsing
//! returns `None` for anything unreadable; nothing here panics.

use std::cmp::Ordering;
use std::net::IpAddr;

/// An exact decimal number (`1.2 < 1.3`, `1.20 == 1.2`), no floating point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal {
    negative: bool,
    /// Integer digits without leading zeros.
    int: String,
    /// Fraction digits without trailing zeros.
    frac: String,
}

/// Largest exponent accepted in `1e5`-style numbers.
const MAX_EXPONENT: i64 = 400;

impl Decimal {
    /// Parses `-12.50`, `+3`, `1e3`, `.5`; `None` otherwise.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (negative, body) = match text.as_bytes().first() {
            Some(b'-') => (true, text.get(1..)?),
            Some(b'+') => (false, text.get(1..)?),
            _ => (false, text),
        };
        let (mantissa, exponent) = match body.find(['e', 'E']) {
            Some(i) => (body.get(..i)?, body.get(i + 1..)?.parse::<i64>().ok()?),
            None => (body, 0),
        };
        if !(-MAX_EXPONENT..=MAX_EXPONENT).contains(&exponent) {
            return None;
        }
        let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
        let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
            return None;
        }
        let digits: String = format!("{int}{frac}");
        let point = i64::try_from(int.len()).ok()? + exponent;
        Some(Self::from_digits(negative, &digits, point))
    }

    /// Builds from a digit string with the decimal point after `point` digits.
    fn from_digits(negative: bool, digits: &str, point: i64) -> Self {
        let len = i64::try_from(digits.len()).unwrap_or(i64::MAX);
        let (int, frac) = if point <= 0 {
            (
                String::new(),
                format!("{}{digits}", "0".repeat(usize::try_from(-point).unwrap_or(0))),
            )
        } else if point >= len {
            (
                format!("{digits}{}", "0".repeat(usize::try_from(point - len).unwrap_or(0))),
                String::new(),
            )
        } else {
            let split = usize::try_from(point).unwrap_or(0);
            let (i, f) = digits.split_at(split.min(digits.len()));
            (i.to_owned(), f.to_owned())
        };
        let int = int.trim_start_matches('0').to_owned();
        let frac = frac.trim_end_matches('0').to_owned();
        let negative = negative && !(int.is_empty() && frac.is_empty());
        Decimal { negative, int, frac }
    }

    /// Compares request text with this (policy) value; `None` when the text
    /// is not a number. Plain decimals are compared without allocating.
    pub fn compare_text(text: &str, policy: &Decimal) -> Option<Ordering> {
        let ours = (policy.negative, policy.int.as_str(), policy.frac.as_str());
        match plain_parts(text) {
            Some(theirs) => Some(cmp_parts(theirs, ours)),
            None => Decimal::parse(text).map(|d| cmp_parts((d.negative, &d.int, &d.frac), ours)),
        }
    }
}

/// Sign, integer digits without leading zeros and fraction digits without
/// trailing zeros of a number without exponent; `None` otherwise.
fn plain_parts(text: &str) -> Option<(bool, &str, &str)> {
    let text = text.trim();
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, text.get(1..)?),
        Some(b'+') => (false, text.get(1..)?),
        _ => (false, text),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let all_digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !all_digits(int) || !all_digits(frac) {
        return None;
    }
    let (int, frac) = (int.trim_start_matches('0'), frac.trim_end_matches('0'));
    Some((negative && !(int.is_empty() && frac.is_empty()), int, frac))
}

fn cmp_parts(a: (bool, &str, &str), b: (bool, &str, &str)) -> Ordering {
    let magnitude = |x: (bool, &str, &str), y: (bool, &str, &str)| {
        x.1.len()
            .cmp(&y.1.len())
            .then_with(|| x.1.cmp(y.1))
            .then_with(|| x.2.cmp(y.2))
    };
    match (a.0, b.0) {
        (false, true) => Ordering::Greater,
        (true, false) => Ordering::Less,
        (false, false) => magnitude(a, b),
        (true, true) => magnitude(b, a),
    }
}

impl Ord for Decimal {
    fn cmp(&self, other: &Self) -> Ordering {
        cmp_parts(
            (self.negative, &self.int, &self.frac),
            (other.negative, &other.int, &other.frac),
        )
    }
}

impl PartialOrd for Decimal {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// An instant: seconds since the Unix epoch plus nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Timestamp {
    pub seconds: i64,
    pub nanos: u32,
}

impl Timestamp {
    /// Epoch seconds (`1563278400`) or ISO 8601: `2019-07-16`,
    /// `2019-07-16T12:00:00Z`, `...T12:00Z`, `...T12:00:00.123+02:00`,
    /// `...T12:00:00` (UTC).
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return Some(Timestamp {
                seconds: text.parse().ok()?,
                nanos: 0,
            });
        }
        let (date, time) = match text.split_once(['T', 't']) {
            Some((d, t)) => (d, Some(t)),
            None => (text, None),
        };
        let days = parse_date(date)?;
        let (secs, nanos) = match time {
            Some(t) => parse_time(t)?,
            None => (0, 0),
        };
        Some(Timestamp {
            seconds: days.checked_mul(86_400)?.checked_add(secs)?,
            nanos,
        })
    }
}

fn number(text: &str, len: usize) -> Option<i64> {
    (text.len() == len && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

fn parse_date(date: &str) -> Option<i64> {
    let mut parts = date.split('-');
    let year = number(parts.next()?, 4)?;
    let month = number(parts.next()?, 2)?;
    let day = number(parts.next()?, 2)?;
    if parts.next().is_some() || !(1..=12).contains(&month) || !(1..=days_in_month(year, month)).contains(&day) {
        return None;
    }
    Some(days_from_civil(year, month, day))
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Howard Hinnant's days-from-civil algorithm.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// `HH:MM[:SS[.fff]]` then `Z`, `±HH:MM`, `±HHMM` or nothing (UTC).
fn parse_time(time: &str) -> Option<(i64, u32)> {
    let split = time.find(['Z', 'z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(split);
    let offset = parse_zone(zone)?;
    let (hms, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    let mut parts = hms.split(':');
    let hour = number(parts.next()?, 2)?;
    let minute = number(parts.next()?, 2)?;
    let second = match parts.next() {
        Some(s) => number(s, 2)?,
        None => 0,
    };
    if parts.next().is_some() || hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    if fraction.len() > 9
        || !fraction.bytes().all(|b| b.is_ascii_digit())
        || (clock.contains('.') && fraction.is_empty())
    {
        return None;
    }
    let nanos = if fraction.is_empty() {
        0
    } else {
        format!("{fraction:0<9}").parse().ok()?
    };
    Some((hour * 3600 + minute * 60 + second - offset, nanos))
}

fn parse_zone(zone: &str) -> Option<i64> {
    let sign = match zone.as_bytes().first() {
        None => return Some(0),
        Some(b'Z' | b'z') if zone.len() == 1 => return Some(0),
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return None,
    };
    let digits: String = zone.get(1..)?.chars().filter(|c| *c != ':').collect();
    let hours = number(digits.get(..2)?, 2)?;
    let minutes = number(digits.get(2..)?, 2)?;
    Some(sign * (hours * 3600 + minutes * 60))
}

/// An IPv4 or IPv6 network (a plain address is a full-length prefix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    /// `203.0.113.0/24`, `2001:db8::/32`, `203.0.113.7`.
    pub fn parse(text: &str) -> Option<Self> {
        let text = text.trim();
        let (addr, prefix) = match text.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (text.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(IpNet { addr, prefix })
    }

    /// The network's prefix length in bits (`0` matches every address of its family).
    pub fn prefix_len(&self) -> u8 {
        self.prefix
    }

    /// True when `addr` is inside this network (same family only).
    pub fn contains(&self, addr: IpAddr) -> bool {
        match (self.addr, addr) {
            (IpAddr::V4(net), IpAddr::V4(a)) => {
                same_prefix(u32::from(net).into(), u32::from(a).into(), self.prefix, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(a)) => same_prefix(u128::from(net), u128::from(a), self.prefix, 128),
            _ => false,
        }
    }
}

fn same_prefix(net: u128, addr: u128, prefix: u8, bits: u32) -> bool {
    let shift = bits.saturating_sub(u32::from(prefix));
    net.checked_shr(shift).unwrap_or(0) == addr.checked_shr(shift).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::parse(s).unwrap()
    }

    #[test]
    fn decimals_compare_exactly() {
        assert!(d("1.2") < d("1.3"));
        assert!(d("1.10") < d("1.9"));
        assert_eq!(d("1.10"), d("1.1"));
        assert_eq!(d("1.20"), d("01.2"));
        assert_eq!(d("-0"), d("0"));
        assert!(d("-2") < d("-1.5"));
        assert_eq!(d("1e3"), d("1000"));
        assert_eq!(d("15e-1"), d("1.5"));
        assert!(d("10") > d("9"));
        for bad in ["", "-", "1.2.3", "abc", "1e999", "0x10", "1 2"] {
            assert!(Decimal::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn timestamps_parse_iso_and_epoch() {
        let t = |s: &str| Timestamp::parse(s).unwrap().seconds;
        assert_eq!(t("1970-01-01T00:00:00Z"), 0);
        assert_eq!(t("2019-07-16T12:00:00Z"), 1_563_278_400);
        assert_eq!(t("2019-07-16T14:00:00+02:00"), 1_563_278_400);
        assert_eq!(t("2019-07-16T12:00Z"), 1_563_278_400);
        assert_eq!(t("1563278400"), 1_563_278_400);
        assert_eq!(t("2019-07-16"), 1_563_235_200);
        assert_eq!(Timestamp::parse("2019-07-16T12:00:00.5Z").unwrap().nanos, 500_000_000);
        for bad in [
            "",
            "2019-13-01",
            "2019-02-30",
            "2019-07-16T25:00:00Z",
            "yesterday",
            "2019-07-16T12:00:00.Z",
        ] {
            assert!(Timestamp::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn ip_networks_contain_addresses() {
        let net = IpNet::parse("203.0.113.0/24").unwrap();
        assert!(net.contains("203.0.113.200".parse().unwrap()));
        assert!(!net.contains("203.0.114.1".parse().unwrap()));
        let v6 = IpNet::parse("2001:db8::/32").unwrap();
        assert!(v6.contains("2001:db8:1::5".parse().unwrap()));
        assert!(!v6.contains("203.0.113.1".parse().unwrap()));
        assert!(IpNet::parse("0.0.0.0/0").unwrap().contains("8.8.8.8".parse().unwrap()));
        assert!(IpNet::parse("10.0.0.1").unwrap().contains("10.0.0.1".parse().unwrap()));
        assert!(IpNet::parse("10.0.0.0/33").is_none());
    }
}
