//! Sample data for demos, presets and tests: instance-list keys and `Instances` values.

use super::syntax::{SWITCH_BEAT_ONLY_OFF, SWITCH_BEAT_ONLY_ON};
use super::{Action, TimedAction};
use crate::key::SWITCH_KEY;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// Sample data: the instance-list key of service `svc-<i>` in namespace `public`.
pub fn sample_key(i: usize) -> String {
    let mut k = String::with_capacity(80);
    k.push_str(crate::key::IPLIST_PREFIX);
    k.push_str("public");
    k.push_str(crate::key::NAMESPACE_CONNECTOR);
    k.push_str("DEFAULT_GROUP@@svc-");
    push_number(&mut k, i as u64, 4);
    k
}

/// Sample data: a one-instance `Instances` value for service `svc-<i>`, version `v` (its
/// instance IP is on loopback, `127.0.x.y`).
pub fn sample_value(i: usize, v: u64) -> String {
    let mut ip = String::with_capacity(16);
    ip.push_str("127.0.");
    push_number(&mut ip, ((i / 250) % 250) as u64, 1);
    ip.push('.');
    push_number(&mut ip, (i % 250 + 1) as u64, 1);
    let mut version = String::with_capacity(20);
    push_number(&mut version, v, 1);
    let mut service = String::with_capacity(16);
    service.push_str("svc-");
    push_number(&mut service, i as u64, 4);
    instances(&service, &ip, Some(&version))
}

/// A persistent instance list (`Instances`, as Nacos stores it) of service
/// `DEFAULT_GROUP@@<service>` holding one healthy instance `<ip>:8080` without metadata: what
/// the page publishes for a service name and an IP.
pub fn instance_value(service: &str, ip: &str) -> String {
    instances(service, ip, None)
}

