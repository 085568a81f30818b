//! The text form of timed actions, `<ms>:<verb>[:<arg>...]`: the page's URL syntax, shared with
//! command lines and campaign logs.

use super::{Action, TimedAction};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt::{self, Write as _};
use core::str::FromStr;

/// The text form of a timed action, `<ms>:<verb>[:<arg>...]` — the page's URL syntax
/// (`actions=1200:crash:2,5300:timeout:1`), also meant for command lines and campaign logs:
/// `crash:N`, `restart:N`, `timeout:N`, `isolate:N`, `cut:F-T` (one way), `cut2:A-B` (both
/// ways), `heal:F-T`, `heal2:A-B`, `part:GROUPS` (one base-36 digit per node), `healall`,
/// `loss:PPM`, `lat:MIN-MAX`, `put:N:KEY:VALUE`, `rm:N:KEY`, `load:N:FIRST:COUNT`, `drop:MSG`,
/// and `beatonly:N:on|off`, a write of the switch datum with Nacos' `sendBeatOnly` through node N
/// (a `put` of exactly that datum prints in this form).
/// Keys and values are percent-encoded (everything but ASCII letters, digits and `-_.~@`), so
/// the text never holds `,`, `&`, `#` or a space and survives a URL fragment.
impl fmt::Display for TimedAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let at = self.at_ms;
        match &self.action {
            Action::Crash { node } => write!(f, "{at}:crash:{node}"),
            Action::Restart { node } => write!(f, "{at}:restart:{node}"),
            Action::Timeout { node } => write!(f, "{at}:timeout:{node}"),
            Action::Isolate { node } => write!(f, "{at}:isolate:{node}"),
            Action::Cut { from, to, both } => {
                write!(f, "{at}:{}:{from}-{to}", if *both { "cut2" } else { "cut" })
            }
            Action::Heal { from, to, both } => {
                write!(
                    f,
                    "{at}:{}:{from}-{to}",
                    if *both { "heal2" } else { "heal" }
                )
            }
            Action::Partition { groups } => {
                write!(f, "{at}:part:")?;
                for g in groups {
                    let c = char::from_digit(u32::from(*g).min(35), 36).unwrap_or('0');
                    f.write_char(c)?;
                }
                Ok(())
            }
            Action::HealAll => write!(f, "{at}:healall"),
            Action::SetLoss { ppm } => write!(f, "{at}:loss:{ppm}"),
            Action::SetLatency { min, max } => write!(f, "{at}:lat:{min}-{max}"),
            Action::Put { node, key, value } if key == crate::key::SWITCH_KEY => {
                match [SWITCH_BEAT_ONLY_OFF, SWITCH_BEAT_ONLY_ON]
                    .iter()
                    .position(|v| v == value)
                {
                    Some(on) => write!(f, "{at}:beatonly:{node}:{}", ["off", "on"][on]),
                    None => write!(
                        f,
                        "{at}:put:{node}:{}:{}",
                        pct_encode(key),
                        pct_encode(value)
                    ),
                }
            }
            Action::Put { node, key, value } => {
                write!(
                    f,
                    "{at}:put:{node}:{}:{}",
                    pct_encode(key),
                    pct_encode(value)
                )
            }
            Action::Load { node, first, count } => write!(f, "{at}:load:{node}:{first}:{count}"),
            Action::Remove { node, key } => write!(f, "{at}:rm:{node}:{}", pct_encode(key)),
            Action::Drop { msg } => write!(f, "{at}:drop:{msg}"),
        }
    }
}

/// The switch datum `beatonly:N:on` writes through node N: Nacos' `sendBeatOnly` on, every
/// other switch field at its default.
pub const SWITCH_BEAT_ONLY_ON: &str =
    r#"{"name":"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","sendBeatOnly":true}"#;
/// The switch datum `beatonly:N:off` writes.
pub const SWITCH_BEAT_ONLY_OFF: &str =
    r#"{"name":"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","sendBeatOnly":false}"#;

/// Why a timed action's text did not parse: the whole text, the field that is wrong, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ActionSyntaxError {
    /// The action's text as given.
    pub text: String,
    /// The field: `time`, `verb`, `node`, `link`, `groups`, `loss`, `latency`, `key`,
    /// `value`, `first key`, `count`, `message`, or `end` (too many fields).
    pub field: &'static str,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for ActionSyntaxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "action {:?}: {}", self.text, self.problem)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for ActionSyntaxError {}

