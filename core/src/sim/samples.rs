//! Sample data for demos, presets and tests: instance-list keys and `Instances` values.

use alloc::format;
use alloc::string::String;

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
