//! A small JSON reader that keeps the 1-based line and column of every value
//! and object key, so policy errors can point at the offending element.
//!
//! It owns only syntax: strings, numbers (kept as their source text), booleans,
//! null, arrays and objects. Duplicate object keys are rejected (an ambiguous
//! policy must not be silently resolved). Nesting is bounded and every path
//! returns an error instead of panicking, whatever the input.

use crate::error::{PolicyError, Position};

/// Deepest nesting accepted; IAM policies need 5 levels.
const MAX_DEPTH: usize = 32;

/// A JSON value with the position of its first character.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Spanned {
    pub pos: Position,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Null,
    Bool(bool),
    /// The number's source text, already checked against the JSON grammar.
    Number(String),
    String(String),
    Array(Vec<Spanned>),
    Object(Vec<Member>),
}

/// One `"key": value` pair of an object.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Member {
    pub key: String,
    pub key_pos: Position,
    pub value: Spanned,
}

/// Parses a whole document: one value, optionally surrounded by whitespace.
pub(crate) fn parse(text: &str) -> Result<Spanned, PolicyError> {
    let mut reader = Reader {
        text,
        offset: 0,
        line: 1,
        column: 1,
    };
    reader.skip_ws();
    let value = reader.value(0)?;
    reader.skip_ws();
    if reader.peek().is_some() {
        return Err(reader.error("Unexpected characters after the policy document"));
    }
    Ok(value)
}

impl Value {
    /// A short name of the JSON type, for error messages.
    pub(crate) fn type_name(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Number(_) => "number",
            Value::String(_) => "string",
            Value::Array(_) => "array",
            Value::Object(_) => "object",
        }
    }
}

