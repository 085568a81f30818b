//! Datum keys (docs/nacos-protocol.md §1.1, Nacos' `KeyBuilder`): which family a key belongs to, its
//! brief form used inside heartbeats, its namespace (the folder it is persisted in), and the
//! stricter check this project applies to keys that clients submit.

use alloc::string::String;

/// Prefix of service-metadata keys (and of the switch key).
pub const META_PREFIX: &str = "com.alibaba.nacos.naming.domains.meta.";
/// Prefix of instance-list keys.
pub const IPLIST_PREFIX: &str = "com.alibaba.nacos.naming.iplist.";
/// Prefix of ephemeral instance lists, which never enter raft.
pub const EPHEMERAL_PREFIX: &str = "com.alibaba.nacos.naming.iplist.ephemeral.";
/// Brief form prefix of meta keys inside a beat.
pub const BRIEF_META_PREFIX: &str = "meta.";
/// Brief form prefix of instance-list keys inside a beat.
pub const BRIEF_IPLIST_PREFIX: &str = "iplist.";
/// Name of the global switch object.
pub const SWITCH_NAME: &str = "00-00---000-NACOS_SWITCH_DOMAIN-000---00-00";
/// The switch key (also a meta key: check switch first).
pub const SWITCH_KEY: &str =
    "com.alibaba.nacos.naming.domains.meta.00-00---000-NACOS_SWITCH_DOMAIN-000---00-00";
/// Only files whose name starts with this are loaded at start-up.
pub const FILE_PREFIX: &str = "com.alibaba.nacos.naming";
/// `namespace##group@@service`.
pub const NAMESPACE_CONNECTOR: &str = "##";
/// Default group, as in `DEFAULT_GROUP@@service`.
pub const DEFAULT_GROUP: &str = "DEFAULT_GROUP";

const DETAIL_META_HEAD: &str = "com.alibaba.nacos.naming.domains.";
const DETAIL_IPLIST_HEAD: &str = "com.alibaba.nacos.naming.";

/// The three key families Nacos replicates, in the order Nacos tests them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyKind {
    /// The global switch (`SwitchDomain` value).
    Switch,
    /// Service metadata (`Service` value).
    Meta,
    /// Persistent instance list (`Instances` value).
    Iplist,
}

/// Byte equality, eight bytes at a time and inlined. The beat path compares ~1,000 keys per beat
/// per follower; on wasm each `==` on slices is a call to a byte-by-byte `memcmp`, which made
/// half of the simulator's time there.
#[inline]
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut ca = a.chunks_exact(8);
    let mut cb = b.chunks_exact(8);
    for (x, y) in (&mut ca).zip(&mut cb) {
        let x = u64::from_ne_bytes([x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7]]);
        let y = u64::from_ne_bytes([y[0], y[1], y[2], y[3], y[4], y[5], y[6], y[7]]);
        if x != y {
            return false;
        }
    }
    ca.remainder()
        .iter()
        .zip(cb.remainder())
        .all(|(x, y)| x == y)
}

/// Byte order (`<[u8]>::cmp`), eight bytes at a time: each chunk is read little-endian, so the
/// lowest set bit of two unequal chunks' XOR is in their first unequal byte, and those two bytes
/// decide. (Turning the chunks big-endian and comparing them as integers gives the same order,
/// but wasm has no byte swap: `u64::to_be` is ~20 instructions per chunk there against one
/// `ctz`; natively `tzcnt` and `bswap` cost the same.) A tail shorter than eight bytes is
/// compared as the last eight bytes (they overlap bytes already found equal), not byte by
/// byte: the workload's keys are 63 bytes and differ there. On wasm `<[u8]>::cmp` is a call to a
/// byte-by-byte `memcmp`, and datum keys share a ~60-byte prefix
/// (`com.alibaba.nacos.naming.iplist.…`).
#[inline]
fn cmp_bytes(a: &[u8], b: &[u8]) -> core::cmp::Ordering {
    #[inline]
    fn word(s: &[u8]) -> u64 {
        u64::from_le_bytes([s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7]])
    }
    /// The order of two unequal chunks starting at `at` in `a` and `b`.
    #[inline]
    fn first_unequal(a: &[u8], b: &[u8], at: usize, x: u64, y: u64) -> core::cmp::Ordering {
        let k = at + ((x ^ y).trailing_zeros() / 8) as usize;
        a[k].cmp(&b[k])
    }
    let n = a.len().min(b.len());
    let (a, b, by_length) = (&a[..n], &b[..n], a.len().cmp(&b.len()));
    if n < 8 {
        return a.cmp(b).then(by_length);
    }
    let mut i = 0;
    while i + 8 <= n {
        let (x, y) = (word(&a[i..i + 8]), word(&b[i..i + 8]));
        if x != y {
            return first_unequal(a, b, i, x, y);
        }
        i += 8;
    }
    if i < n {
        let (x, y) = (word(&a[n - 8..]), word(&b[n - 8..]));
        if x != y {
            return first_unequal(a, b, n - 8, x, y);
        }
    }
    by_length
}

