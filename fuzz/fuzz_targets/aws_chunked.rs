//! aws-chunked request bodies (`STREAMING-*` x-amz-content-sha256): s3s's
//! `AwsChunkedStream` decodes the body of every streaming PUT/UploadPart.
//! Only the seed signature is checked before the body is read, so chunk
//! headers, chunk signatures and trailers are attacker-controlled input.
//!
//! Input: byte 0 selects the mode (bit 0: signed chunks, bit 1: trailer
//! expected, bit 2: the harness builds a correctly signed body from the rest
//! instead of using it raw, bit 3: then flip one byte of that body); bytes
//! 1-2 the declared decoded length (raw mode); bytes 3-5 where the body is
//! split into the pieces the stream receives; the rest is the body (raw
//! mode) or, in build mode, `payload 0xFF chunk-sizes 0xFF trailer lines`.
//!
//! Oracles:
//! - decoding never panics and ends (libFuzzer's -timeout catches a hang);
//! - it never yields more bytes than the declared decoded length, and when
//!   it ends without error it has yielded exactly that many;
//! - a body the harness encoded correctly (signed or not, with trailers
//!   s3s accepts) decodes, to exactly its payload;
//! - a signed body with a byte flipped either fails or decodes to the same
//!   payload: a forged chunk is never delivered.
#![no_main]

use bytes::Bytes;
use futures::StreamExt;
use libfuzzer_sys::fuzz_target;
use s3s::Sha256Sum;
use s3s::auth::SecretKey;
use s3s::stream::aws_chunked_stream::AwsChunkedStream;
use s3s_sigv4::AmzDate;

const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const SEED: &str = "4f232c4386841ef735655705268965c44a0e4690baa4adea153f7db9fa80a0a9";
const DATE: &str = "20130524T000000Z";
const REGION: &str = "us-east-1";
const MAX_CHUNK: usize = 64 * 1024;

type StdError = Box<dyn std::error::Error + Send + Sync + 'static>;

fuzz_target!(|data: &[u8]| {
    let Some((head, rest)) = data.split_at_checked(6) else {
        return;
    };
    let mode = head[0];
    let signed = mode & 1 != 0;
    let trailer = mode & 2 != 0;
    let build = mode & 4 != 0;
    let flip = mode & 8 != 0;
    let splits = [head[3], head[4], head[5]];
    if build {
        let Some(b) = Built::new(rest, signed, trailer) else {
            return;
        };
        let mut body = b.body.clone();
        let flipped = if flip && !body.is_empty() {
            let i = usize::from(u16::from_be_bytes([head[1], head[2]])) % body.len();
            body[i] ^= 1 << (head[1] & 7);
            true
        } else {
            false
        };
        match decode(&body, b.payload.len(), signed, &splits) {
            // Unsigned chunks carry no integrity: a flipped one may decode to other bytes.
            Ok(got) if signed || !flipped => assert_eq!(got, b.payload, "decoded bytes differ from the payload"),
            Ok(_) => {}
            Err(e) => assert!(flipped || !b.trailers_are_valid, "a correctly built body fails: {e}"),
        }
    } else {
        let declared = usize::from(u16::from_be_bytes([head[1], head[2]]));
        let _ = decode(rest, declared, signed, &splits);
    }
});

/// Runs the stream to its end; the declared-length oracle is checked here.
fn decode(body: &[u8], declared: usize, signed: bool, splits: &[u8; 3]) -> Result<Vec<u8>, String> {
    let mut cuts: Vec<usize> = splits
        .iter()
        .map(|&s| {
            if body.is_empty() {
                0
            } else {
                usize::from(s) * body.len() / 256
            }
        })
        .collect();
    cuts.sort_unstable();
    let mut pieces: Vec<Result<Bytes, StdError>> = Vec::new();
    let mut at = 0;
    for c in cuts.into_iter().chain([body.len()]) {
        pieces.push(Ok(Bytes::copy_from_slice(&body[at..c])));
        at = c;
    }
    let Ok(amz_date) = AmzDate::parse(DATE) else {
        unreachable!("fixed date parses")
    };
    let Some(seed) = Sha256Sum::from_hex(SEED) else {
        unreachable!("fixed seed parses")
    };
    let stream = AwsChunkedStream::new(
        futures::stream::iter(pieces),
        seed,
        amz_date,
        REGION.into(),
        "s3".into(),
        SecretKey::from(SECRET),
        declared,
        !signed,
        MAX_CHUNK,
    );
    futures::executor::block_on(async move {
        futures::pin_mut!(stream);
        let mut out = Vec::new();
        while let Some(item) = stream.next().await {
            match item {
                Ok(bytes) => {
                    out.extend_from_slice(&bytes);
                    assert!(out.len() <= declared, "yielded {} > declared {declared}", out.len());
                }
                Err(e) => return Err(e.to_string()),
            }
        }
        assert_eq!(out.len(), declared, "ended cleanly short of the declared length");
        Ok(out)
    })
}

