//! The QR code of a virtual MFA device's `otpauth://` URI, as the PNG that
//! CreateVirtualMFADevice returns (QRCodePNG) and as text for a terminal.
//! The PNG is 8-bit grayscale, 4 pixels per module with the 4-module quiet
//! zone the QR standard asks for, deflate-stored (uncompressed): it is a few
//! kilobytes, and any decoder reads it.
use qrcodegen::{QrCode, QrCodeEcc};

const SCALE: usize = 4;
const QUIET: usize = 4;

/// `otpauth://totp/ISSUER:LABEL?secret=...&issuer=ISSUER`.
pub fn otpauth_uri(issuer: &str, label: &str, base32_seed: &str) -> String {
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, percent_encoding::NON_ALPHANUMERIC).to_string();
    format!(
        "otpauth://totp/{}:{}?secret={base32_seed}&issuer={}",
        enc(issuer),
        enc(label),
        enc(issuer)
    )
}

fn code(text: &str) -> Option<QrCode> {
    QrCode::encode_text(text, QrCodeEcc::Medium).ok()
}

/// The PNG of the QR code of `text` (`None` if the text is too long for a QR code).
pub fn png(text: &str) -> Option<Vec<u8>> {
    let qr = code(text)?;
    let modules = usize::try_from(qr.size()).ok()?;
    let side = (modules + 2 * QUIET) * SCALE;
    // Each row: filter byte 0, then one gray byte per pixel.
    let mut raw = Vec::with_capacity(side * (side + 1));
    for py in 0..side {
        raw.push(0u8);
        for px in 0..side {
            let (mx, my) = ((px / SCALE) as i64 - QUIET as i64, (py / SCALE) as i64 - QUIET as i64);
            let dark =
                mx >= 0 && my >= 0 && qr.get_module(i32::try_from(mx).unwrap_or(-1), i32::try_from(my).unwrap_or(-1));
            raw.push(if dark { 0 } else { 255 });
        }
    }
    let side32 = u32::try_from(side).ok()?;
    let mut ihdr = Vec::with_capacity(13);
    ihdr.extend_from_slice(&side32.to_be_bytes());
    ihdr.extend_from_slice(&side32.to_be_bytes());
    ihdr.extend_from_slice(&[8, 0, 0, 0, 0]); // 8-bit, grayscale, deflate, no filter, no interlace
    let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
    chunk(&mut out, b"IHDR", &ihdr);
    chunk(&mut out, b"IDAT", &zlib_stored(&raw));
    chunk(&mut out, b"IEND", &[]);
    Some(out)
}

/// The QR code as lines of half-block characters (two modules per line),
/// dark on a light terminal background, quiet zone included.
pub fn terminal(text: &str) -> Option<String> {
    let qr = code(text)?;
    let n = qr.size();
    let q = 2;
    let dark = |x: i32, y: i32| x >= 0 && y >= 0 && x < n && y < n && qr.get_module(x, y);
    let mut out = String::new();
    let mut y = -q;
    while y < n + q {
        for x in -q..n + q {
            out.push(match (dark(x, y), dark(x, y + 1)) {
                (true, true) => '█',
                (true, false) => '▀',
                (false, true) => '▄',
                (false, false) => ' ',
            });
        }
        out.push('\n');
        y += 2;
    }
    Some(out)
}

fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
    out.extend_from_slice(&u32::try_from(data.len()).unwrap_or(u32::MAX).to_be_bytes());
    let mut crc = crc32fast::Hasher::new();
    crc.update(kind);
    crc.update(data);
    out.extend_from_slice(kind);
    out.extend_from_slice(data);
    out.extend_from_slice(&crc.finalize().to_be_bytes());
}

/// A zlib stream of stored (uncompressed) deflate blocks.
fn zlib_stored(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x78, 0x01];
    let mut blocks = data.chunks(65_535).peekable();
    if blocks.peek().is_none() {
        out.extend_from_slice(&[1, 0, 0, 0xff, 0xff]);
    }
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(&(!len).to_le_bytes());
        out.extend_from_slice(block);
    }
    let (mut a, mut b) = (1u32, 0u32);
    for &byte in data {
        a = (a + u32::from(byte)) % 65_521;
        b = (b + a) % 65_521;
    }
    out.extend_from_slice(&((b << 16) | a).to_be_bytes());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn png_has_the_expected_shape() {
        let uri = otpauth_uri("Strongbox", "111122223333:alice", "JBSWY3DPEHPK3PXP");
        assert!(
            uri.starts_with("otpauth://totp/Strongbox:111122223333%3Aalice?secret=JBSWY3DPEHPK3PXP&issuer=Strongbox")
        );
        let png = png(&uri).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(&png[12..16], b"IHDR");
        let width = u32::from_be_bytes(png[16..20].try_into().unwrap());
        let modules = QrCode::encode_text(&uri, QrCodeEcc::Medium).unwrap().size() as u32;
        assert_eq!(width, (modules + 8) * 4);
        assert!(png.ends_with(&[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xae, 0x42, 0x60, 0x82]));
        assert!(terminal(&uri).unwrap().contains('█'));
    }
}
