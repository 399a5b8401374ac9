//! Wildcard patterns (`*` any run of characters, `?` exactly one character:
//! characters, never bytes) and policy-variable templates (`${aws:username}`,
//! `${s3:prefix, 'default'}`, and the literal escapes `${*}`, `${?}`, `${$}`).
//!
//! Templates are only recognised in 2012-10-17 policies; in 2008-10-17 ones
//! `${...}` is ordinary text, as AWS documents.

use crate::context::ContextKeys;

/// One element of a compiled pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Tok {
    Char(char),
    /// `?`
    One,
    /// `*`
    Star,
}

/// One element of a template: pattern text or a variable to substitute.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Part {
    Toks(Vec<Tok>),
    Var { key: String, default: Option<String> },
}

/// A string from a policy that may contain wildcards and policy variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    pub(crate) source: String,
    pub(crate) parts: Vec<Part>,
    /// The literal ASCII text every match starts with (fast rejection).
    prefix: String,
}

impl Template {
    /// Compiles `source`; `variables` is true for 2012-10-17 policies.
    pub(crate) fn new(source: &str, variables: bool) -> Self {
        let parts = if variables {
            split_variables(source)
        } else {
            vec![Part::Toks(tokens(source))]
        };
        let prefix = match parts.first() {
            Some(Part::Toks(toks)) => ascii_prefix(toks),
            _ => String::new(),
        };
        Template {
            source: source.to_owned(),
            parts,
            prefix,
        }
    }

    /// True when the template is plain text: no wildcard, no policy variable.
    pub fn is_literal(&self) -> bool {
        self.parts
            .iter()
            .all(|p| matches!(p, Part::Toks(toks) if toks.iter().all(|t| matches!(t, Tok::Char(_)))))
    }

    /// The text as written in the policy.
    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Substitutes variables; `None` when a referenced key is missing (the
    /// value then matches nothing).
    pub(crate) fn resolve(&self, context: &ContextKeys) -> Option<std::borrow::Cow<'_, [Tok]>> {
        if let [Part::Toks(toks)] = self.parts.as_slice() {
            return Some(std::borrow::Cow::Borrowed(toks));
        }
        let mut out = Vec::with_capacity(self.source.len());
        for part in &self.parts {
            match part {
                Part::Toks(toks) => out.extend_from_slice(toks),
                Part::Var { key, default } => {
                    let value = match context.get(key) {
                        Some([one]) => one.as_str(),
                        Some(_) => return None,
                        None => default.as_deref()?,
                    };
                    out.extend(value.chars().map(Tok::Char));
                }
            }
        }
        Some(std::borrow::Cow::Owned(out))
    }

    /// Wildcard match of `text` after substitution.
    pub(crate) fn matches(&self, text: &str, context: &ContextKeys, fold_case: bool) -> bool {
        match check_prefix(&self.prefix, text, fold_case) {
            Prefix::Mismatch => false,
            Prefix::Matched(n) => self.resolve(context).is_some_and(|toks| {
                wildcard_match(
                    toks.get(n..).unwrap_or_default(),
                    text.get(n..).unwrap_or_default(),
                    fold_case,
                )
            }),
            Prefix::Unknown => self
                .resolve(context)
                .is_some_and(|toks| wildcard_match(&toks, text, fold_case)),
        }
    }

    /// Exact (wildcard-free) comparison after substitution: `*` and `?` are
    /// ordinary characters here.
    pub(crate) fn equals(&self, text: &str, context: &ContextKeys, fold_case: bool) -> bool {
        let Some(toks) = self.resolve(context) else {
            return false;
        };
        let mut chars = text.chars();
        for tok in toks.iter() {
            let wanted = match tok {
                Tok::Char(c) => *c,
                Tok::One => '?',
                Tok::Star => '*',
            };
            match chars.next() {
                Some(c) if same_char(wanted, c, fold_case) => {}
                _ => return false,
            }
        }
        chars.next().is_none()
    }
}