/// A datum key as the key of an ordered map: a `String` whose comparisons are [`cmp_bytes`]
/// rather than `memcmp`, in exactly `String`'s order (so a map of them iterates as a map of
/// `String`s, and `get(&str)` through [`Borrow`](core::borrow::Borrow) finds the same entries).
/// Inserting one of 1,000 such keys into a map compares it with ~20 others along their shared
/// prefix: that was a fifth of the simulator's time in wasm.
#[derive(Clone, Default, PartialEq, Eq, Hash)]
pub struct MapKey(String);

impl MapKey {
    /// The key as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl Ord for MapKey {
    #[inline]
    fn cmp(&self, other: &Self) -> core::cmp::Ordering {
        cmp_bytes(self.0.as_bytes(), other.0.as_bytes())
    }
}

impl PartialOrd for MapKey {
    #[inline]
    fn partial_cmp(&self, other: &Self) -> Option<core::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl core::borrow::Borrow<str> for MapKey {
    fn borrow(&self) -> &str {
        &self.0
    }
}

impl core::borrow::Borrow<String> for MapKey {
    fn borrow(&self) -> &String {
        &self.0
    }
}

impl core::ops::Deref for MapKey {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl From<String> for MapKey {
    fn from(s: String) -> MapKey {
        MapKey(s)
    }
}

impl From<&str> for MapKey {
    fn from(s: &str) -> MapKey {
        MapKey(s.into())
    }
}

impl From<MapKey> for String {
    fn from(k: MapKey) -> String {
        k.0
    }
}

impl PartialEq<str> for MapKey {
    fn eq(&self, other: &str) -> bool {
        same_bytes(self.0.as_bytes(), other.as_bytes())
    }
}

impl core::fmt::Debug for MapKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(&self.0, f)
    }
}

impl core::fmt::Display for MapKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(&self.0)
    }
}

#[inline]
fn has_prefix(s: &str, p: &str) -> bool {
    s.len() >= p.len() && same_bytes(&s.as_bytes()[..p.len()], p.as_bytes())
}

#[inline]
fn has_suffix(s: &str, p: &str) -> bool {
    s.len() >= p.len() && same_bytes(&s.as_bytes()[s.len() - p.len()..], p.as_bytes())
}

/// `matchServiceMetaKey`: long or brief meta prefix.
pub fn is_meta(key: &str) -> bool {
    has_prefix(key, META_PREFIX) || has_prefix(key, BRIEF_META_PREFIX)
}

/// `matchInstanceListKey`: long or brief instance-list prefix.
pub fn is_iplist(key: &str) -> bool {
    has_prefix(key, IPLIST_PREFIX) || has_prefix(key, BRIEF_IPLIST_PREFIX)
}

/// `matchSwitchKey`: ends with the switch name.
pub fn is_switch(key: &str) -> bool {
    has_suffix(key, SWITCH_NAME)
}

/// `matchPersistentKey`: everything but ephemeral instance lists.
pub fn is_persistent(key: &str) -> bool {
    !key.starts_with(EPHEMERAL_PREFIX)
}

