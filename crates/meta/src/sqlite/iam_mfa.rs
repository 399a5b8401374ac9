//! Virtual MFA devices for the SQLite adapter: the sealed seed, who the
//! device is enabled for, the last TOTP step used (replay protection) and
//! the wrong-code counter (rate limiting). Both counters live in the
//! database, so several nodes share them.
use super::account_id;
use super::iam::{count, immediate, user_name};
use crate::Result;
use crate::iam::*;
use rusqlite::{Connection, OptionalExtension, Row, params};

const COLS: &str =
    "serial, account_id, name, path, seed_sealed, owner_kind, owner_user, enabled_ms, created_ms, last_step";

type Raw = (
    String,
    String,
    String,
    String,
    Vec<u8>,
    Option<String>,
    Option<String>,
    Option<i64>,
    i64,
    i64,
);

fn raw(r: &Row) -> rusqlite::Result<Raw> {
    Ok((
        r.get(0)?,
        r.get(1)?,
        r.get(2)?,
        r.get(3)?,
        r.get(4)?,
        r.get(5)?,
        r.get(6)?,
        r.get(7)?,
        r.get(8)?,
        r.get(9)?,
    ))
}

fn from_raw(
    (serial, account, name, path, seed_sealed, kind, user, enabled_ms, created_ms, last_step): Raw,
) -> Result<MfaDevice> {
    let owner = match (kind.as_deref(), user) {
        (Some("root"), _) => Some(MfaOwner::Root),
        (Some("user"), Some(u)) => Some(MfaOwner::User(u)),
        (None, _) => None,
        (Some(other), _) => {
            return Err(crate::MetaError::Corrupt(format!(
                "MFA device {serial} has owner kind {other}"
            )));
        }
    };
    Ok(MfaDevice {
        account_id: account_id(account)?,
        serial,
        name,
        path,
        seed_sealed,
        owner,
        enabled_ms,
        created_ms,
        last_step,
    })
}

pub(super) fn create(c: &mut Connection, d: &MfaDevice) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    if get(&tx, &d.serial)?.is_some() {
        return Ok(Err(Refused::AlreadyExists));
    }
    tx.execute(
        &format!("INSERT INTO iam_mfa_devices({COLS}) VALUES (?1, ?2, ?3, ?4, ?5, NULL, NULL, NULL, ?6, ?7)"),
        params![
            d.serial,
            d.account_id.as_str(),
            d.name,
            d.path,
            d.seed_sealed,
            d.created_ms,
            d.last_step
        ],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn get(c: &Connection, serial: &str) -> Result<Option<MfaDevice>> {
    c.query_row(
        &format!("SELECT {COLS} FROM iam_mfa_devices WHERE serial = ?1"),
        params![serial],
        raw,
    )
    .optional()?
    .map(from_raw)
    .transpose()
}

pub(super) fn list(c: &Connection, account: &str) -> Result<Vec<MfaDevice>> {
    let mut stmt = c.prepare_cached(&format!(
        "SELECT {COLS} FROM iam_mfa_devices WHERE account_id = ?1 ORDER BY serial"
    ))?;
    let rows = stmt.query_map(params![account], raw)?;
    rows.map(|r| from_raw(r?)).collect()
}

pub(super) fn enable(
    c: &mut Connection,
    serial: &str,
    owner: &MfaOwner,
    step: i64,
    now_ms: i64,
) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let Some(device) = get(&tx, serial)? else {
        return Ok(Err(Refused::NoSuchMfaDevice));
    };
    if device.owner.is_some() {
        return Ok(Err(Refused::MfaInUse));
    }
    let account = device.account_id.as_str();
    let (kind, user) = match owner {
        MfaOwner::Root => {
            let taken = count(
                &tx,
                "SELECT count(*) FROM iam_mfa_devices WHERE account_id = ?1 AND owner_kind = 'root'",
                params![account],
            )?;
            if taken > 0 {
                return Ok(Err(Refused::MfaInUse));
            }
            ("root", None)
        }
        MfaOwner::User(name) => {
            let Some(stored) = user_name(&tx, account, name)? else {
                return Ok(Err(Refused::NoSuchUser));
            };
            let n = count(
                &tx,
                "SELECT count(*) FROM iam_mfa_devices WHERE account_id = ?1 AND owner_user = ?2",
                params![account, stored],
            )?;
            if n >= limits::MFA_DEVICES_PER_USER {
                return Ok(Err(Refused::LimitExceeded));
            }
            ("user", Some(stored))
        }
    };
    tx.execute(
        "UPDATE iam_mfa_devices SET owner_kind = ?2, owner_user = ?3, enabled_ms = ?4, last_step = max(last_step, ?5), \
         failures = 0 WHERE serial = ?1",
        params![serial, kind, user, now_ms, step],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn deactivate(c: &mut Connection, serial: &str, owner: &MfaOwner) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let owned = get(&tx, serial)?.is_some_and(|d| match (&d.owner, owner) {
        (Some(MfaOwner::Root), MfaOwner::Root) => true,
        (Some(MfaOwner::User(a)), MfaOwner::User(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    });
    if !owned {
        return Ok(Err(Refused::NoSuchMfaDevice));
    }
    tx.execute(
        "UPDATE iam_mfa_devices SET owner_kind = NULL, owner_user = NULL, enabled_ms = NULL WHERE serial = ?1",
        params![serial],
    )?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn delete(c: &mut Connection, serial: &str) -> Result<Outcome<()>> {
    let tx = immediate(c)?;
    let Some(device) = get(&tx, serial)? else {
        return Ok(Err(Refused::NoSuchMfaDevice));
    };
    if device.owner.is_some() {
        return Ok(Err(Refused::Conflict(Conflict::MfaEnabled)));
    }
    tx.execute("DELETE FROM iam_mfa_devices WHERE serial = ?1", params![serial])?;
    tx.commit()?;
    Ok(Ok(()))
}

pub(super) fn consume_step(c: &mut Connection, serial: &str, step: i64) -> Result<bool> {
    let tx = immediate(c)?;
    let n = tx.execute(
        "UPDATE iam_mfa_devices SET last_step = ?2, failures = 0 WHERE serial = ?1 AND last_step < ?2",
        params![serial, step],
    )?;
    tx.commit()?;
    Ok(n == 1)
}

pub(super) fn record_failure(c: &mut Connection, serial: &str, now_ms: i64, window_ms: i64) -> Result<u32> {
    let tx = immediate(c)?;
    tx.execute(
        "UPDATE iam_mfa_devices SET \
           failures = CASE WHEN failures_since_ms + ?3 <= ?2 THEN 1 ELSE failures + 1 END, \
           failures_since_ms = CASE WHEN failures_since_ms + ?3 <= ?2 THEN ?2 ELSE failures_since_ms END \
         WHERE serial = ?1",
        params![serial, now_ms, window_ms],
    )?;
    let n = failures_in(&tx, serial, now_ms, window_ms)?;
    tx.commit()?;
    Ok(n)
}

pub(super) fn failures_in(c: &Connection, serial: &str, now_ms: i64, window_ms: i64) -> Result<u32> {
    let row: Option<(i64, i64)> = c
        .query_row(
            "SELECT failures, failures_since_ms FROM iam_mfa_devices WHERE serial = ?1",
            params![serial],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(match row {
        Some((n, since)) if since + window_ms > now_ms => u32::try_from(n).unwrap_or(u32::MAX),
        _ => 0,
    })
}