/// Compiles plain pattern text (no variables).
pub(crate) fn tokens(text: &str) -> Vec<Tok> {
    text.chars()
        .map(|c| match c {
            '*' => Tok::Star,
            '?' => Tok::One,
            c => Tok::Char(c),
        })
        .collect()
}

fn split_variables(source: &str) -> Vec<Part> {
    let mut parts = Vec::new();
    let mut literal = String::new();
    let mut rest = source;
    while let Some(start) = rest.find("${") {
        let (before, after) = rest.split_at(start);
        let body_and_rest = after.get(2..).unwrap_or_default();
        let Some(end) = body_and_rest.find('}') else { break };
        literal.push_str(before);
        let body = body_and_rest.get(..end).unwrap_or_default();
        match variable(body) {
            Ok(var) => {
                push_literal(&mut parts, &mut literal);
                parts.push(var);
            }
            Err(c) => {
                push_literal(&mut parts, &mut literal);
                parts.push(Part::Toks(vec![Tok::Char(c)]));
            }
        }
        rest = body_and_rest.get(end + 1..).unwrap_or_default();
    }
    literal.push_str(rest);
    push_literal(&mut parts, &mut literal);
    merge(parts)
}

/// A variable, or `Err(c)` for the literal escapes `${*}`, `${?}`, `${$}`.
fn variable(body: &str) -> Result<Part, char> {
    match body.trim() {
        "*" => return Err('*'),
        "?" => return Err('?'),
        "$" => return Err('$'),
        _ => {}
    }
    if let Some((key, default)) = body.split_once(',') {
        let default = default.trim();
        let default = default
            .strip_prefix('\'')
            .and_then(|d| d.strip_suffix('\''))
            .unwrap_or(default);
        return Ok(Part::Var {
            key: key.trim().to_owned(),
            default: Some(default.to_owned()),
        });
    }
    Ok(Part::Var {
        key: body.trim().to_owned(),
        default: None,
    })
}

fn push_literal(parts: &mut Vec<Part>, literal: &mut String) {
    if !literal.is_empty() {
        parts.push(Part::Toks(tokens(literal)));
        literal.clear();
    }
}

/// Joins adjacent token runs so variable-free templates are a single run.
fn merge(parts: Vec<Part>) -> Vec<Part> {
    let mut out: Vec<Part> = Vec::new();
    for part in parts {
        match (out.last_mut(), part) {
            (Some(Part::Toks(prev)), Part::Toks(next)) => prev.extend(next),
            (_, part) => out.push(part),
        }
    }
    if out.is_empty() {
        out.push(Part::Toks(Vec::new()));
    }
    out
}

/// The literal ASCII characters a token run starts with.
pub(crate) fn ascii_prefix(toks: &[Tok]) -> String {
    toks.iter()
        .map_while(|t| match t {
            Tok::Char(c) if c.is_ascii() => Some(*c),
            _ => None,
        })
        .collect()
}

/// Outcome of comparing a text's head with a pattern's literal prefix.
pub(crate) enum Prefix {
    /// The text cannot match.
    Mismatch,
    /// The first `n` bytes (= characters = tokens) matched.
    Matched(usize),
    /// Non-ASCII text at the head: use the full matcher.
    Unknown,
}

/// A memcmp-speed check of the literal prefix. ASCII characters fold to
/// ASCII characters only, so ASCII heads decide exactly.
pub(crate) fn check_prefix(prefix: &str, text: &str, fold_case: bool) -> Prefix {
    let n = prefix.len();
    match text.get(..n) {
        Some(head) if head.is_ascii() => {
            let same = if fold_case {
                head.eq_ignore_ascii_case(prefix)
            } else {
                head == prefix
            };
            if same { Prefix::Matched(n) } else { Prefix::Mismatch }
        }
        Some(_) => Prefix::Unknown,
        None if text.is_ascii() => Prefix::Mismatch,
        None => Prefix::Unknown,
    }
}

/// Case folding used for case-insensitive comparisons.
#[inline]
pub(crate) fn same_char(a: char, b: char, fold_case: bool) -> bool {
    a == b
        || (fold_case
            && (a.eq_ignore_ascii_case(&b)
                || ((!a.is_ascii() || !b.is_ascii()) && a.to_lowercase().eq(b.to_lowercase()))))
}