/// A cursor over the `:`-separated fields of one action's text.
struct Fields<'a> {
    text: &'a str,
    it: core::str::Split<'a, char>,
}

impl<'a> Fields<'a> {
    fn err(&self, field: &'static str, problem: String) -> ActionSyntaxError {
        ActionSyntaxError {
            text: self.text.into(),
            field,
            problem,
        }
    }

    fn next(&mut self, field: &'static str) -> Result<&'a str, ActionSyntaxError> {
        self.it
            .next()
            .ok_or_else(|| self.err(field, format!("missing {field}")))
    }

    fn num<T: FromStr>(&mut self, field: &'static str) -> Result<T, ActionSyntaxError> {
        let s = self.next(field)?;
        self.parse(field, s)
    }

    fn parse<T: FromStr>(&self, field: &'static str, s: &str) -> Result<T, ActionSyntaxError> {
        s.parse()
            .map_err(|_| self.err(field, format!("{field} {s:?} is not a number")))
    }

    /// `A-B`, two numbers.
    fn pair<T: FromStr>(&mut self, field: &'static str) -> Result<(T, T), ActionSyntaxError> {
        let s = self.next(field)?;
        let (a, b) = s
            .split_once('-')
            .ok_or_else(|| self.err(field, format!("{field} {s:?} is not A-B")))?;
        Ok((self.parse(field, a)?, self.parse(field, b)?))
    }

    fn text_field(&mut self, field: &'static str) -> Result<String, ActionSyntaxError> {
        let s = self.next(field)?;
        pct_decode(s).map_err(|p| self.err(field, format!("{field} {s:?}: {p}")))
    }
}

/// A `put`'s value is JSON, but a bare word that is not JSON (`put:0:KEY:VALUE`, as one writes
/// it by hand) means that text as a JSON string (`"VALUE"`), so the syntax's own example runs.
/// Anything that starts like an object, array or string (`{`, `[`, `"`) and does not parse is
/// left as it is, for the simulator to refuse with the parser's reason: a typo in a JSON object
/// must not quietly become a string.
fn bare_word_as_string(value: String) -> String {
    let looks_structured = matches!(value.trim_start().chars().next(), Some('{' | '[' | '"'));
    if looks_structured || crate::JsonValue::parse(&value).is_ok() {
        return value;
    }
    let mut quoted = String::with_capacity(value.len() + 2);
    super::samples::push_quoted(&mut quoted, &[&value]);
    quoted
}

impl FromStr for TimedAction {
    type Err = ActionSyntaxError;

    /// Parses what [`Display`](fmt::Display) writes (and any other percent-encoding of keys and
    /// values); a missing, unparsable or extra field is an error that names it.
    fn from_str(text: &str) -> Result<TimedAction, ActionSyntaxError> {
        let mut f = Fields {
            text,
            it: text.split(':'),
        };
        let at_ms = f.num("time")?;
        let verb = f.next("verb")?;
        let action = match verb {
            "crash" => Action::Crash {
                node: f.num("node")?,
            },
            "restart" => Action::Restart {
                node: f.num("node")?,
            },
            "timeout" => Action::Timeout {
                node: f.num("node")?,
            },
            "isolate" => Action::Isolate {
                node: f.num("node")?,
            },
            "cut" | "cut2" => {
                let (from, to) = f.pair("link")?;
                Action::Cut {
                    from,
                    to,
                    both: verb == "cut2",
                }
            }
            "heal" | "heal2" => {
                let (from, to) = f.pair("link")?;
                Action::Heal {
                    from,
                    to,
                    both: verb == "heal2",
                }
            }
            "part" => {
                let g = f.next("groups")?;
                let groups = g
                    .chars()
                    .map(|c| c.to_digit(36).map(|d| d as u8))
                    .collect::<Option<Vec<u8>>>()
                    .ok_or_else(|| {
                        f.err("groups", format!("groups {g:?} are not base-36 digits"))
                    })?;
                Action::Partition { groups }
            }
            "healall" => Action::HealAll,
            "loss" => Action::SetLoss {
                ppm: f.num("loss")?,
            },
            "lat" => {
                let (min, max) = f.pair("latency")?;
                Action::SetLatency { min, max }
            }
            "put" => Action::Put {
                node: f.num("node")?,
                key: f.text_field("key")?,
                value: bare_word_as_string(f.text_field("value")?),
            },
            "beatonly" => {
                let node = f.num("node")?;
                let value = match f.next("value")? {
                    "on" => SWITCH_BEAT_ONLY_ON,
                    "off" => SWITCH_BEAT_ONLY_OFF,
                    other => {
                        return Err(f.err("value", format!("value {other:?} is not on or off")))
                    }
                };
                Action::Put {
                    node,
                    key: crate::key::SWITCH_KEY.into(),
                    value: value.into(),
                }
            }
            "load" => Action::Load {
                node: f.num("node")?,
                first: f.num("first key")?,
                count: f.num("count")?,
            },
            "rm" => Action::Remove {
                node: f.num("node")?,
                key: f.text_field("key")?,
            },
            "drop" => Action::Drop {
                msg: f.num("message")?,
            },
            other => return Err(f.err("verb", format!("unknown verb {other:?}"))),
        };
        if f.it.next().is_some() {
            // Most often a value's own ':' (JSON): say how to write one.
            return Err(f.err(
                "end",
                "too many fields (in a key or value write ':' as %3A and ',' as %2C, \
                 e.g. %7B%22v%22%3A1%7D for {\"v\":1}; the page's links do)"
                    .into(),
            ));
        }
        Ok(TimedAction { at_ms, action })
    }
}

/// A list of timed actions as the page's `actions=` field writes it: comma-separated.
pub fn format_actions(actions: &[TimedAction]) -> String {
    let mut s = String::new();
    for (i, a) in actions.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        let _ = write!(s, "{a}");
    }
    s
}

