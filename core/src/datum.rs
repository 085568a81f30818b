//! A datum (Nacos' `Datum`): one key's value and its version counter, and the opaque JSON value.

use crate::key::KeyKind;
use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use core::fmt;
use core::sync::atomic::{AtomicU8, Ordering};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A datum value: opaque JSON to the protocol (an `Instances`, `Service` or `SwitchDomain` in
/// Nacos). Kept as the exact text received and shared cheaply between nodes and messages.
#[derive(Clone)]
pub struct JsonValue(Arc<Shared>);

struct Shared {
    raw: Box<RawValue>,
    /// One bit per [`KeyKind`]: the text was decoded as that kind's naming value without error
    /// ([`crate::naming::check_value`]). Every node types a value before it stores it, and in
    /// the simulator every node holds the same allocation, so the decode runs once per value
    /// instead of once per node (it was a tenth of the simulator's time in wasm). The text never
    /// changes, so a set bit stays true.
    decodes: AtomicU8,
}

impl JsonValue {
    /// Validates `text` as one JSON value and keeps it verbatim.
    pub fn parse(text: &str) -> Result<JsonValue, serde_json::Error> {
        let raw = RawValue::from_string(text.to_string())?;
        Ok(JsonValue::from_raw(raw))
    }

    fn from_raw(raw: Box<RawValue>) -> JsonValue {
        JsonValue(Arc::new(Shared {
            raw,
            decodes: AtomicU8::new(0),
        }))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.raw.get()
    }

    /// A JSON `null` (Nacos treats such a datum as empty).
    pub fn is_null(&self) -> bool {
        self.as_str().trim() == "null"
    }

    /// Whether the text is known to decode as `kind`'s naming value.
    pub(crate) fn decodes_as(&self, kind: KeyKind) -> bool {
        self.0.decodes.load(Ordering::Relaxed) & kind_bit(kind) != 0
    }

    /// Records that the text decodes as `kind`'s naming value.
    pub(crate) fn set_decodes_as(&self, kind: KeyKind) {
        self.0.decodes.fetch_or(kind_bit(kind), Ordering::Relaxed);
    }
}

fn kind_bit(kind: KeyKind) -> u8 {
    match kind {
        KeyKind::Switch => 1,
        KeyKind::Meta => 2,
        KeyKind::Iplist => 4,
    }
}

impl PartialEq for JsonValue {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.as_str() == other.as_str()
    }
}
impl Eq for JsonValue {}

impl fmt::Debug for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for JsonValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.raw.serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(JsonValue::from_raw(raw))
    }
}

/// `Datum`: one key's whole value and its version counter (`timestamp`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Datum {
    /// The full key.
    pub key: String,
    /// The value; absent in delete messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub value: Option<JsonValue>,
    /// Version: 1 on first write, +1 per leader write.
    pub timestamp: u64,
}
