//! Virtual MFA devices (TOTP, RFC 6238): CreateVirtualMFADevice,
//! EnableMFADevice, ResyncMFADevice, DeactivateMFADevice,
//! DeleteVirtualMFADevice, ListMFADevices, ListVirtualMFADevices, and the
//! code check STS and the admin CLI use. Seeds are sealed under the root key
//! ([`MFA_SEED_PURPOSE`]); a code once accepted is never accepted again for
//! its device; wrong codes are rate limited per device (see [`check_code`]).
use crate::actions::{Ctx, Reply};
use crate::error::{Subject, refused};
use crate::params::{self, Page};
use crate::xml::Xml;
use crate::{IamError, IamService, identity};
use base64::Engine as _;
use strongbox_crypto::{TOTP_SEED_LEN, base32_encode, hotp, totp_step, verify_totp};
use strongbox_meta::{MFA_SEED_PURPOSE, MfaDevice, MfaOwner, Refused};
use zeroize::Zeroizing;

/// Wrong codes allowed per device within [`FAILURE_WINDOW_MS`]; past it,
/// every code (right or wrong) is refused until the window ends.
pub const MAX_FAILURES: u32 = 5;
pub const FAILURE_WINDOW_MS: i64 = 5 * 60 * 1000;
/// How many steps back EnableMFADevice/ResyncMFADevice look for the first
/// of two consecutive codes (a user may take a while to type them).
const ENABLE_LOOKBACK_STEPS: u64 = 10;

fn serial_subject(serial: &str) -> Subject<'_> {
    Subject {
        serial: Some(serial),
        ..Subject::default()
    }
}

fn invalid_code() -> IamError {
    IamError::InvalidAuthenticationCode("Authentication code for device is not valid.".into())
}

/// `arn:aws:iam::ACCOUNT:mfa/root-account-mfa-device`, AWS's serial for the root's device.
pub fn root_serial(account: &str) -> String {
    format!("arn:aws:iam::{account}:mfa/root-account-mfa-device")
}

/// A new device: a random seed, sealed; returns the record and the seed.
pub fn new_device(
    root_key: &strongbox_crypto::RootKey,
    account: &strongbox_types::AccountId,
    path: &str,
    name: &str,
    now_ms: i64,
) -> Result<(MfaDevice, Zeroizing<Vec<u8>>), IamError> {
    let seed = Zeroizing::new(strongbox_crypto::random_bytes(TOTP_SEED_LEN).map_err(IamError::internal)?);
    let sealed = strongbox_crypto::seal_secret(root_key, MFA_SEED_PURPOSE, &seed).map_err(IamError::internal)?;
    let device = MfaDevice {
        account_id: account.clone(),
        serial: format!("arn:aws:iam::{account}:mfa{path}{name}"),
        name: name.to_owned(),
        path: path.to_owned(),
        seed_sealed: sealed,
        owner: None,
        enabled_ms: None,
        created_ms: now_ms,
        last_step: 0,
    };
    Ok((device, seed))
}

fn open_seed(svc: &IamService, device: &MfaDevice) -> Result<Zeroizing<Vec<u8>>, IamError> {
    strongbox_crypto::open_secret(&svc.root_key, MFA_SEED_PURPOSE, &device.seed_sealed)
        .map_err(|e| IamError::internal(format!("opening the seed of {}: {e}", device.serial)))
}

/// Why a code was refused.
#[derive(Debug, PartialEq, Eq)]
pub enum CodeRefused {
    /// No such device, or not enabled for this owner.
    NoDevice,
    /// Wrong, replayed, or too many wrong codes lately.
    Invalid,
}

/// Checks `code` for the device `serial` enabled for `owner`, now. A right
/// code is consumed (a replay is refused); a wrong one is counted and
/// answered after a delay that grows with the count.
pub async fn check_code(
    svc: &IamService,
    serial: &str,
    owner: &MfaOwner,
    code: &str,
) -> Result<Result<(), CodeRefused>, IamError> {
    check_code_in(svc.meta.as_ref(), &svc.root_key, serial, owner, code).await
}

