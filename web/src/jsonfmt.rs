//! A small JSON pretty-printer that works on the text (no value tree), so that payloads keep
//! their field order and numbers exactly as the wire has them, and the page stays small.

/// Indents `json` (two spaces). `None` when it is not an object or array, or does not balance.
pub fn pretty(json: &str) -> Option<String> {
    let t = json.trim();
    if !(t.starts_with('{') || t.starts_with('[')) {
        return None;
    }
    let mut out = String::with_capacity(t.len() * 2);
    let mut depth: usize = 0;
    let mut in_str = false;
    let mut esc = false;
    let mut chars = t.chars().peekable();
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(c) = chars.next() {
        if in_str {
            out.push(c);
            if esc {
                esc = false;
            } else if c == '\\' {
                esc = true;
            } else if c == '"' {
                in_str = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_str = true;
                out.push(c);
            }
            '{' | '[' => {
                out.push(c);
                let close = if c == '{' { '}' } else { ']' };
                while chars.peek().is_some_and(|n| n.is_whitespace()) {
                    chars.next();
                }
                if chars.peek() == Some(&close) {
                    out.push(close);
                    chars.next();
                } else {
                    depth += 1;
                    newline(&mut out, depth);
                }
            }
            '}' | ']' => {
                depth = depth.checked_sub(1)?;
                newline(&mut out, depth);
                out.push(c);
            }
            ',' => {
                out.push(c);
                newline(&mut out, depth);
            }
            ':' => out.push_str(": "),
            c if c.is_whitespace() => {}
            c => out.push(c),
        }
    }
    (depth == 0 && !in_str).then_some(out)
}

/// `s` as a JSON string literal.
pub fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn indents_and_keeps_strings() {
        let p = pretty(r#"{"a":1,"b":[true,{"c":"x, {y}: \"z\""}],"e":{}}"#).unwrap();
        assert_eq!(
            p,
            "{\n  \"a\": 1,\n  \"b\": [\n    true,\n    {\n      \"c\": \"x, {y}: \\\"z\\\"\"\n    }\n  ],\n  \"e\": {}\n}"
        );
        let back: serde_json::Value = serde_json::from_str(&p).unwrap();
        assert_eq!(back["b"][1]["c"], "x, {y}: \"z\"");
    }

    #[test]
    fn refuses_what_is_not_a_document() {
        assert_eq!(pretty("ok"), None);
        assert_eq!(pretty("127.0.0.1:8848"), None);
        assert_eq!(pretty("{\"a\":[1}"), None);
        assert_eq!(pretty("{\"a\":1"), None);
        assert_eq!(quote("a\"b"), "\"a\\\"b\"");
    }
}