/// A body the harness encodes (and signs) itself.
struct Built {
    payload: Vec<u8>,
    body: Vec<u8>,
    trailers_are_valid: bool,
}

impl Built {
    fn new(input: &[u8], signed: bool, trailer: bool) -> Option<Self> {
        let mut parts = input.splitn(3, |&b| b == 0xFF);
        let payload = parts.next()?.to_vec();
        let sizes: Vec<usize> = parts
            .next()
            .unwrap_or_default()
            .iter()
            .map(|&b| usize::from(b) + 1)
            .collect();
        let trailer_text = parts.next().unwrap_or_default();
        let Ok(amz_date) = AmzDate::parse(DATE) else {
            return None;
        };
        let key = s3s_sigv4::derive_signing_key(SECRET, &amz_date, REGION, "s3");
        let mut prev = SEED.to_owned();
        let mut body = Vec::new();
        let chunk = |body: &mut Vec<u8>, data: &[u8], prev: &mut String| {
            body.extend_from_slice(format!("{:x}", data.len()).as_bytes());
            if signed {
                let sts = s3s_sigv4::create_chunk_string_to_sign(&amz_date, REGION, "s3", prev, &[data]);
                let sig = hex(&s3s_sigv4::calculate_signature_with_key(&sts, &key));
                body.extend_from_slice(format!(";chunk-signature={sig}").as_bytes());
                *prev = sig;
            }
            body.extend_from_slice(b"\r\n");
            body.extend_from_slice(data);
            if !data.is_empty() {
                body.extend_from_slice(b"\r\n");
            }
        };
        let mut rest = payload.as_slice();
        let mut i = 0;
        while !rest.is_empty() {
            let n = sizes.get(i).copied().unwrap_or(8192).min(rest.len());
            i += 1;
            let (now, later) = rest.split_at(n);
            chunk(&mut body, now, &mut prev);
            rest = later;
        }
        chunk(&mut body, &[], &mut prev);
        let lines: Vec<(String, String)> = if trailer {
            String::from_utf8_lossy(trailer_text)
                .lines()
                .filter_map(|l| l.split_once(':'))
                .map(|(n, v)| (n.to_ascii_lowercase(), v.trim_ascii().to_owned()))
                .filter(|(n, _)| n != "x-amz-trailer-signature")
                .collect()
        } else {
            Vec::new()
        };
        let trailer_bytes: usize = lines.iter().map(|(n, v)| n.len() + v.len() + 3).sum();
        // s3s caps trailers at 100 lines and 16 KiB; over that is a rejection, not a bug.
        let trailers_are_valid = lines.len() < 90
            && trailer_bytes < 15 * 1024
            && lines.iter().all(|(n, v)| {
                http::HeaderName::from_bytes(n.as_bytes()).is_ok()
                    && http::HeaderValue::from_str(v).is_ok()
                    && !n.contains(['\r', '\n'])
                    && !v.contains(['\r', '\n'])
            });
        for (n, v) in &lines {
            body.extend_from_slice(format!("{n}:{v}\r\n").as_bytes());
        }
        if trailer && signed {
            let mut sorted = lines.clone();
            sorted.sort_by(|a, b| a.0.cmp(&b.0));
            let canonical: String = sorted.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
            let sts = s3s_sigv4::create_trailer_string_to_sign(&amz_date, REGION, "s3", &prev, canonical.as_bytes());
            let sig = hex(&s3s_sigv4::calculate_signature_with_key(&sts, &key));
            body.extend_from_slice(format!("x-amz-trailer-signature:{sig}\r\n").as_bytes());
        }
        body.extend_from_slice(b"\r\n");
        Some(Self {
            payload,
            body,
            trailers_are_valid,
        })
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
