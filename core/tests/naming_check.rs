//! `naming::check_value` reads values through a table of fields instead of the derived readers
//! (issue 14: the page's size). Here it must agree with `naming::decode`, the derived readers,
//! on every value: the same outcome and, on failure, the same message (serde_json's words and
//! position). Values are JSON texts built from the naming types' own field names, with every
//! JSON type in every field, duplicate keys, the array form of structs, and broken texts.
#![cfg(not(target_arch = "wasm32"))]

use nacos_raft_core::key::KeyKind;
use nacos_raft_core::naming::{check_value, decode};
use proptest::prelude::*;

/// Every field name of `Instances`, `Instance`, `Service`, `Cluster` and `SwitchDomain`, and a
/// few that none has.
const NAMES: &[&str] = &[
    "instanceList",
    "instanceId",
    "ip",
    "port",
    "weight",
    "healthy",
    "enabled",
    "ephemeral",
    "clusterName",
    "serviceName",
    "metadata",
    "lastBeat",
    "marked",
    "tenant",
    "app",
    "name",
    "protectThreshold",
    "appName",
    "groupName",
    "finalizeCount",
    "token",
    "owners",
    "resetWeight",
    "selector",
    "namespaceId",
    "ipDeleteTimeout",
    "lastModifiedMillis",
    "checksum",
    "clusterMap",
    "empty",
    "healthChecker",
    "defaultPort",
    "defaultCheckPort",
    "useIPPort4Check",
    "sitegroup",
    "defCkport",
    "defIPPort",
    "defaultCacheMillis",
    "defaultPushCacheMillis",
    "clientBeatInterval",
    "healthCheckEnabled",
    "checkTimes",
    "serviceStatusSynchronizationPeriodMillis",
    "lightBeatEnabled",
    "defaultInstanceEphemeral",
    "x",
    "type",
    "DEFAULT",
    "instance\\u0049d",
];

/// A JSON text of nested values; objects may repeat a key.
fn json() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        Just("null".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        any::<i64>().prop_map(|n| n.to_string()),
        (0u64..5_000_000_000).prop_map(|n| n.to_string()),
        prop_oneof![
            Just(-1i64),
            Just(0),
            Just(80),
            Just(2_147_483_648),
            Just(-2_147_483_649)
        ]
        .prop_map(|n| n.to_string()),
        prop_oneof![
            Just("1.5"),
            Just("-0.0"),
            Just("1e39"),
            Just("1e400"),
            Just("3.4028236e38"),
            Just("12345678901234567890"),
            Just("0.1")
        ]
        .prop_map(str::to_string),
        "[a-z0-9 ]{0,6}".prop_map(|s| format!("\"{s}\"")),
        Just("\"\\u00e9\\n\"".to_string()),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..5)
                .prop_map(|v| format!("[{}]", v.join(","))),
            proptest::collection::vec((proptest::sample::select(NAMES), inner), 0..8).prop_map(
                |kv| {
                    let fields: Vec<String> =
                        kv.iter().map(|(k, v)| format!("\"{k}\": {v}")).collect();
                    format!("{{{}}}", fields.join(", "))
                }
            ),
        ]
    })
}

/// A value shaped like `kind`'s type: its top-level fields, most of them well typed.
fn shaped(kind: KeyKind) -> impl Strategy<Value = String> {
    let instance = proptest::collection::vec(
        (
            proptest::sample::select(&NAMES[1..15]),
            prop_oneof![json(), Just("\"1.2.3.4\"".into()), Just("8848".into())],
        ),
        0..6,
    )
    .prop_map(|kv| {
        let f: Vec<String> = kv.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", f.join(","))
    });
    match kind {
        KeyKind::Iplist => proptest::collection::vec(instance, 0..4)
            .prop_map(|v| format!("{{\"instanceList\":[{}]}}", v.join(",")))
            .boxed(),
        KeyKind::Meta | KeyKind::Switch => json().boxed(),
    }
}

fn kinds() -> impl Strategy<Value = KeyKind> {
    prop_oneof![
        Just(KeyKind::Iplist),
        Just(KeyKind::Meta),
        Just(KeyKind::Switch)
    ]
}

/// What the derived readers say of `value`, worded as `check_value` words it.
fn derived(kind: KeyKind, value: &str) -> Result<(), String> {
    if value.trim() == "null" {
        return Ok(());
    }
    decode(kind, value).map(|_| ()).map_err(|e| {
        format!("errCode: 101, errMsg: Nacos deserialize for class [C] failed. ;caused: {e}")
    })
}