/// The value type Nacos picks for a key (switch, then iplist, then meta), or `None` for a key
/// Nacos answers with `unknown type publish key`.
pub fn kind(key: &str) -> Option<KeyKind> {
    if is_switch(key) {
        Some(KeyKind::Switch)
    } else if is_iplist(key) {
        Some(KeyKind::Iplist)
    } else if is_meta(key) {
        Some(KeyKind::Meta)
    } else {
        None
    }
}

/// Brief form used in heartbeats: `meta.…` or `iplist.…`. `None` when the key is not in long
/// form; Nacos' `split(prefix)[1]` throws there and the whole beat is not sent.
pub fn brief(key: &str) -> Option<&str> {
    if has_prefix(key, META_PREFIX) {
        Some(&key[DETAIL_META_HEAD.len()..])
    } else if has_prefix(key, IPLIST_PREFIX) {
        Some(&key[DETAIL_IPLIST_HEAD.len()..])
    } else {
        None
    }
}

/// What the beat receiver puts in front of a brief key to get the full key (Nacos'
/// `KeyBuilder.detailServiceName`), or `None` for entries Nacos skips ("ignore corrupted key").
pub fn detail_head(brief: &str) -> Option<&'static str> {
    if is_meta(brief) {
        Some(DETAIL_META_HEAD)
    } else if is_iplist(brief) {
        Some(DETAIL_IPLIST_HEAD)
    } else {
        None
    }
}

/// The full key a beat receiver rebuilds from a brief one (`KeyBuilder.detailServiceName`), or
/// `None` for an entry Nacos skips; the inverse of [`brief`] for meta and instance-list keys.
pub fn detail(brief: &str) -> Option<String> {
    detail_head(brief).map(|head| {
        let mut s = String::with_capacity(head.len() + brief.len());
        s.push_str(head);
        s.push_str(brief);
        s
    })
}

/// Compares `full` with the concatenation `head + tail` without building it.
pub(crate) fn cmp_joined(full: &str, head: &str, tail: &str) -> core::cmp::Ordering {
    let (f, h) = (full.as_bytes(), head.as_bytes());
    let n = f.len().min(h.len());
    match f[..n].cmp(&h[..n]) {
        core::cmp::Ordering::Equal if f.len() >= h.len() => f[h.len()..].cmp(tail.as_bytes()),
        core::cmp::Ordering::Equal => core::cmp::Ordering::Less,
        other => other,
    }
}

/// `a == b` without a call to `memcmp` (a byte loop on wasm).
pub(crate) fn same(a: &str, b: &str) -> bool {
    same_bytes(a.as_bytes(), b.as_bytes())
}

/// `a.cmp(b)` without a call to `memcmp` (a byte loop on wasm), for addresses and keys compared
/// on every message.
pub(crate) fn cmp_str(a: &str, b: &str) -> core::cmp::Ordering {
    cmp_bytes(a.as_bytes(), b.as_bytes())
}

/// `a.cmp(b)`, with the usual case of equal keys decided by [`same_bytes`] rather than a call to
/// `memcmp` (a byte loop on wasm; keys share a long prefix).
#[cfg(feature = "sim")]
pub(crate) fn cmp_keys(a: &str, b: &str) -> core::cmp::Ordering {
    if same_bytes(a.as_bytes(), b.as_bytes()) {
        core::cmp::Ordering::Equal
    } else {
        a.cmp(b)
    }
}

/// Whether `full == head + tail`.
pub(crate) fn is_joined(full: &str, head: &str, tail: &str) -> bool {
    full.len() == head.len() + tail.len() && has_suffix(full, tail) && has_prefix(full, head)
}

/// `getNamespace`: the text between the long prefix and the first `##`; `""` for the switch and
/// for keys without a long prefix. Decides the folder a datum is persisted in.
pub fn namespace(key: &str) -> &str {
    if is_switch(key) {
        return "";
    }
    let rest = if let Some(r) = key.strip_prefix(EPHEMERAL_PREFIX) {
        r
    } else if let Some(r) = key.strip_prefix(META_PREFIX) {
        r
    } else if let Some(r) = key.strip_prefix(IPLIST_PREFIX) {
        r
    } else {
        return "";
    };
    match rest.find(NAMESPACE_CONNECTOR) {
        Some(i) => &rest[..i],
        None => rest,
    }
}

