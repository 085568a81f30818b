//! Datum values in a few words for the Data view: an instance list as `ip:port` with its health,
//! weight and metadata, a service by its name, anything else as its JSON, cut short. A small
//! reader of its own rather than `serde_json::Value`, which would add 15 KB (gzipped) to the page.

/// The longest summary, in characters.
const MAX: usize = 80;

/// A datum's value in a few words.
pub fn summary(json: &str) -> String {
    let mut r = Reader {
        s: json.as_bytes(),
        i: 0,
    };
    let Some(v) = r.value() else {
        return cut(json.trim());
    };
    if let Some(J::Arr(list)) = v.get("instanceList") {
        if list.is_empty() {
            return "[]".into();
        }
        let parts: Vec<String> = list.iter().map(instance).collect();
        return cut(&parts.join(", "));
    }
    if let Some(J::Str(name)) = v.get("name") {
        return cut(name);
    }
    cut(json.trim())
}

/// `127.0.0.1:8080 ✓ w1 {version=2}` (✗ when unhealthy, "off" when disabled).
fn instance(i: &J) -> String {
    let text = |k| match i.get(k) {
        Some(J::Str(t)) => t.clone(),
        Some(J::Num(n)) => n.clone(),
        _ => String::new(),
    };
    let flag = |k| !matches!(i.get(k), Some(J::Bool(false)));
    let ip = text("ip");
    let port = text("port");
    let weight = match i.get("weight") {
        Some(J::Num(n)) => crate::layout::decimal(n).unwrap_or(1.0),
        _ => 1.0,
    };
    let mut s = format!(
        "{ip}:{port} {} w{}",
        if flag("healthy") { "✓" } else { "✗" },
        crate::urlstate::fmt_speed(weight)
    );
    if !flag("enabled") {
        s.push_str(" off");
    }
    if let Some(J::Obj(m)) = i.get("metadata") {
        if !m.is_empty() {
            let kv: Vec<String> = m
                .iter()
                .map(|(k, v)| match v {
                    J::Str(t) | J::Num(t) => format!("{k}={t}"),
                    J::Bool(b) => format!("{k}={b}"),
                    _ => format!("{k}=…"),
                })
                .collect();
            s.push_str(&format!(" {{{}}}", kv.join(", ")));
        }
    }
    s
}

/// A JSON value, as much as the summary needs (numbers kept as their text).
enum J {
    Str(String),
    Num(String),
    Bool(bool),
    Null,
    Arr(Vec<J>),
    Obj(Vec<(String, J)>),
}

impl J {
    fn get(&self, key: &str) -> Option<&J> {
        match self {
            J::Obj(fields) => fields.iter().find(|f| f.0 == key).map(|f| &f.1),
            _ => None,
        }
    }
}

struct Reader<'a> {
    s: &'a [u8],
    i: usize,
}

impl Reader<'_> {
    fn ws(&mut self) {
        while self.s.get(self.i).is_some_and(|b| b.is_ascii_whitespace()) {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> bool {
        self.ws();
        let ok = self.s.get(self.i) == Some(&b);
        if ok {
            self.i += 1;
        }
        ok
    }

    fn word(&mut self, w: &str) -> bool {
        let ok = self.s[self.i..].starts_with(w.as_bytes());
        if ok {
            self.i += w.len();
        }
        ok
    }

    fn value(&mut self) -> Option<J> {
        self.ws();
        match *self.s.get(self.i)? {
            b'{' => {
                self.i += 1;
                let mut fields = Vec::new();
                if self.eat(b'}') {
                    return Some(J::Obj(fields));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    if !self.eat(b':') {
                        return None;
                    }
                    fields.push((k, self.value()?));
                    if self.eat(b'}') {
                        return Some(J::Obj(fields));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']') {
                    return Some(J::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    if self.eat(b']') {
                        return Some(J::Arr(items));
                    }
                    if !self.eat(b',') {
                        return None;
                    }
                }
            }
            b'"' => self.string().map(J::Str),
            b't' if self.word("true") => Some(J::Bool(true)),
            b'f' if self.word("false") => Some(J::Bool(false)),
            b'n' if self.word("null") => Some(J::Null),
            _ => {
                let start = self.i;
                while self
                    .s
                    .get(self.i)
                    .is_some_and(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
                {
                    self.i += 1;
                }
                (self.i > start)
                    .then(|| J::Num(String::from_utf8_lossy(&self.s[start..self.i]).into()))
            }
        }
    }

    /// A string at the cursor (escapes decoded; `\u` kept when not a plain character).
    fn string(&mut self) -> Option<String> {
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            let c = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32);
                            let mut buf = [0; 4];
                            out.extend_from_slice(
                                c.unwrap_or('�').encode_utf8(&mut buf).as_bytes(),
                            );
                        }
                        other => out.push(other),
                    }
                }
                _ => out.push(b),
            }
        }
    }
}

fn cut(s: &str) -> String {
    if s.chars().count() <= MAX {
        return s.to_string();
    }
    let mut t: String = s.chars().take(MAX - 1).collect();
    t.push('…');
    t
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_lists_read_as_addresses() {
        let v = nacos_raft_core::sim::instance_value("svc", "127.0.0.9");
        assert_eq!(summary(&v), "127.0.0.9:8080 ✓ w1");
        let two = r#"{"instanceList":[{"ip":"127.0.0.1","port":80,"healthy":false,"weight":0.5,"metadata":{"version":"2"}},{"ip":"127.0.0.2","port":81,"enabled":false}]}"#;
        assert_eq!(
            summary(two),
            "127.0.0.1:80 ✗ w0.5 {version=2}, 127.0.0.2:81 ✓ w1 off"
        );
        assert_eq!(
            summary(r#"{"name":"DEFAULT_GROUP@@svc","protectThreshold":0}"#),
            "DEFAULT_GROUP@@svc"
        );
        assert_eq!(summary("not json"), "not json");
        assert_eq!(summary(r#"{"instanceList":[]}"#), "[]");
        assert_eq!(
            summary(
                r#"{"instanceList":[{"ip":"a\"b\u0041","port":1,"metadata":{"k":true,"n":3}}]}"#
            ),
            "a\"bA:1 ✓ w1 {k=true, n=3}"
        );
        assert_eq!(
            summary(r#"{"instanceList":[{"ip":"#),
            r#"{"instanceList":[{"ip":"#
        );
        assert_eq!(
            summary(&format!("\"{}\"", "x".repeat(200))).chars().count(),
            MAX
        );
    }
}
