//! Just enough XML for the few S3 responses the generator reads
//! (ListObjectsV2, CreateMultipartUpload, CompleteMultipartUpload) and the
//! one body it writes (CompleteMultipartUpload). S3 puts no attributes,
//! comments or CDATA in these elements, so an element is found as the text
//! between `<Tag>` and `</Tag>`; the text is then entity-decoded. This is a
//! load generator's reader, not a general parser: it trusts the server to
//! send well-formed S3 XML and checks only what the benchmark relies on.
use std::borrow::Cow;

/// The raw (still escaped) texts of every `<tag>...</tag>` element, in order.
pub fn raw_elements<'a>(xml: &'a str, tag: &str) -> impl Iterator<Item = &'a str> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let mut rest = xml;
    std::iter::from_fn(move || {
        let start = rest.find(&open)? + open.len();
        let after_open = rest.get(start..)?;
        let len = after_open.find(&close)?;
        let text = after_open.get(..len)?;
        rest = after_open.get(len + close.len()..)?;
        Some(text)
    })
}

/// The decoded text of the first `<tag>` element.
pub fn first(xml: &str, tag: &str) -> Option<String> {
    raw_elements(xml, tag).next().map(|t| unescape(t).into_owned())
}

/// Decodes the five predefined entities and numeric character references.
/// An unknown or malformed reference is kept as it is.
pub fn unescape(text: &str) -> Cow<'_, str> {
    if !text.contains('&') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(rest.get(..amp).unwrap_or_default());
        let tail = rest.get(amp..).unwrap_or_default();
        let decoded = tail.find(';').and_then(|semi| {
            let name = tail.get(1..semi)?;
            Some((entity(name)?, semi + 1))
        });
        match decoded {
            Some((c, used)) => {
                out.push(c);
                rest = tail.get(used..).unwrap_or_default();
            }
            None => {
                out.push('&');
                rest = tail.get(1..).unwrap_or_default();
            }
        }
    }
    out.push_str(rest);
    Cow::Owned(out)
}

fn entity(name: &str) -> Option<char> {
    match name {
        "amp" => Some('&'),
        "lt" => Some('<'),
        "gt" => Some('>'),
        "quot" => Some('"'),
        "apos" => Some('\''),
        _ => {
            let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                None => name.strip_prefix('#')?.parse().ok()?,
            };
            char::from_u32(code)
        }
    }
}

/// Escapes text for an element's content.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.contains(['&', '<', '>']) {
        return Cow::Borrowed(text);
    }
    Cow::Owned(text.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_elements_in_order_without_matching_longer_names() {
        let xml = "<R><KeyCount>2</KeyCount><Contents><Key>a&amp;b</Key></Contents>\
                   <Contents><Key>c</Key></Contents><IsTruncated>false</IsTruncated></R>";
        assert_eq!(raw_elements(xml, "Key").collect::<Vec<_>>(), vec!["a&amp;b", "c"]);
        assert_eq!(first(xml, "Key").as_deref(), Some("a&b"));
        assert_eq!(first(xml, "KeyCount").as_deref(), Some("2"));
        assert_eq!(first(xml, "IsTruncated").as_deref(), Some("false"));
        assert_eq!(first(xml, "NextContinuationToken"), None);
        assert_eq!(raw_elements("<Key>unclosed", "Key").count(), 0);
    }

    #[test]
    fn unescapes_entities_and_character_references() {
        assert_eq!(unescape("plain"), "plain");
        assert_eq!(unescape("&quot;abc&quot;-3"), "\"abc\"-3");
        assert_eq!(unescape("&lt;&gt;&apos;&#65;&#x42;&#X43;"), "<>'ABC");
        assert_eq!(unescape("a & b &bogus; &#xZZ; &"), "a & b &bogus; &#xZZ; &");
        assert_eq!(unescape("é&amp;"), "é&");
    }

    #[test]
    fn escape_round_trips() {
        for text in ["plain", "\"etag\"", "a<b>&c"] {
            assert_eq!(unescape(&escape(text)), text);
        }
    }
}