/// The service part after `##` (e.g. `DEFAULT_GROUP@@demo`): the grouped service name of a
/// meta or instance-list key.
pub fn service(key: &str) -> &str {
    match key.find(NAMESPACE_CONNECTOR) {
        Some(i) => &key[i + NAMESPACE_CONNECTOR.len()..],
        None => key.rsplit('.').next().unwrap_or(key),
    }
}

/// File name Nacos uses for a key: every `:` replaced by `#`.
pub fn file_name(key: &str) -> String {
    key.replace(':', "#")
}

/// The instance-list key of `service` (`group@@name`) in `namespace`.
pub fn iplist_key(namespace: &str, service: &str) -> String {
    let mut k = String::with_capacity(IPLIST_PREFIX.len() + namespace.len() + service.len() + 2);
    k.push_str(IPLIST_PREFIX);
    k.push_str(namespace);
    k.push_str(NAMESPACE_CONNECTOR);
    k.push_str(service);
    k
}

/// The service-metadata key of `service` (`group@@name`) in `namespace`.
pub fn meta_key(namespace: &str, service: &str) -> String {
    let mut k = String::with_capacity(META_PREFIX.len() + namespace.len() + service.len() + 2);
    k.push_str(META_PREFIX);
    k.push_str(namespace);
    k.push_str(NAMESPACE_CONNECTOR);
    k.push_str(service);
    k
}