/// [`check_code`] for callers outside the IAM service (S3's `x-amz-mfa`).
pub async fn check_code_in(
    meta: &dyn strongbox_meta::MetaStore,
    root_key: &strongbox_crypto::RootKey,
    serial: &str,
    owner: &MfaOwner,
    code: &str,
) -> Result<Result<(), CodeRefused>, IamError> {
    let Some(device) = meta.get_mfa_device(serial).await? else {
        return Ok(Err(CodeRefused::NoDevice));
    };
    let owned = match (&device.owner, owner) {
        (Some(MfaOwner::Root), MfaOwner::Root) => true,
        (Some(MfaOwner::User(a)), MfaOwner::User(b)) => a.eq_ignore_ascii_case(b),
        _ => false,
    };
    if !owned {
        return Ok(Err(CodeRefused::NoDevice));
    }
    let now_ms = identity::now_ms();
    if meta.mfa_failures(serial, now_ms, FAILURE_WINDOW_MS).await? >= MAX_FAILURES {
        tracing::warn!(serial, "MFA code refused: too many wrong codes for this device");
        return Ok(Err(CodeRefused::Invalid));
    }
    let seed = strongbox_crypto::open_secret(root_key, MFA_SEED_PURPOSE, &device.seed_sealed)
        .map_err(|e| IamError::internal(format!("opening the seed of {}: {e}", device.serial)))?;
    let now_s = u64::try_from(now_ms / 1000).unwrap_or(0);
    let accepted = match verify_totp(&seed, code, now_s) {
        Some(step) => {
            meta.consume_mfa_step(serial, i64::try_from(step).unwrap_or(i64::MAX))
                .await?
        }
        None => false,
    };
    if accepted {
        return Ok(Ok(()));
    }
    let failures = meta.record_mfa_failure(serial, now_ms, FAILURE_WINDOW_MS).await?;
    tracing::info!(serial, failures, "MFA code refused");
    // Slow down guessing: 250 ms per recent failure, at most 2 s.
    tokio::time::sleep(std::time::Duration::from_millis(250 * u64::from(failures.min(8)))).await;
    Ok(Err(CodeRefused::Invalid))
}

/// The later step of two consecutive codes, within the lookback window.
pub fn consecutive_codes(seed: &[u8], code1: &str, code2: &str, now_s: u64) -> Option<u64> {
    let valid = |c: &str| c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit());
    if !valid(code1) || !valid(code2) {
        return None;
    }
    let now = totp_step(now_s);
    let mut found = None;
    for step in now.saturating_sub(ENABLE_LOOKBACK_STEPS)..=now {
        let a = format!("{:06}", hotp(seed, step, 6));
        let b = format!("{:06}", hotp(seed, step + 1, 6));
        if strongbox_crypto::ct_eq(a.as_bytes(), code1.as_bytes())
            && strongbox_crypto::ct_eq(b.as_bytes(), code2.as_bytes())
        {
            found = Some(step + 1);
        }
    }
    found
}

fn code_params<'a>(cx: &'a Ctx<'_>) -> Result<(&'a str, &'a str), IamError> {
    let c1 = cx.params.required("AuthenticationCode1", "authenticationCode1")?;
    let c2 = cx.params.required("AuthenticationCode2", "authenticationCode2")?;
    for (field, c) in [("authenticationCode1", c1), ("authenticationCode2", c2)] {
        if c.len() != 6 || !c.bytes().all(|b| b.is_ascii_digit()) {
            return Err(IamError::invalid(
                field,
                Some(c),
                "Member must satisfy regular expression pattern: [\\d]+",
            ));
        }
    }
    Ok((c1, c2))
}

fn serial_param<'a>(cx: &'a Ctx<'_>) -> Result<&'a str, IamError> {
    let serial = cx.params.required("SerialNumber", "serialNumber")?;
    if serial.len() < 9 || serial.len() > 256 {
        return Err(IamError::invalid(
            "serialNumber",
            Some(serial),
            "Member must have length between 9 and 256",
        ));
    }
    Ok(serial)
}