/// Written piece by piece into one string rather than with `format!`: a workload of 1,000
/// datums builds 1,000 of these, and the formatting machinery and its temporary strings cost
/// relatively more in wasm than natively (issue 14).
fn instances(service: &str, ip: &str, version: Option<&str>) -> String {
    let mut v = String::with_capacity(320);
    v.push_str(r#"{"instanceList":[{"instanceId":"#);
    push_quoted(&mut v, &[ip, "#8080#DEFAULT#DEFAULT_GROUP@@", service]);
    v.push_str(r#","ip":"#);
    push_quoted(&mut v, &[ip]);
    v.push_str(
        r#","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"#,
    );
    push_quoted(&mut v, &["DEFAULT_GROUP@@", service]);
    v.push_str(r#","metadata":{"#);
    if let Some(version) = version {
        v.push_str(r#""version":"#);
        push_quoted(&mut v, &[version]);
    }
    v.push_str("}}]}");
    v
}

/// Appends the concatenation of `parts` as a JSON string, exactly as `serde_json::to_string`
/// writes it: text without a quote, a backslash or a control character goes between quotes as
/// it is (serde_json escapes nothing else); other text is written by serde_json.
pub(crate) fn push_quoted(out: &mut String, parts: &[&str]) {
    let plain = |p: &&str| p.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\');
    if parts.iter().all(plain) {
        out.push('"');
        parts.iter().for_each(|p| out.push_str(p));
        out.push('"');
    } else {
        let text: String = parts.concat();
        out.push_str(&serde_json::to_string(&text).unwrap_or_default());
    }
}

/// Appends `n` in decimal, zero-padded to at least `width` digits (`{n:0width$}`).
fn push_number(out: &mut String, n: u64, width: usize) {
    let mut digits = [0u8; 20];
    let (mut len, mut rest) = (0, n);
    loop {
        digits[len] = b'0' + (rest % 10) as u8;
        len += 1;
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    (len..width).for_each(|_| out.push('0'));
    digits[..len]
        .iter()
        .rev()
        .for_each(|d| out.push(char::from(*d)));
}

/// Sample data: one timed action of every kind and form the page's action syntax has (both cut
/// and heal directions, a partition, loss, latency, puts with characters that must be escaped,
/// both `sendBeatOnly` switch values and another switch value), in time order: what the syntax's
/// round-trip tests (here and in the web crate's URL tests) run through.
pub fn sample_actions() -> Vec<TimedAction> {
    let a = |at_ms, action| TimedAction { at_ms, action };
    vec![
        a(0, Action::Crash { node: 2 }),
        a(1, Action::Restart { node: 2 }),
        a(2, Action::Timeout { node: 0 }),
        a(3, Action::Isolate { node: 4 }),
        a(
            4,
            Action::Cut {
                from: 1,
                to: 3,
                both: false,
            },
        ),
        a(
            5,
            Action::Cut {
                from: 10,
                to: 14,
                both: true,
            },
        ),
        a(
            6,
            Action::Heal {
                from: 3,
                to: 1,
                both: false,
            },
        ),
        a(
            6,
            Action::Heal {
                from: 0,
                to: 2,
                both: true,
            },
        ),
        a(
            7,
            Action::Partition {
                groups: vec![0, 0, 1, 1, 2, 12],
            },
        ),
        a(8, Action::HealAll),
        a(9, Action::SetLoss { ppm: 250_000 }),
        a(10, Action::SetLatency { min: 3, max: 900 }),
        a(
            11,
            Action::Put {
                node: 1,
                key: sample_key(7),
                value: sample_value(7, 2),
            },
        ),
        a(
            12,
            Action::Put {
                node: 0,
                key: "k:é,&=#%".into(),
                value: r#"{"a":"x:y, z"}"#.into(),
            },
        ),
        a(
            13,
            Action::Load {
                node: 3,
                first: 0,
                count: 200,
            },
        ),
        a(
            14,
            Action::Remove {
                node: 2,
                key: sample_key(1),
            },
        ),
        a(15, Action::Drop { msg: 123_456 }),
        a(
            16,
            Action::Put {
                node: 1,
                key: SWITCH_KEY.into(),
                value: SWITCH_BEAT_ONLY_ON.into(),
            },
        ),
        a(
            17,
            Action::Put {
                node: 0,
                key: SWITCH_KEY.into(),
                value: SWITCH_BEAT_ONLY_OFF.into(),
            },
        ),
        // Another switch value keeps the put form.
        a(
            18,
            Action::Put {
                node: 0,
                key: SWITCH_KEY.into(),
                value: r#"{"sendBeatOnly":true}"#.into(),
            },
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sample_values_are_nacos_instance_lists_on_loopback() {
        assert_eq!(
            sample_key(7),
            "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@svc-0007"
        );
        assert_eq!(
            sample_value(7, 2),
            r#"{"instanceList":[{"instanceId":"127.0.0.8#8080#DEFAULT#DEFAULT_GROUP@@svc-0007","ip":"127.0.0.8","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@svc-0007","metadata":{"version":"2"}}]}"#
        );
        assert_eq!(
            instance_value("demo", "127.0.0.7"),
            r#"{"instanceList":[{"instanceId":"127.0.0.7#8080#DEFAULT#DEFAULT_GROUP@@demo","ip":"127.0.0.7","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@demo","metadata":{}}]}"#
        );
        // Text from a form is escaped, not pasted into the JSON.
        let v = instance_value("a\"b", "1");
        assert!(crate::JsonValue::parse(&v).is_ok(), "{v}");
        // Escaped as serde_json escapes it, every byte that needs it and some that do not.
        for text in ["a\"b", "c\\d", "\u{1}\n\t", "é/\u{7f}<>&", "plain", ""] {
            let mut got = String::new();
            push_quoted(&mut got, &["x", text]);
            let want = serde_json::to_string(&alloc::format!("x{text}")).unwrap();
            assert_eq!(got, want, "{text:?}");
        }
        for (n, width, want) in [
            (0, 4, "0000"),
            (7, 4, "0007"),
            (12345, 4, "12345"),
            (0, 1, "0"),
        ] {
            let mut got = String::new();
            push_number(&mut got, n, width);
            assert_eq!(got, want);
        }
        assert_eq!(
            sample_key(123_456),
            alloc::format!(
                "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@svc-{:04}",
                123_456
            )
        );
        assert_eq!(
            sample_value(100_000, u64::MAX),
            alloc::format!(
                r#"{{"instanceList":[{{"instanceId":"127.0.150.1#8080#DEFAULT#DEFAULT_GROUP@@svc-100000","ip":"127.0.150.1","port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":"DEFAULT_GROUP@@svc-100000","metadata":{{"version":"{}"}}}}]}}"#,
                u64::MAX
            )
        );
    }
}