/// Glob match of `text` against `pattern`, character by character. ASCII
/// text (the common case) is matched on its bytes, which are its characters.
pub(crate) fn wildcard_match(pattern: &[Tok], text: &str, fold_case: bool) -> bool {
    if text.is_ascii() {
        match_units(pattern, text.as_bytes(), |c, b| same_char(c, char::from(b), fold_case))
    } else {
        let chars: Vec<char> = text.chars().collect();
        match_units(pattern, &chars, |c, t| same_char(c, t, fold_case))
    }
}

/// Classic iterative glob match with single-star backtracking: no recursion,
/// no allocation, O(pattern x text) in the worst case.
fn match_units<T: Copy>(pattern: &[Tok], text: &[T], same: impl Fn(char, T) -> bool) -> bool {
    let mut p = 0;
    let mut t = 0;
    let mut backtrack: Option<(usize, usize)> = None;
    loop {
        match (pattern.get(p), text.get(t)) {
            (Some(Tok::Star), _) => {
                p += 1;
                backtrack = Some((p, t));
                continue;
            }
            (Some(Tok::One), Some(_)) => {
                p += 1;
                t += 1;
                continue;
            }
            (Some(Tok::Char(want)), Some(unit)) if same(*want, *unit) => {
                p += 1;
                t += 1;
                continue;
            }
            (None, None) => return true,
            _ => {}
        }
        match backtrack {
            Some((star_p, star_t)) if star_t < text.len() => {
                backtrack = Some((star_p, star_t + 1));
                p = star_p;
                t = star_t + 1;
            }
            _ => return false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, t: &str) -> bool {
        wildcard_match(&tokens(p), t, false)
    }

    #[test]
    fn wildcards_match_characters() {
        assert!(m("a*c", "abbbc"));
        assert!(m("a?c", "aéc"));
        assert!(!m("a?c", "ac"));
        assert!(m("*", ""));
        assert!(m("**a", "a"));
        assert!(!m("a*b", "acbx"));
        assert!(m("a*b*c", "axxbyyc"));
        assert!(m("??", "😀é"));
        assert!(wildcard_match(&tokens("S3:get*"), "s3:GetObject", true));
        assert!(!m("S3:get*", "s3:GetObject"));
    }

    #[test]
    fn literal_prefix_shortcut_agrees_with_the_matcher() {
        let ctx = ContextKeys::new();
        for (pattern, text, fold) in [
            ("arn:aws:s3:::b/*", "arn:aws:s3:::b/x", false),
            ("arn:aws:s3:::b/*", "arn:aws:s3:::c/x", false),
            ("arn:aws:s3:::b", "arn:aws", false),
            ("ab*", "aé", false),
            ("k*", "\u{212A}x", true),
            ("S3:GET*", "s3:getobject", true),
            ("é*", "éa", false),
        ] {
            let t = Template::new(pattern, true);
            assert_eq!(
                t.matches(text, &ctx, fold),
                wildcard_match(&tokens(pattern), text, fold),
                "{pattern} {text}"
            );
        }
        assert!(Template::new("k*", true).matches("\u{212A}x", &ctx, true));
    }

    #[test]
    fn variables_substitute_as_literals() {
        let mut ctx = ContextKeys::new();
        ctx.insert("aws:username", "a*");
        let t = Template::new("home/${aws:username}/*", true);
        assert!(t.matches("home/a*/x", &ctx, false));
        assert!(!t.matches("home/ab/x", &ctx, false));
        let star = Template::new("x${*}y", true);
        assert!(star.matches("x*y", &ctx, false));
        assert!(!star.matches("xzy", &ctx, false));
        let missing = Template::new("${aws:userid}", true);
        assert!(!missing.matches("", &ctx, false));
        let default = Template::new("${aws:userid, 'anon'}", true);
        assert!(default.equals("anon", &ctx, false));
        let old = Template::new("${aws:username}", false);
        assert!(old.equals("${aws:username}", &ctx, false));
    }
}