pub(crate) async fn create_virtual_mfa_device(cx: &Ctx<'_>) -> Reply {
    let name = cx.params.required("VirtualMFADeviceName", "virtualMFADeviceName")?;
    params::name("virtualMFADeviceName", name, 226)?;
    let path = cx.params.get("Path").unwrap_or("/");
    params::path("path", path)?;
    let arn = format!("arn:aws:iam::{}:mfa{path}{name}", cx.account());
    cx.authorize("CreateVirtualMFADevice", &arn)?;
    let (device, seed) = new_device(&cx.svc.root_key, cx.caller.account_id(), path, name, cx.now_ms)?;
    cx.meta()
        .create_mfa_device(&device)
        .await?
        .map_err(|r| refused(r, serial_subject(&device.serial)))?;
    let base32 = Zeroizing::new(base32_encode(&seed));
    let uri = Zeroizing::new(crate::qr::otpauth_uri(
        "Strongbox",
        &format!("{name}@{}", cx.account()),
        &base32,
    ));
    let png = crate::qr::png(&uri).ok_or_else(|| IamError::internal("the otpauth URI does not fit a QR code"))?;
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut x = Xml::new();
    // Both are blobs in AWS's model: base64 of the base32 text and of the PNG.
    x.open("VirtualMFADevice")
        .text("SerialNumber", &device.serial)
        .text("Base32StringSeed", &b64.encode(base32.as_bytes()))
        .text("QRCodePNG", &b64.encode(&png))
        .close("VirtualMFADevice");
    Ok(Some(x.finish()))
}

/// EnableMFADevice (`resync` false) and ResyncMFADevice: two consecutive codes.
async fn two_codes(cx: &Ctx<'_>, resync: bool) -> Reply {
    let user = cx.params.required("UserName", "userName")?;
    params::name("userName", user, params::EXISTING_NAME_MAX)?;
    let serial = serial_param(cx)?;
    let (c1, c2) = code_params(cx)?;
    let action = if resync { "ResyncMFADevice" } else { "EnableMFADevice" };
    cx.authorize(action, &cx.user_resource(user).await?)?;
    let stored = crate::users::existing_user(cx, user).await?;
    let device = cx
        .meta()
        .get_mfa_device(serial)
        .await?
        .filter(|d| d.account_id.as_str() == cx.account())
        .ok_or_else(|| refused(Refused::NoSuchMfaDevice, serial_subject(serial)))?;
    if resync && device.owner != Some(MfaOwner::User(stored.name.clone())) {
        return Err(refused(Refused::NoSuchMfaDevice, serial_subject(serial)));
    }
    if cx.meta().mfa_failures(serial, cx.now_ms, FAILURE_WINDOW_MS).await? >= MAX_FAILURES {
        return Err(invalid_code());
    }
    let seed = open_seed(cx.svc, &device)?;
    let now_s = u64::try_from(cx.now_ms / 1000).unwrap_or(0);
    let Some(step) = consecutive_codes(&seed, c1, c2, now_s) else {
        cx.meta()
            .record_mfa_failure(serial, cx.now_ms, FAILURE_WINDOW_MS)
            .await?;
        return Err(invalid_code());
    };
    let step = i64::try_from(step).unwrap_or(i64::MAX);
    if resync {
        // A resync must not re-open codes already used.
        if !cx.meta().consume_mfa_step(serial, step).await? {
            return Err(invalid_code());
        }
        return Ok(None);
    }
    cx.meta()
        .enable_mfa_device(serial, &MfaOwner::User(stored.name.clone()), step, cx.now_ms)
        .await?
        .map_err(|r| {
            refused(
                r,
                Subject {
                    user: Some(&stored.name),
                    serial: Some(serial),
                    ..Subject::default()
                },
            )
        })?;
    Ok(None)
}

pub(crate) async fn enable_mfa_device(cx: &Ctx<'_>) -> Reply {
    two_codes(cx, false).await
}

pub(crate) async fn resync_mfa_device(cx: &Ctx<'_>) -> Reply {
    two_codes(cx, true).await
}

pub(crate) async fn deactivate_mfa_device(cx: &Ctx<'_>) -> Reply {
    let serial = serial_param(cx)?;
    let owner = match cx.user_or_self()? {
        Some(user) => {
            cx.authorize("DeactivateMFADevice", &cx.user_resource(&user).await?)?;
            MfaOwner::User(crate::users::existing_user(cx, &user).await?.name)
        }
        None => {
            cx.authorize("DeactivateMFADevice", &cx.caller.arn())?;
            MfaOwner::Root
        }
    };
    cx.meta()
        .deactivate_mfa_device(serial, &owner)
        .await?
        .map_err(|r| refused(r, serial_subject(serial)))?;
    Ok(None)
}

