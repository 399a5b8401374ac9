//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP) as virtual
//! MFA apps compute them: HMAC-SHA-1, 30-second steps, 6 digits; and the
//! RFC 4648 base32 the seed is shown in (`Base32StringSeed`, `otpauth://`).
use ring::hmac;

/// Seconds per TOTP time step.
pub const TOTP_STEP_SECONDS: u64 = 30;
/// Digits of a code.
pub const TOTP_DIGITS: u32 = 6;
/// Bytes of a generated seed (160 bits, RFC 4226's recommendation).
pub const TOTP_SEED_LEN: usize = 20;

/// The HOTP value of `seed` at counter `step`, `digits` long.
pub fn hotp(seed: &[u8], step: u64, digits: u32) -> u32 {
    let key = hmac::Key::new(hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY, seed);
    let mac = hmac::sign(&key, &step.to_be_bytes());
    let mac = mac.as_ref();
    // RFC 4226 §5.3 dynamic truncation; a SHA-1 MAC is 20 bytes, so the
    // offset (≤ 15) plus 4 is always in range.
    let offset = usize::from(mac.last().copied().unwrap_or(0) & 0x0f);
    let word = match mac.get(offset..offset + 4) {
        Some(&[a, b, c, d]) => u32::from_be_bytes([a & 0x7f, b, c, d]),
        _ => 0,
    };
    word % 10u32.pow(digits)
}

/// The time step of a Unix time.
pub fn totp_step(unix_seconds: u64) -> u64 {
    unix_seconds / TOTP_STEP_SECONDS
}

/// The step whose code `code` is, within ±1 step of `unix_seconds` (clock
/// skew), or `None`. Each candidate is compared in constant time; the caller
/// still has to refuse a step already used (replay).
pub fn verify_totp(seed: &[u8], code: &str, unix_seconds: u64) -> Option<u64> {
    if code.len() != TOTP_DIGITS as usize || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let now = totp_step(unix_seconds);
    let mut found = None;
    for step in [now.saturating_sub(1), now, now + 1] {
        let expected = format!("{:06}", hotp(seed, step, TOTP_DIGITS));
        if crate::ct_eq(expected.as_bytes(), code.as_bytes()) && found.is_none() {
            found = Some(step);
        }
    }
    found
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding (as authenticator apps take it).
pub fn base32_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(symbol(buffer >> bits));
        }
    }
    if bits > 0 {
        out.push(symbol(buffer << (5 - bits)));
    }
    out
}

fn symbol(v: u32) -> char {
    char::from(BASE32.get((v & 31) as usize).copied().unwrap_or(b'A'))
}

/// Decodes base32 (case-insensitive, padding and spaces ignored); `None` on other characters.
pub fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.bytes().filter(|c| !matches!(c, b'=' | b' ')) {
        let v = BASE32.iter().position(|&a| a == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | u32::try_from(v).ok()?;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(u8::try_from((buffer >> bits) & 0xff).ok()?);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 Appendix B, SHA-1 rows (seed "12345678901234567890", 8 digits).
    #[test]
    fn rfc6238_vectors() {
        let seed = b"12345678901234567890";
        for (time, code) in [
            (59u64, 94_287_082u32),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ] {
            assert_eq!(hotp(seed, totp_step(time), 8), code, "T={time}");
            assert_eq!(hotp(seed, totp_step(time), 6), code % 1_000_000, "T={time}");
        }
    }

    #[test]
    fn verify_accepts_one_step_of_skew_only() {
        let seed = b"12345678901234567890";
        let t = 1_234_567_890;
        let code = |step| format!("{:06}", hotp(seed, step, 6));
        let now = totp_step(t);
        assert_eq!(verify_totp(seed, &code(now), t), Some(now));
        assert_eq!(verify_totp(seed, &code(now - 1), t), Some(now - 1));
        assert_eq!(verify_totp(seed, &code(now + 1), t), Some(now + 1));
        assert_eq!(verify_totp(seed, &code(now + 2), t), None);
        assert_eq!(verify_totp(seed, &code(now - 2), t), None);
        assert_eq!(verify_totp(seed, "12345", t), None);
        assert_eq!(verify_totp(seed, "12345a", t), None);
    }

    #[test]
    fn base32_round_trips() {
        // RFC 4648 §10.
        assert_eq!(base32_encode(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32_encode(b"f"), "MY");
        assert_eq!(base32_decode("MZXW6YTBOI======").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(base32_decode("mzxw6ytboi").as_deref(), Some(&b"foobar"[..]));
        assert_eq!(base32_decode("MZ1"), None);
        let seed: Vec<u8> = (0u8..20).collect();
        assert_eq!(base32_decode(&base32_encode(&seed)), Some(seed));
    }
}