struct Reader<'a> {
    text: &'a str,
    offset: usize,
    line: usize,
    column: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.text.get(self.offset..).and_then(|rest| rest.chars().next())
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.offset += c.len_utf8();
        if c == '\n' {
            self.line += 1;
            self.column = 1;
        } else {
            self.column += 1;
        }
        Some(c)
    }

    fn pos(&self) -> Position {
        Position {
            line: self.line,
            column: self.column,
        }
    }

    fn error(&self, message: &str) -> PolicyError {
        PolicyError::at(message, self.pos())
    }

    fn skip_ws(&mut self) {
        while matches!(self.peek(), Some(' ' | '\t' | '\n' | '\r')) {
            self.bump();
        }
    }

    fn expect(&mut self, wanted: char) -> Result<(), PolicyError> {
        if self.peek() == Some(wanted) {
            self.bump();
            Ok(())
        } else {
            Err(self.error(&format!("Syntax error: expected '{wanted}'")))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Spanned, PolicyError> {
        if depth > MAX_DEPTH {
            return Err(self.error("Policy document is nested too deeply"));
        }
        let pos = self.pos();
        let value = match self.peek() {
            Some('{') => Value::Object(self.object(depth)?),
            Some('[') => Value::Array(self.array(depth)?),
            Some('"') => Value::String(self.string()?),
            Some('t') => self.keyword("true", Value::Bool(true))?,
            Some('f') => self.keyword("false", Value::Bool(false))?,
            Some('n') => self.keyword("null", Value::Null)?,
            Some('-' | '0'..='9') => Value::Number(self.number()?),
            Some(_) => return Err(self.error("Syntax error: unexpected character")),
            None => return Err(self.error("Syntax error: unexpected end of document")),
        };
        Ok(Spanned { pos, value })
    }

    fn keyword(&mut self, word: &str, value: Value) -> Result<Value, PolicyError> {
        for wanted in word.chars() {
            if self.peek() != Some(wanted) {
                return Err(self.error("Syntax error: invalid literal"));
            }
            self.bump();
        }
        Ok(value)
    }

    fn object(&mut self, depth: usize) -> Result<Vec<Member>, PolicyError> {
        self.expect('{')?;
        let mut members: Vec<Member> = Vec::new();
        self.skip_ws();
        if self.peek() == Some('}') {
            self.bump();
            return Ok(members);
        }
        loop {
            self.skip_ws();
            let key_pos = self.pos();
            if self.peek() != Some('"') {
                return Err(self.error("Syntax error: expected a quoted field name"));
            }
            let key = self.string()?;
            if members.iter().any(|m| m.key == key) {
                return Err(PolicyError::at(&format!("Duplicate field {key}"), key_pos));
            }
            self.skip_ws();
            self.expect(':')?;
            self.skip_ws();
            let value = self.value(depth + 1)?;
            members.push(Member { key, key_pos, value });
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some('}') => return Ok(members),
                _ => return Err(self.error("Syntax error: expected ',' or '}'")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Vec<Spanned>, PolicyError> {
        self.expect('[')?;
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(']') {
            self.bump();
            return Ok(items);
        }
        loop {
            self.skip_ws();
            items.push(self.value(depth + 1)?);
            self.skip_ws();
            match self.bump() {
                Some(',') => continue,
                Some(']') => return Ok(items),
                _ => return Err(self.error("Syntax error: expected ',' or ']'")),
            }
        }
    }

    fn string(&mut self) -> Result<String, PolicyError> {
        self.expect('"')?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("Syntax error: unterminated string")),
                Some('"') => return Ok(out),
                Some('\\') => out.push(self.escape()?),
                Some(c) if (c as u32) < 0x20 => return Err(self.error("Syntax error: control character in string")),
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, PolicyError> {
        let c = match self.bump() {
            Some('"') => '"',
            Some('\\') => '\\',
            Some('/') => '/',
            Some('b') => '\u{8}',
            Some('f') => '\u{c}',
            Some('n') => '\n',
            Some('r') => '\r',
            Some('t') => '\t',
            Some('u') => return self.unicode_escape(),
            _ => return Err(self.error("Syntax error: invalid escape")),
        };
        Ok(c)
    }

    fn unicode_escape(&mut self) -> Result<char, PolicyError> {
        let high = self.hex4()?;
        if !(0xD800..0xDC00).contains(&high) {
            return char::from_u32(high).ok_or_else(|| self.error("Syntax error: invalid unicode escape"));
        }
        if self.bump() != Some('\\') || self.bump() != Some('u') {
            return Err(self.error("Syntax error: unpaired surrogate"));
        }
        let low = self.hex4()?;
        if !(0xDC00..0xE000).contains(&low) {
            return Err(self.error("Syntax error: unpaired surrogate"));
        }
        let code = 0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00);
        char::from_u32(code).ok_or_else(|| self.error("Syntax error: invalid unicode escape"))
    }

    fn hex4(&mut self) -> Result<u32, PolicyError> {
        let mut code = 0u32;
        for _ in 0..4 {
            let digit = self.bump().and_then(|c| c.to_digit(16));
            let digit = digit.ok_or_else(|| self.error("Syntax error: invalid unicode escape"))?;
            code = code * 16 + digit;
        }
        Ok(code)
    }

    fn number(&mut self) -> Result<String, PolicyError> {
        let start = self.offset;
        if self.peek() == Some('-') {
            self.bump();
        }
        match self.peek() {
            Some('0') => {
                self.bump();
            }
            Some('1'..='9') => self.digits(),
            _ => return Err(self.error("Syntax error: invalid number")),
        }
        if self.peek() == Some('.') {
            self.bump();
            self.required_digits()?;
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.bump();
            if matches!(self.peek(), Some('+' | '-')) {
                self.bump();
            }
            self.required_digits()?;
        }
        let text = self.text.get(start..self.offset).unwrap_or_default();
        Ok(text.to_owned())
    }

    fn required_digits(&mut self) -> Result<(), PolicyError> {
        if !matches!(self.peek(), Some('0'..='9')) {
            return Err(self.error("Syntax error: invalid number"));
        }
        self.digits();
        Ok(())
    }

    fn digits(&mut self) {
        while matches!(self.peek(), Some('0'..='9')) {
            self.bump();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let doc = parse("{\n  \"a\": [1, \"é\", true],\n  \"b\": null\n}").unwrap();
        let Value::Object(members) = doc.value else { panic!() };
        assert_eq!(members[0].key_pos, Position { line: 2, column: 3 });
        let Value::Array(items) = &members[0].value.value else {
            panic!()
        };
        assert_eq!(items[2].pos, Position { line: 2, column: 17 });
        assert_eq!(members[1].value.pos, Position { line: 3, column: 8 });
    }

    #[test]
    fn rejects_bad_documents() {
        for bad in [
            "",
            "{",
            "{\"a\":}",
            "[1,]",
            "{\"a\":1,\"a\":2}",
            "01",
            "1.",
            "\"\\ud800\"",
            "{} x",
            "tru",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
        let deep = "[".repeat(100_000);
        assert!(parse(&deep).is_err());
    }

    #[test]
    fn decodes_escapes_and_numbers() {
        let doc = parse(r#"["\u00e9\ud83d\ude00\n", -1.5e3]"#).unwrap();
        let Value::Array(items) = doc.value else { panic!() };
        assert_eq!(items[0].value, Value::String("é😀\n".into()));
        assert_eq!(items[1].value, Value::Number("-1.5e3".into()));
    }
}
