//! Whether a value decodes as a naming type, without building it: [`check`] drives serde_json
//! through the same calls, in the same order, as the derived readers of [`Instances`],
//! [`Service`] and [`SwitchDomain`] (`super`), from a table of their fields. So it accepts exactly
//! what [`super::decode`] accepts and fails with the same error at the same position, but the
//! code is one reader for every type instead of one per type and field (the derived readers were
//! ~47 KB of the page's wasm before compression, issue 14). A property test holds the two
//! to each other.
//!
//! [`Instances`]: super::Instances
//! [`Service`]: super::Service
//! [`SwitchDomain`]: super::SwitchDomain

use crate::key::KeyKind;
use alloc::string::String;
use core::fmt;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// How one field reads (each as its derived reader calls serde).
#[derive(Clone, Copy)]
enum Kind {
    /// `Option<String>`, or a `String` read through `nullable`.
    OptString,
    /// `String`.
    Str,
    /// `Option<i32>` (`nullable`).
    OptI32,
    /// `i32`.
    I32,
    /// `Option<i64>` (`nullable`).
    OptI64,
    /// `i64`.
    I64,
    /// `u32`.
    U32,
    /// `Option<f32>` (`nullable`).
    OptF32,
    /// `f64`.
    F64,
    /// `Option<bool>` (`nullable`).
    OptBool,
    /// `bool`.
    Bool,
    /// `super::string_map`.
    StringMap,
    /// `serde_json::Value`.
    Json,
    /// `Option<Vec<String>>` (`nullable`).
    OptStrings,
    /// `Option<Vec<T>>` (`nullable`) of a struct.
    OptListOf(&'static Struct),
    /// `Option<BTreeMap<String, T>>` (`nullable`) of a struct.
    OptMapOf(&'static Struct),
}

/// A struct: its name as serde's error messages say it, its fields by their JSON names, in
/// declaration order (the order an array form fills them in).
struct Struct {
    expecting: &'static str,
    fields: &'static [(&'static str, Kind)],
}

use Kind::*;

static INSTANCE: Struct = Struct {
    expecting: "struct Instance",
    fields: &[
        ("instanceId", OptString),
        ("ip", OptString),
        ("port", OptI32),
        ("weight", F64),
        ("healthy", Bool),
        ("enabled", Bool),
        ("ephemeral", Bool),
        ("clusterName", OptString),
        ("serviceName", OptString),
        ("metadata", StringMap),
        ("lastBeat", OptI64),
        ("marked", OptBool),
        ("tenant", OptString),
        ("app", OptString),
    ],
};

static INSTANCES: Struct = Struct {
    expecting: "struct Instances",
    fields: &[("instanceList", OptListOf(&INSTANCE))],
};

static CLUSTER: Struct = Struct {
    expecting: "struct Cluster",
    fields: &[
        ("serviceName", OptString),
        ("name", OptString),
        ("healthChecker", Json),
        ("defaultPort", I32),
        ("defaultCheckPort", I32),
        ("useIPPort4Check", Bool),
        ("metadata", StringMap),
        ("sitegroup", Str),
        ("defCkport", I32),
        ("defIPPort", I32),
    ],
};

static SERVICE: Struct = Struct {
    expecting: "struct Service",
    fields: &[
        ("name", OptString),
        ("protectThreshold", OptF32),
        ("appName", OptString),
        ("groupName", OptString),
        ("metadata", StringMap),
        ("finalizeCount", OptI32),
        ("token", OptString),
        ("owners", OptStrings),
        ("resetWeight", OptBool),
        ("enabled", Bool),
        ("selector", Json),
        ("namespaceId", OptString),
        ("ipDeleteTimeout", I64),
        ("lastModifiedMillis", OptI64),
        ("checksum", OptString),
        ("clusterMap", OptMapOf(&CLUSTER)),
        ("empty", Bool),
    ],
};

static SWITCH: Struct = Struct {
    expecting: "struct SwitchDomain",
    fields: &[
        ("defaultCacheMillis", OptI64),
        ("defaultPushCacheMillis", I64),
        ("clientBeatInterval", I64),
        ("healthCheckEnabled", Bool),
        ("checkTimes", U32),
        ("serviceStatusSynchronizationPeriodMillis", I64),
        ("lightBeatEnabled", Bool),
        ("defaultInstanceEphemeral", Bool),
    ],
};

