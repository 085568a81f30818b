//! Sample data for demos, presets and tests: instance-list keys and `Instances` values.

use super::syntax::{SWITCH_BEAT_ONLY_OFF, SWITCH_BEAT_ONLY_ON};
use super::{Action, TimedAction};
use crate::key::SWITCH_KEY;
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// Sample data: the instance-list key of service `svc-<i>` in namespace `public`.
pub fn sample_key(i: usize) -> String {
    crate::key::iplist_key("public", &format!("DEFAULT_GROUP@@svc-{i:04}"))
}

/// Sample data: a one-instance `Instances` value for service `svc-<i>`, version `v` (its
/// instance IP is on loopback, `127.0.x.y`).
pub fn sample_value(i: usize, v: u64) -> String {
    let ip = format!("127.0.{}.{}", (i / 250) % 250, i % 250 + 1);
    let version = format!("{v}");
    instances(&format!("svc-{i:04}"), &ip, Some(&version))
}

/// A persistent instance list (`Instances`, as Nacos stores it) of service
/// `DEFAULT_GROUP@@<service>` holding one healthy instance `<ip>:8080` without metadata: what
/// the page publishes for a service name and an IP.
pub fn instance_value(service: &str, ip: &str) -> String {
    instances(service, ip, None)
}

fn instances(service: &str, ip: &str, version: Option<&str>) -> String {
    let q = |s: &str| serde_json::to_string(s).unwrap_or_default();
    let metadata = match version {
        Some(v) => format!("{{\"version\":{}}}", q(v)),
        None => "{}".into(),
    };
    format!(
        r#"{{"instanceList":[{{"instanceId":{},"ip":{},"port":8080,"weight":1.0,"healthy":true,"enabled":true,"ephemeral":false,"clusterName":"DEFAULT","serviceName":{},"metadata":{metadata}}}]}}"#,
        q(&format!("{ip}#8080#DEFAULT#DEFAULT_GROUP@@{service}")),
        q(ip),
        q(&format!("DEFAULT_GROUP@@{service}"))
    )
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
    }
}