/// Parses a comma-separated list of timed actions (empty entries are skipped); they must be
/// in time order, as a replay applies them.
pub fn parse_actions(text: &str) -> Result<Vec<TimedAction>, ActionSyntaxError> {
    let list: Vec<TimedAction> = text
        .split(',')
        .filter(|a| !a.is_empty())
        .map(str::parse)
        .collect::<Result<_, _>>()?;
    if let Some(w) = list.windows(2).find(|w| w[0].at_ms > w[1].at_ms) {
        return Err(ActionSyntaxError {
            text: w[1].to_string(),
            field: "time",
            problem: format!(
                "at {} ms, before the action at {} ms: actions must be in time order",
                w[1].at_ms, w[0].at_ms
            ),
        });
    }
    Ok(list)
}

/// Percent-encodes everything but ASCII letters, digits and `-_.~@` (the characters browsers
/// leave alone in a URL fragment, so a link survives copy and paste).
pub fn pct_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~@".contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Reverses [`pct_encode`] (and any other percent-encoding of UTF-8).
pub fn pct_decode(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or_else(|| String::from("bad percent-encoding"))?;
            out.push(hex);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| String::from("not UTF-8 once decoded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::sample_actions;
    use alloc::vec;

    #[test]
    fn the_page_syntax_byte_for_byte() {
        let texts: Vec<String> = sample_actions().iter().map(ToString::to_string).collect();
        assert_eq!(
            texts[..11],
            [
                "0:crash:2",
                "1:restart:2",
                "2:timeout:0",
                "3:isolate:4",
                "4:cut:1-3",
                "5:cut2:10-14",
                "6:heal:3-1",
                "6:heal2:0-2",
                "7:part:00112c",
                "8:healall",
                "9:loss:250000",
            ]
        );
        assert_eq!(texts[11], "10:lat:3-900");
        assert_eq!(
            texts[12],
            "11:put:1:com.alibaba.nacos.naming.iplist.public%23%23DEFAULT_GROUP@@svc-0007:%7B%22instanceList%22%3A%5B%7B%22instanceId%22%3A%22127.0.0.8%238080%23DEFAULT%23DEFAULT_GROUP@@svc-0007%22%2C%22ip%22%3A%22127.0.0.8%22%2C%22port%22%3A8080%2C%22weight%22%3A1.0%2C%22healthy%22%3Atrue%2C%22enabled%22%3Atrue%2C%22ephemeral%22%3Afalse%2C%22clusterName%22%3A%22DEFAULT%22%2C%22serviceName%22%3A%22DEFAULT_GROUP@@svc-0007%22%2C%22metadata%22%3A%7B%22version%22%3A%222%22%7D%7D%5D%7D"
        );
        assert_eq!(
            texts[13],
            "12:put:0:k%3A%C3%A9%2C%26%3D%23%25:%7B%22a%22%3A%22x%3Ay%2C%20z%22%7D"
        );
        assert_eq!(
            texts[14..],
            [
                "13:load:3:0:200",
                "14:rm:2:com.alibaba.nacos.naming.iplist.public%23%23DEFAULT_GROUP@@svc-0001",
                "15:drop:123456",
                "16:beatonly:1:on",
                "17:beatonly:0:off",
                "18:put:0:com.alibaba.nacos.naming.domains.meta.00-00---000-NACOS_SWITCH_DOMAIN-000---00-00:%7B%22sendBeatOnly%22%3Atrue%7D",
            ]
        );
    }

    #[test]
    fn every_action_round_trips() {
        for t in sample_actions() {
            let s = t.to_string();
            assert!(!s.contains([',', '&', '#', ' ']), "{s}");
            assert_eq!(s.parse::<TimedAction>(), Ok(t), "{s}");
        }
        let list = sample_actions();
        assert_eq!(parse_actions(&format_actions(&list)), Ok(list));
        assert_eq!(parse_actions(""), Ok(vec![]));
        assert_eq!(
            parse_actions("1200:crash:2,,5300:timeout:1").map(|l| l.len()),
            Ok(2)
        );
    }

    #[test]
    fn errors_name_the_bad_field() {
        let field = |s: &str| s.parse::<TimedAction>().unwrap_err().field;
        assert_eq!(field("x:crash:1"), "time");
        assert_eq!(field("5"), "verb");
        assert_eq!(field("5:fly:1"), "verb");
        assert_eq!(field("5:beatonly:1:maybe"), "value");
        assert_eq!(field("5:beatonly:1"), "value");
        assert_eq!(field("5:crash"), "node");
        assert_eq!(field("5:crash:x"), "node");
        assert_eq!(field("5:cut:1"), "link");
        assert_eq!(field("5:cut:1-x"), "link");
        assert_eq!(field("5:part:0!1"), "groups");
        assert_eq!(field("5:loss:-1"), "loss");
        assert_eq!(field("5:lat:9"), "latency");
        assert_eq!(field("5:put:1:%zz:1"), "key");
        assert_eq!(field("5:put:1:k"), "value");
        assert_eq!(field("5:put:1:k:%C3"), "value");
        // A bare word is a JSON string; JSON stays as it is; broken JSON is left for the
        // simulator's refusal.
        let put_value = |t: &str| match t.parse::<TimedAction>().unwrap().action {
            Action::Put { value, .. } => value,
            other => panic!("{other:?}"),
        };
        assert_eq!(put_value("5:put:1:KEY:VALUE"), r#""VALUE""#);
        assert_eq!(put_value("5:put:1:k:a%22b%5C"), r#""a\"b\\""#);
        assert_eq!(put_value("5:put:1:k:%20"), r#"" ""#);
        assert_eq!(put_value("5:put:1:k:12"), "12");
        assert_eq!(put_value("5:put:1:k:true"), "true");
        assert_eq!(put_value("5:put:1:k:%7B%22v%22%3A1%7D"), r#"{"v":1}"#);
        assert_eq!(put_value("5:put:1:k:%7B%22v%22"), r#"{"v""#);
        assert_eq!(put_value("5:put:1:k:%5B1"), "[1");
        assert_eq!(put_value("5:put:1:k:%22open"), r#""open"#);
        assert_eq!(
            "5:put:1:k:VALUE"
                .parse::<TimedAction>()
                .unwrap()
                .to_string(),
            "5:put:1:k:%22VALUE%22"
        );
        assert_eq!(field("5:load:1:x:2"), "first key");
        assert_eq!(field("5:load:1:0"), "count");
        assert_eq!(field("5:drop:m"), "message");
        assert_eq!(field("5:crash:1:2"), "end");
        assert_eq!(
            "5:crash:x".parse::<TimedAction>().unwrap_err().to_string(),
            r#"action "5:crash:x": node "x" is not a number"#
        );
        assert_eq!(
            "5:fly".parse::<TimedAction>().unwrap_err().to_string(),
            r#"action "5:fly": unknown verb "fly""#
        );
        let e = parse_actions("9:crash:1,5:crash:2").unwrap_err();
        assert_eq!(e.field, "time");
        assert_eq!(
            e.to_string(),
            r#"action "5:crash:2": at 5 ms, before the action at 9 ms: actions must be in time order"#
        );
    }
}