/// Whether `value` decodes as the type of `kind` ([`super::decode`]): the same outcome and, on
/// failure, the same error.
pub(super) fn check(kind: KeyKind, value: &str) -> Result<(), serde_json::Error> {
    let s = match kind {
        KeyKind::Switch => &SWITCH,
        KeyKind::Meta => &SERVICE,
        KeyKind::Iplist => &INSTANCES,
    };
    // What `serde_json::from_str` does around a type's reader.
    let mut de = serde_json::Deserializer::from_str(value);
    StructSeed(s).deserialize(&mut de)?;
    de.end()
}

/// Reads one field of kind `.0`.
struct Field(Kind);

impl<'de> DeserializeSeed<'de> for Field {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        match self.0 {
            OptString => drop(Option::<String>::deserialize(d)?),
            Str => drop(String::deserialize(d)?),
            OptI32 => drop(Option::<i32>::deserialize(d)?),
            I32 => drop(i32::deserialize(d)?),
            OptI64 => drop(Option::<i64>::deserialize(d)?),
            I64 => drop(i64::deserialize(d)?),
            U32 => drop(u32::deserialize(d)?),
            OptF32 => drop(Option::<f32>::deserialize(d)?),
            F64 => drop(f64::deserialize(d)?),
            OptBool => drop(Option::<bool>::deserialize(d)?),
            Bool => drop(bool::deserialize(d)?),
            StringMap => drop(super::string_map(d)?),
            Json => drop(serde_json::Value::deserialize(d)?),
            OptStrings => drop(Option::<alloc::vec::Vec<String>>::deserialize(d)?),
            OptListOf(s) => d.deserialize_option(Nullable(List(s)))?,
            OptMapOf(s) => d.deserialize_option(Nullable(Map(s)))?,
        }
        Ok(())
    }
}

/// A struct, read as `deserialize_struct` with the derived visitor: a map by field name or an
/// array by field order.
struct StructSeed(&'static Struct);

impl<'de> DeserializeSeed<'de> for StructSeed {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        // serde_json ignores the name and the field list; the derived reader passes them.
        d.deserialize_struct("", &[], self)
    }
}

impl<'de> Visitor<'de> for StructSeed {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0.expecting)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        // Every field has a default, so a short array is whole; serde_json refuses a long one.
        for &(_, kind) in self.0.fields {
            if seq.next_element_seed(Field(kind))?.is_none() {
                break;
            }
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        // At most 17 fields: a bit per field for the duplicate check.
        let mut seen = 0u32;
        while let Some(key) = map.next_key::<String>()? {
            match self.0.fields.iter().position(|(name, _)| *name == key) {
                Some(i) => {
                    if seen & (1 << i) != 0 {
                        return Err(serde::de::Error::duplicate_field(self.0.fields[i].0));
                    }
                    seen |= 1 << i;
                    map.next_value_seed(Field(self.0.fields[i].1))?;
                }
                None => drop(map.next_value::<IgnoredAny>()?),
            }
        }
        Ok(())
    }
}

/// `Vec<T>` of a struct.
#[derive(Clone, Copy)]
struct List(&'static Struct);

impl<'de> DeserializeSeed<'de> for List {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for List {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // serde's own words for a `Vec`.
        f.write_str("a sequence")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(StructSeed(self.0))?.is_some() {}
        Ok(())
    }
}

/// `BTreeMap<String, T>` of a struct.
#[derive(Clone, Copy)]
struct Map(&'static Struct);

impl<'de> DeserializeSeed<'de> for Map {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Map {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // serde's own words for a `BTreeMap`.
        f.write_str("a map")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<String>()?.is_some() {
            map.next_value_seed(StructSeed(self.0))?;
        }
        Ok(())
    }
}

/// `Option<T>` around `T`'s reader: `null` is the default.
struct Nullable<S>(S);

impl<'de, S: DeserializeSeed<'de, Value = ()>> Visitor<'de> for Nullable<S> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("option")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        self.0.deserialize(d)
    }
}