pub(crate) async fn delete_virtual_mfa_device(cx: &Ctx<'_>) -> Reply {
    let serial = serial_param(cx)?;
    cx.authorize("DeleteVirtualMFADevice", serial)?;
    let owned = cx
        .meta()
        .get_mfa_device(serial)
        .await?
        .is_some_and(|d| d.account_id.as_str() == cx.account());
    if !owned {
        return Err(refused(Refused::NoSuchMfaDevice, serial_subject(serial)));
    }
    cx.meta().delete_mfa_device(serial).await?.map_err(|r| match r {
        Refused::Conflict(_) => IamError::DeleteConflict("MFA Device is in use and cannot be deleted.".into()),
        r => refused(r, serial_subject(serial)),
    })?;
    Ok(None)
}

pub(crate) async fn list_mfa_devices(cx: &Ctx<'_>) -> Reply {
    let page = Page::from(&cx.params)?;
    let (owner, resource) = match cx.user_or_self()? {
        Some(user) => {
            let resource = cx.user_resource(&user).await?;
            (MfaOwner::User(user), resource)
        }
        None => (MfaOwner::Root, cx.caller.arn()),
    };
    cx.authorize("ListMFADevices", &resource)?;
    if let MfaOwner::User(user) = &owner {
        crate::users::existing_user(cx, user).await?;
    }
    let devices: Vec<MfaDevice> = cx
        .meta()
        .list_mfa_devices(cx.account())
        .await?
        .into_iter()
        .filter(|d| match (&d.owner, &owner) {
            (Some(MfaOwner::User(a)), MfaOwner::User(b)) => a.eq_ignore_ascii_case(b),
            (Some(MfaOwner::Root), MfaOwner::Root) => true,
            _ => false,
        })
        .collect();
    let (devices, next) = page.apply(devices, |d| d.serial.clone());
    let mut x = Xml::new();
    x.open("MFADevices");
    for d in &devices {
        x.open("member");
        if let Some(MfaOwner::User(u)) = &d.owner {
            x.text("UserName", u);
        }
        x.text("SerialNumber", &d.serial)
            .date("EnableDate", d.enabled_ms.unwrap_or(d.created_ms))
            .close("member");
    }
    x.close("MFADevices").truncation(next.as_deref());
    Ok(Some(x.finish()))
}

pub(crate) async fn list_virtual_mfa_devices(cx: &Ctx<'_>) -> Reply {
    let status = cx.params.get("AssignmentStatus").unwrap_or("Any");
    if !matches!(status, "Assigned" | "Unassigned" | "Any") {
        return Err(IamError::invalid(
            "assignmentStatus",
            Some(status),
            "Member must satisfy enum value set: [Assigned, Any, Unassigned]",
        ));
    }
    let page = Page::from(&cx.params)?;
    cx.authorize("ListVirtualMFADevices", &format!("arn:aws:iam::{}:mfa/*", cx.account()))?;
    let devices: Vec<MfaDevice> = cx
        .meta()
        .list_mfa_devices(cx.account())
        .await?
        .into_iter()
        .filter(|d| match status {
            "Assigned" => d.owner.is_some(),
            "Unassigned" => d.owner.is_none(),
            _ => true,
        })
        .collect();
    let (devices, next) = page.apply(devices, |d| d.serial.clone());
    let mut x = Xml::new();
    x.open("VirtualMFADevices");
    for d in &devices {
        x.open("member").text("SerialNumber", &d.serial);
        match &d.owner {
            Some(MfaOwner::User(u)) => {
                if let Some(user) = cx.meta().get_user(cx.account(), u).await? {
                    x.user("User", &user);
                }
            }
            Some(MfaOwner::Root) => {
                x.open("User")
                    .text("UserId", cx.account())
                    .text("Arn", &cx.svc_root_arn())
                    .date("CreateDate", d.created_ms)
                    .close("User");
            }
            None => {}
        }
        if let Some(at) = d.enabled_ms {
            x.date("EnableDate", at);
        }
        x.close("member");
    }
    x.close("VirtualMFADevices").truncation(next.as_deref());
    Ok(Some(x.finish()))
}
