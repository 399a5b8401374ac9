//! Writing IAM's XML: the success and error envelopes, an escaping element
//! writer, and the shapes shared by several actions (User, Group, Policy).
use crate::IamError;
use strongbox_meta::{IamGroup, IamUser};
use time::OffsetDateTime;
use time::macros::format_description;

pub(crate) const NAMESPACE: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// An XML fragment under construction; every text value is escaped.
#[derive(Debug, Default)]
pub(crate) struct Xml(String);

impl Xml {
    pub fn new() -> Self {
        Xml::default()
    }

    pub fn open(&mut self, tag: &str) -> &mut Self {
        self.0.push('<');
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    pub fn close(&mut self, tag: &str) -> &mut Self {
        self.0.push_str("</");
        self.0.push_str(tag);
        self.0.push('>');
        self
    }

    pub fn text(&mut self, tag: &str, value: &str) -> &mut Self {
        self.open(tag);
        escape_into(&mut self.0, value);
        self.close(tag)
    }

    pub fn opt(&mut self, tag: &str, value: Option<&str>) -> &mut Self {
        if let Some(v) = value {
            self.text(tag, v);
        }
        self
    }

    pub fn boolean(&mut self, tag: &str, value: bool) -> &mut Self {
        self.text(tag, if value { "true" } else { "false" })
    }

    pub fn number(&mut self, tag: &str, value: u64) -> &mut Self {
        self.text(tag, &value.to_string())
    }

    pub fn date(&mut self, tag: &str, ms: i64) -> &mut Self {
        self.text(tag, &iso8601(ms))
    }

    /// `<IsTruncated>` and, when truncated, the `<Marker>` of the next page.
    pub fn truncation(&mut self, next_marker: Option<&str>) -> &mut Self {
        self.boolean("IsTruncated", next_marker.is_some());
        self.opt("Marker", next_marker)
    }

    pub fn user(&mut self, tag: &str, u: &IamUser) -> &mut Self {
        self.user_with_boundary(tag, u, None)
    }

    /// A user with its permissions boundary (GetUser shows it, lists do not).
    pub fn user_with_boundary(&mut self, tag: &str, u: &IamUser, boundary: Option<&str>) -> &mut Self {
        self.open(tag)
            .text("Path", &u.path)
            .text("UserName", &u.name)
            .text("UserId", &u.user_id)
            .text("Arn", &u.arn)
            .date("CreateDate", u.created_ms);
        self.boundary(boundary).close(tag)
    }

    /// `<PermissionsBoundary>` of a user or role, when it has one.
    pub fn boundary(&mut self, arn: Option<&str>) -> &mut Self {
        if let Some(arn) = arn {
            self.open("PermissionsBoundary")
                .text("PermissionsBoundaryType", "PermissionsPolicy")
                .text("PermissionsBoundaryArn", arn)
                .close("PermissionsBoundary");
        }
        self
    }

    pub fn group(&mut self, tag: &str, g: &IamGroup) -> &mut Self {
        self.open(tag)
            .text("Path", &g.path)
            .text("GroupName", &g.name)
            .text("GroupId", &g.group_id)
            .text("Arn", &g.arn)
            .date("CreateDate", g.created_ms)
            .close(tag)
    }

    pub fn finish(self) -> String {
        self.0
    }
}

/// The success envelope; `result` is the inner XML of `<{action}Result>`,
/// omitted (as AWS does) for actions that return nothing.
pub(crate) fn success(action: &str, result: Option<&str>, request_id: &str) -> String {
    success_in(NAMESPACE, action, result, request_id)
}

/// [`success`] in another Query service's namespace (STS).
pub(crate) fn success_in(namespace: &str, action: &str, result: Option<&str>, request_id: &str) -> String {
    let mut x = Xml::new();
    x.0.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.0.push_str(&format!(r#"<{action}Response xmlns="{namespace}">"#));
    if let Some(result) = result {
        x.0.push_str(&format!("<{action}Result>{result}</{action}Result>"));
    }
    x.open("ResponseMetadata")
        .text("RequestId", request_id)
        .close("ResponseMetadata");
    x.0.push_str(&format!("</{action}Response>"));
    x.finish()
}

pub(crate) fn error(e: &IamError, request_id: &str) -> String {
    error_in(NAMESPACE, e, request_id)
}

pub(crate) fn error_in(namespace: &str, e: &IamError, request_id: &str) -> String {
    let mut x = Xml::new();
    x.0.push_str(r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    x.0.push_str(&format!(r#"<ErrorResponse xmlns="{namespace}">"#));
    x.open("Error")
        .text("Type", e.fault())
        .text("Code", e.code())
        .text("Message", &e.to_string())
        .close("Error")
        .text("RequestId", request_id)
        .close("ErrorResponse");
    x.finish()
}

/// `2026-11-22T10:00:00Z`.
pub(crate) fn iso8601(ms: i64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z"))
                .ok()
        })
        .unwrap_or_else(|| "1970-01-01T00:00:00Z".to_owned())
}

/// Policy documents travel URL-encoded (RFC 3986) inside the XML, as AWS sends them.
pub(crate) fn url_encode(document: &str) -> String {
    const UNRESERVED: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(document, UNRESERVED).to_string()
}

fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(c),
            // XML 1.0 cannot carry other control characters, even escaped.
            c if c.is_control() => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_escaped() {
        let mut x = Xml::new();
        x.text("A", "<b>&'\"\u{1}");
        assert_eq!(x.finish(), "<A>&lt;b&gt;&amp;&apos;&quot;\u{FFFD}</A>");
    }

    #[test]
    fn dates_are_iso8601_seconds() {
        assert_eq!(iso8601(1_795_341_600_123), "2026-11-22T10:00:00Z");
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn documents_are_url_encoded() {
        assert_eq!(url_encode(r#"{"a": "s3:*"}"#), "%7B%22a%22%3A%20%22s3%3A%2A%22%7D");
    }

    #[test]
    fn envelopes() {
        let ok = success("GetUser", Some("<User></User>"), "rid");
        assert!(ok.contains(r#"<GetUserResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetUserResult><User></User></GetUserResult><ResponseMetadata><RequestId>rid</RequestId></ResponseMetadata></GetUserResponse>"#));
        let e = error(
            &IamError::NoSuchEntity("The user with name bob cannot be found.".into()),
            "rid",
        );
        assert!(e.contains("<Error><Type>Sender</Type><Code>NoSuchEntity</Code><Message>The user with name bob cannot be found.</Message></Error><RequestId>rid</RequestId></ErrorResponse>"));
    }
}
