//! A datum (Nacos' `Datum`): one key's value and its version counter, and the opaque JSON value.

use alloc::boxed::Box;
use alloc::string::{String, ToString};
use alloc::sync::Arc;
use core::fmt;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;

/// A datum value: opaque JSON to the protocol (an `Instances`, `Service` or `SwitchDomain` in
/// Nacos). Kept as the exact text received and shared cheaply between nodes and messages.
#[derive(Clone)]
pub struct JsonValue(Arc<RawValue>);

impl JsonValue {
    /// Validates `text` as one JSON value and keeps it verbatim.
    pub fn parse(text: &str) -> Result<JsonValue, serde_json::Error> {
        let raw = RawValue::from_string(text.to_string())?;
        Ok(JsonValue(Arc::from(raw)))
    }

    /// The JSON text.
    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    /// A JSON `null` (Nacos treats such a datum as empty).
    pub fn is_null(&self) -> bool {
        self.0.get().trim() == "null"
    }
}

impl PartialEq for JsonValue {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0) || self.0.get() == other.0.get()
    }
}
impl Eq for JsonValue {}

impl fmt::Debug for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.get())
    }
}

impl Serialize for JsonValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = Box::<RawValue>::deserialize(d)?;
        Ok(JsonValue(Arc::from(raw)))
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
