//! Datum values in a few words for the Data view: an instance list as `ip:port` with its health,
//! weight and metadata, a service by its name, anything else as compact JSON, cut short.

use serde_json::Value;

/// The longest summary, in characters.
const MAX: usize = 80;

/// A datum's value in a few words.
pub fn summary(json: &str) -> String {
    let Ok(v) = serde_json::from_str::<Value>(json) else {
        return cut(json);
    };
    if let Some(list) = v.get("instanceList").and_then(Value::as_array) {
        if list.is_empty() {
            return "[]".into();
        }
        let parts: Vec<String> = list.iter().map(instance).collect();
        return cut(&parts.join(", "));
    }
    if let Some(name) = v.get("name").and_then(Value::as_str) {
        return cut(name);
    }
    cut(&v.to_string())
}

/// `127.0.0.1:8080 ✓ w1 {version=2}` (✗ when unhealthy, "off" when disabled).
fn instance(i: &Value) -> String {
    let ip = i.get("ip").and_then(Value::as_str).unwrap_or("?");
    let port = i.get("port").and_then(Value::as_u64).unwrap_or(0);
    let healthy = i.get("healthy").and_then(Value::as_bool).unwrap_or(true);
    let enabled = i.get("enabled").and_then(Value::as_bool).unwrap_or(true);
    let weight = i.get("weight").and_then(Value::as_f64).unwrap_or(1.0);
    let mut s = format!(
        "{ip}:{port} {} w{}",
        if healthy { "✓" } else { "✗" },
        crate::urlstate::fmt_speed(weight)
    );
    if !enabled {
        s.push_str(" off");
    }
    if let Some(m) = i.get("metadata").and_then(Value::as_object) {
        if !m.is_empty() {
            let kv: Vec<String> = m
                .iter()
                .map(|(k, v)| match v.as_str() {
                    Some(t) => format!("{k}={t}"),
                    None => format!("{k}={v}"),
                })
                .collect();
            s.push_str(&format!(" {{{}}}", kv.join(", ")));
        }
    }
    s
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
        assert_eq!(
            summary(&format!("\"{}\"", "x".repeat(200))).chars().count(),
            MAX
        );
    }
}
