//! `x-amz-date` (`20150830T123600Z`) and the 15-minute skew rule, with
//! AWS's wording for the two directions.
use crate::{MAX_SKEW, SigV4Error};
use std::time::SystemTime;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};

const AMZ_DATE: &[time::format_description::BorrowedFormatItem<'_>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

pub(crate) fn parse_amz_date(s: &str) -> Option<SystemTime> {
    let t = PrimitiveDateTime::parse(s, AMZ_DATE).ok()?;
    Some(SystemTime::from(t.assume_utc()))
}

pub(crate) fn format_amz_date(t: SystemTime) -> Result<String, SigV4Error> {
    OffsetDateTime::from(t)
        .format(AMZ_DATE)
        .map_err(|e| SigV4Error::Signing(e.to_string()))
}

pub(crate) fn check_skew(amz_date: &str, signed_at: SystemTime, now: SystemTime) -> Result<(), SigV4Error> {
    let show = |t: SystemTime| format_amz_date(t).unwrap_or_default();
    if signed_at + MAX_SKEW < now {
        let limit = now.checked_sub(MAX_SKEW).unwrap_or(now);
        return Err(SigV4Error::TimeSkewed(format!(
            "Signature expired: {amz_date} is now earlier than {} ({} - 15 min.)",
            show(limit),
            show(now)
        )));
    }
    if signed_at > now + MAX_SKEW {
        return Err(SigV4Error::TimeSkewed(format!(
            "Signature not yet current: {amz_date} is still later than {} ({} + 15 min.)",
            show(now + MAX_SKEW),
            show(now)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn round_trips_and_rejects_other_forms() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert_eq!(parse_amz_date("20150830T123600Z"), Some(t));
        assert_eq!(format_amz_date(t).unwrap(), "20150830T123600Z");
        for bad in ["2015-08-30T12:36:00Z", "20150830T123600", "20150830T1236Z", ""] {
            assert_eq!(parse_amz_date(bad), None, "{bad}");
        }
    }

    #[test]
    fn skew_is_fifteen_minutes_either_way() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_440_938_160);
        assert!(check_skew("x", t, t + MAX_SKEW).is_ok());
        assert!(check_skew("x", t, t.checked_sub(MAX_SKEW).unwrap()).is_ok());
        let late = check_skew("20150830T123600Z", t, t + MAX_SKEW + Duration::from_secs(1));
        assert!(
            matches!(late, Err(SigV4Error::TimeSkewed(m)) if m.starts_with("Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z"))
        );
        let early = check_skew("x", t + MAX_SKEW + Duration::from_secs(1), t);
        assert!(matches!(early, Err(SigV4Error::TimeSkewed(m)) if m.starts_with("Signature not yet current")));
    }
}