/// The stricter rule for keys that people and clients submit through this project (the HTTP
/// client path, the CLI, the page): long form only (a brief-form key would make a leader's beat
/// fail, as in Nacos), persistent, a namespace that is a safe folder name, and only the
/// characters Nacos allows in service names plus `#`. Returns the key's kind.
pub fn validate_client_key(key: &str) -> Result<KeyKind, String> {
    use alloc::format;
    if key.is_empty() {
        return Err("key is empty".into());
    }
    if key.len() > 512 {
        return Err(format!(
            "key is {} bytes long; at most 512 are allowed",
            key.len()
        ));
    }
    if key == SWITCH_KEY {
        return Ok(KeyKind::Switch);
    }
    if !is_persistent(key) {
        return Err(format!("ephemeral key {key} is not replicated by raft"));
    }
    let (rest, kind) = if let Some(r) = key.strip_prefix(META_PREFIX) {
        (r, KeyKind::Meta)
    } else if let Some(r) = key.strip_prefix(IPLIST_PREFIX) {
        (r, KeyKind::Iplist)
    } else {
        return Err(format!(
            "unknown type publish key: {key} (expected a key starting with {META_PREFIX} or {IPLIST_PREFIX})"
        ));
    };
    if let Some(c) = rest
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "@.:_#-".contains(*c)))
    {
        return Err(format!(
            "key {key} contains {c:?}; allowed are letters, digits and @.:_#-"
        ));
    }
    let ns = namespace(key);
    let Some(svc) = rest.find(NAMESPACE_CONNECTOR).map(|i| &rest[i + 2..]) else {
        return Err(format!(
            "key {key} has no namespace: expected <prefix><namespace>##<group>@@<service>"
        ));
    };
    if ns.is_empty() || ns == "." || ns == ".." {
        return Err(format!("key {key} has an invalid namespace {ns:?}"));
    }
    if svc.is_empty() {
        return Err(format!("key {key} has no service name after ##"));
    }
    Ok(kind)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::format;
    use alloc::vec::Vec;

    const META: &str = "com.alibaba.nacos.naming.domains.meta.public##DEFAULT_GROUP@@demo";
    const IPLIST: &str = "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@demo";

    #[test]
    fn brief_and_detail_round_trip_as_in_the_spec() {
        assert_eq!(brief(META), Some("meta.public##DEFAULT_GROUP@@demo"));
        assert_eq!(brief(IPLIST), Some("iplist.public##DEFAULT_GROUP@@demo"));
        assert_eq!(
            brief(SWITCH_KEY),
            Some("meta.00-00---000-NACOS_SWITCH_DOMAIN-000---00-00")
        );
        let detail = |b: &str| detail_head(b).map(|h| alloc::format!("{h}{b}"));
        assert_eq!(
            detail("meta.public##DEFAULT_GROUP@@demo").as_deref(),
            Some(META)
        );
        assert_eq!(
            detail("iplist.public##DEFAULT_GROUP@@demo").as_deref(),
            Some(IPLIST)
        );
        assert_eq!(detail("other.x"), None);
        // Already brief: Nacos' split()[1] throws, so there is no brief form.
        assert_eq!(brief("meta.x"), None);
        assert_eq!(brief("com.example.x"), None);
    }

    #[test]
    fn joined_comparison_matches_the_built_string() {
        use core::cmp::Ordering;
        let parts = [
            ("ab", "c"),
            ("a", "bc"),
            ("abc", ""),
            ("", "abc"),
            ("ab", "d"),
            ("b", ""),
            ("a", ""),
        ];
        for full in ["abc", "abd", "ab", "a", "", "b", "abcd"] {
            for (h, t) in parts {
                let joined = alloc::format!("{h}{t}");
                assert_eq!(
                    cmp_joined(full, h, t),
                    full.cmp(joined.as_str()),
                    "{full} vs {h}+{t}"
                );
                assert_eq!(is_joined(full, h, t), full == joined, "{full} vs {h}+{t}");
            }
        }
        assert_eq!(
            cmp_joined(META, DETAIL_META_HEAD, "meta.public##DEFAULT_GROUP@@demo"),
            Ordering::Equal
        );
    }

    // What the fuzz target `datum_keys` checked of these helpers before they became
    // crate-private: every split of arbitrary (multi-byte, long) strings, including the
    // word-at-a-time fast path.
    #[cfg(not(target_arch = "wasm32"))]
    proptest::proptest! {
        #[test]
        fn joined_comparison_matches_for_any_split(full in ".{0,40}", b in ".{0,40}") {
            for (i, _) in b.char_indices() {
                let (h, t) = b.split_at(i);
                let joined = alloc::format!("{h}{t}");
                proptest::prop_assert_eq!(cmp_joined(&full, h, t), full.as_str().cmp(joined.as_str()));
                proptest::prop_assert_eq!(is_joined(&full, h, t), full == joined);
                proptest::prop_assert!(is_joined(&joined, h, t));
            }
        }
    }

    #[test]
    fn kinds_test_switch_first() {
        assert_eq!(kind(SWITCH_KEY), Some(KeyKind::Switch));
        assert!(is_meta(SWITCH_KEY));
        assert_eq!(kind(META), Some(KeyKind::Meta));
        assert_eq!(kind(IPLIST), Some(KeyKind::Iplist));
        assert_eq!(kind("meta.x"), Some(KeyKind::Meta));
        assert_eq!(kind("foo"), None);
        assert!(!is_persistent(
            "com.alibaba.nacos.naming.iplist.ephemeral.public##a@@b"
        ));
        assert!(is_persistent(IPLIST));
    }

    #[test]
    fn namespace_and_file_name() {
        assert_eq!(namespace(META), "public");
        assert_eq!(namespace(IPLIST), "public");
        assert_eq!(namespace(SWITCH_KEY), "");
        assert_eq!(
            namespace("com.alibaba.nacos.naming.iplist.ephemeral.dev##a@@b"),
            "dev"
        );
        assert_eq!(namespace("meta.x"), "");
        assert_eq!(
            file_name(
                "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@providers:com.x.Api:1.0.0:"
            ),
            "com.alibaba.nacos.naming.iplist.public##DEFAULT_GROUP@@providers#com.x.Api#1.0.0#"
        );
        assert_eq!(iplist_key("public", "DEFAULT_GROUP@@demo"), IPLIST);
        assert_eq!(meta_key("public", "DEFAULT_GROUP@@demo"), META);
    }

    #[test]
    fn client_keys_are_checked_strictly() {
        assert_eq!(validate_client_key(IPLIST), Ok(KeyKind::Iplist));
        assert_eq!(validate_client_key(META), Ok(KeyKind::Meta));
        assert_eq!(validate_client_key(SWITCH_KEY), Ok(KeyKind::Switch));
        for bad in [
            "",
            "meta.public##a@@b",
            "com.alibaba.nacos.naming.iplist.ephemeral.public##a@@b",
            "com.alibaba.nacos.naming.iplist.public##a@@b,c",
            "com.alibaba.nacos.naming.iplist.public##a b",
            "com.alibaba.nacos.naming.iplist.public",
            "com.alibaba.nacos.naming.iplist.##a@@b",
            "com.alibaba.nacos.naming.iplist...##a@@b",
            "com.alibaba.nacos.naming.iplist.public##",
            "com.alibaba.nacos.naming.iplist.pub/lic##a@@b",
        ] {
            assert!(validate_client_key(bad).is_err(), "{bad}");
        }
        assert!(validate_client_key("x")
            .unwrap_err()
            .starts_with("unknown type publish key: x"));
    }

    #[test]
    fn map_keys_order_by_the_first_unequal_byte() {
        // Two keys unequal at byte `p` and again, the other way round, at a later byte of the
        // same chunk or of the overlapping tail: only the first difference may decide.
        for len in [8, 9, 15, 16, 17, 23, 63] {
            for p in 0..len {
                for q in p + 1..len {
                    let mut a = alloc::vec![b'm'; len];
                    let mut b = a.clone();
                    (a[p], b[p]) = (b'a', b'z');
                    (a[q], b[q]) = (b'z', b'a');
                    let (a, b) = (String::from_utf8(a).unwrap(), String::from_utf8(b).unwrap());
                    let (ka, kb) = (MapKey::from(a.as_str()), MapKey::from(b.as_str()));
                    assert_eq!(ka.cmp(&kb), a.cmp(&b), "{a:?} vs {b:?}");
                    assert_eq!(kb.cmp(&ka), b.cmp(&a), "{b:?} vs {a:?}");
                }
            }
        }
    }

    #[test]
    fn map_keys_order_as_strings() {
        // Every pair from keys that differ before, inside and after an 8-byte chunk, in the
        // remainder, by length only, and in bytes above 0x7f (UTF-8 lead bytes).
        let mut keys: Vec<String> = alloc::vec![
            String::new(),
            "a".into(),
            "ab".into(),
            "abcdefg".into(),
            "abcdefgh".into(),
            "abcdefgi".into(),
            "abcdefgh\u{0}".into(),
            "abcdefghi".into(),
            "abcdefghij".into(),
            "abcdefghijklmnopq".into(),
            "abcdefghijklmnopr".into(),
            "zbcdefghijklmnopq".into(),
            "é".into(),
            "abcdefgé".into(),
            "abcdefg\u{7f}".into(),
            IPLIST.into(),
            META.into(),
            SWITCH_KEY.into(),
        ];
        for i in 0..40 {
            keys.push(format!("{IPLIST}{i}"));
            keys.push(format!("{}{i}", &IPLIST[..IPLIST.len() - 3]));
        }
        for a in &keys {
            for b in &keys {
                let (ka, kb) = (MapKey::from(a.as_str()), MapKey::from(b.as_str()));
                assert_eq!(ka.cmp(&kb), a.cmp(b), "{a:?} vs {b:?}");
                assert_eq!(ka == kb, a == b);
                assert_eq!(ka == *b.as_str(), a == b);
            }
        }
        let map: BTreeMap<MapKey, usize> = keys
            .iter()
            .enumerate()
            .map(|(i, k)| (MapKey::from(k.clone()), i))
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        sorted.dedup();
        assert!(map
            .keys()
            .map(|k| k.as_str())
            .eq(sorted.iter().map(|k| k.as_str())));
        for (i, k) in keys.iter().enumerate() {
            assert_eq!(map.get(k.as_str()), Some(&i));
            assert_eq!(map.get(k), Some(&i));
        }
    }
}