fn agree(kind: KeyKind, value: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(
        check_value(kind, value, "C"),
        derived(kind, value),
        "{:?} {}",
        kind,
        value
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4_000, ..ProptestConfig::default() })]

    #[test]
    fn the_field_table_reads_as_the_derived_readers(kind in kinds(), v in json()) {
        agree(kind, &v)?;
    }

    #[test]
    fn the_same_for_values_shaped_like_their_type(kind in kinds(),
        v in prop_oneof![shaped(KeyKind::Iplist), shaped(KeyKind::Meta)]) {
        agree(kind, &v)?;
    }

    #[test]
    fn the_same_for_broken_texts(kind in kinds(), v in json(), cut in any::<prop::sample::Index>(),
        tail in prop_oneof![Just(""), Just(" x"), Just(","), Just("]"), Just("}")]) {
        let end = cut.index(v.len() + 1);
        let mut t = v.get(..end).unwrap_or(&v).to_string();
        t.push_str(tail);
        agree(kind, &t)?;
    }
}

/// The cases the generator may miss, each on its own.
#[test]
fn chosen_values_read_the_same() {
    let cases = [
        (
            KeyKind::Iplist,
            r#"{"instanceList":[{"ip":"1.2.3.4","port":80,"ip":"x"}]}"#,
        ),
        (
            KeyKind::Iplist,
            r#"{"instanceList":[[null,"1.2.3.4",80,1.0,true]]}"#,
        ),
        (
            KeyKind::Iplist,
            r#"{"instanceList":[["1.2.3.4",80,1.0,true,true,true,null,null,{},0,false,null,null,1]]}"#,
        ),
        (KeyKind::Iplist, r#"[[["1.2.3.4"]]]"#),
        (KeyKind::Iplist, r#"[null]"#),
        (KeyKind::Iplist, r#"{"instanceList":null}"#),
        (KeyKind::Iplist, r#"{"instanceList":{}}"#),
        (
            KeyKind::Iplist,
            r#"{"instanceList":[{"metadata":{"a":1,"b":true,"c":null,"d":[]}}]}"#,
        ),
        (KeyKind::Iplist, r#"{"instanceList":[{"weight":null}]}"#),
        (KeyKind::Iplist, r#"{"instanceList":[{"port":2147483648}]}"#),
        (KeyKind::Iplist, r#"{"instanceList":[]} x"#),
        (KeyKind::Iplist, "\"text\""),
        (KeyKind::Iplist, " null "),
        (KeyKind::Meta, r#"{"clusterMap":{"c":{"sitegroup":null}}}"#),
        (
            KeyKind::Meta,
            r#"{"clusterMap":{"c":{"healthChecker":{"type":"TCP"},"defaultPort":"80"}}}"#,
        ),
        (KeyKind::Meta, r#"{"clusterMap":[]}"#),
        (
            KeyKind::Meta,
            r#"{"clusterMap":{"c":[null,"n",{},1,2,true,{},"s",1,2,3]}}"#,
        ),
        (KeyKind::Meta, r#"{"owners":["a",1]}"#),
        (KeyKind::Meta, r#"{"selector":1e400}"#),
        (
            KeyKind::Meta,
            r#"{"protectThreshold":1e39,"empty":false,"empty":true}"#,
        ),
        (KeyKind::Meta, r#"{"ipDeleteTimeout":null}"#),
        (KeyKind::Switch, r#"{"checkTimes":-1}"#),
        (
            KeyKind::Switch,
            r#"{"checkTimes":null,"defaultCacheMillis":null}"#,
        ),
        (
            KeyKind::Switch,
            r#"{"name":"00-00---000-NACOS_SWITCH_DOMAIN-000---00-00","sendBeatOnly":true}"#,
        ),
        (KeyKind::Switch, "[1,2,3,true,4,5,true,true,9]"),
        (KeyKind::Switch, ""),
        (KeyKind::Switch, "{"),
    ];
    for (kind, value) in cases {
        assert_eq!(
            check_value(kind, value, "C"),
            derived(kind, value),
            "{kind:?} {value}"
        );
    }
    // The chosen values do fail and pass as they should (so that the comparison is not of two
    // readers that accept everything).
    assert!(check_value(KeyKind::Iplist, cases[0].1, "C")
        .unwrap_err()
        .contains("duplicate field `ip`"));
    assert!(check_value(KeyKind::Iplist, cases[1].1, "C").is_ok());
    assert!(check_value(KeyKind::Meta, cases[14].1, "C")
        .unwrap_err()
        .contains("expected i32"));
}
