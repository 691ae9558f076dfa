//! Salesforce record ids: 15- and 18-character forms, the checksum, key prefixes.
//!
//! A 15-character id is case-sensitive. The 18-character form appends a 3-character checksum that
//! encodes which of the first 15 characters are upper case, so 18-character ids can be compared
//! case-insensitively. [`RecordId`] always holds the canonical 18-character form.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// The alphabet the checksum characters are drawn from, indexed by a 5-bit value.
const CHECKSUM_ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// Standard key prefixes (the first three characters of an id) and the object they identify.
const STANDARD_PREFIXES: &[(&str, &str)] = &[
    ("001", "Account"),
    ("003", "Contact"),
    ("005", "User"),
    ("006", "Opportunity"),
    ("00D", "Organization"),
    ("00Q", "Lead"),
    ("00T", "Task"),
    ("00U", "Event"),
    ("00k", "OpportunityContactRole"),
    ("04k", "OutboundMessage"),
    ("04l", "OutboundMessageNotification"),
    ("500", "Case"),
    ("750", "AsyncApexJob"),
];

/// The object a standard key prefix belongs to (`001` → `Account`), or `None` for prefixes this
/// crate does not know (custom objects' prefixes are assigned per org).
///
/// `750` (Bulk API jobs) maps to `AsyncApexJob`; `04k`/`04l` are outbound-message actions and
/// notifications.
pub fn object_for_prefix(prefix: &str) -> Option<&'static str> {
    STANDARD_PREFIXES
        .iter()
        .find(|(p, _)| *p == prefix)
        .map(|(_, object)| *object)
}

/// The standard key prefix of an object (`Account` → `001`), compared case-insensitively.
pub fn prefix_for_object(object: &str) -> Option<&'static str> {
    STANDARD_PREFIXES
        .iter()
        .find(|(_, o)| o.eq_ignore_ascii_case(object))
        .map(|(p, _)| *p)
}

fn invalid(id: &str, reason: &'static str) -> Error {
    Error::InvalidId {
        id: id.chars().take(40).collect(),
        reason,
    }
}

fn check_alphanumeric(id: &str) -> Result<(), Error> {
    if id.bytes().all(|b| b.is_ascii_alphanumeric()) {
        Ok(())
    } else {
        Err(invalid(id, "ids contain only ASCII letters and digits"))
    }
}

/// The 3-character checksum of a 15-character id.
pub fn checksum(id15: &str) -> Result<[u8; 3], Error> {
    if id15.len() != 15 {
        return Err(invalid(id15, "expected 15 characters"));
    }
    check_alphanumeric(id15)?;
    let bytes = id15.as_bytes();
    let mut out = [0u8; 3];
    for (group, slot) in bytes.chunks(5).zip(out.iter_mut()) {
        let bits = group
            .iter()
            .enumerate()
            .filter(|(_, b)| b.is_ascii_uppercase())
            .fold(0usize, |acc, (j, _)| acc | (1 << j));
        *slot = CHECKSUM_ALPHABET[bits];
    }
    Ok(out)
}

/// Converts a 15-character id to its 18-character form; an 18-character id is validated and
/// returned unchanged.
pub fn to_18(id: &str) -> Result<String, Error> {
    RecordId::from_str(id).map(|id| id.to_string())
}

/// Whether `id` is a well-formed 15-character id or an 18-character id whose checksum matches.
pub fn is_valid(id: &str) -> bool {
    RecordId::from_str(id).is_ok()
}

/// Compares two ids the way Salesforce does: 18-character forms case-insensitively (the checksum
/// carries the case), 15-character forms case-sensitively, and a 15 against an 18 by converting.
/// Malformed ids are never equal to anything.
pub fn ids_equal(a: &str, b: &str) -> bool {
    match (RecordId::parse_lenient(a), RecordId::parse_lenient(b)) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    }
}

/// A record id in its canonical, case-correct 18-character form.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId([u8; 18]);

impl RecordId {
    /// Builds the id from a 15-character case-sensitive id by appending the checksum.
    pub fn from_15(id15: &str) -> Result<Self, Error> {
        let sum = checksum(id15)?;
        let mut out = [0u8; 18];
        out[..15].copy_from_slice(id15.as_bytes());
        out[15..].copy_from_slice(&sum);
        Ok(Self(out))
    }

    /// Mints the id number `n` of the object with key prefix `prefix`: the prefix, two fixed
    /// "pod" characters and `n` in base 62, plus the checksum. Distinct `(prefix, n)` pairs give
    /// distinct ids (for `n` below 62¹⁰); prefix bytes that are not alphanumeric become `0`.
    pub fn mint(prefix: &str, n: u64) -> Self {
        const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        let mut out = [b'0'; 18];
        for (slot, b) in out.iter_mut().zip(prefix.bytes().take(3)) {
            if b.is_ascii_alphanumeric() {
                *slot = b;
            }
        }
        out[3] = b'3';
        out[4] = b'h';
        let mut rest = n;
        for slot in out[5..15].iter_mut().rev() {
            *slot = BASE62[(rest % 62) as usize];
            rest /= 62;
        }
        for (g, slot) in (0..3).zip(15..18) {
            let bits = (0..5)
                .filter(|j| out[g * 5 + j].is_ascii_uppercase())
                .fold(0usize, |acc, j| acc | (1 << j));
            out[slot] = CHECKSUM_ALPHABET[bits];
        }
        Self(out)
    }

    /// Parses an 18-character id in any letter case, restoring the case of the first 15
    /// characters from the checksum (as Salesforce does), or a 15-character id as is.
    pub fn parse_lenient(id: &str) -> Result<Self, Error> {
        match id.len() {
            15 => Self::from_15(id),
            18 => {
                check_alphanumeric(id)?;
                let bytes = id.as_bytes();
                let mut restored = [0u8; 15];
                for (group, (chunk, sum)) in
                    bytes[..15].chunks(5).zip(bytes[15..].iter()).enumerate()
                {
                    let sum = sum.to_ascii_uppercase();
                    let bits = CHECKSUM_ALPHABET
                        .iter()
                        .position(|c| *c == sum)
                        .ok_or_else(|| invalid(id, "checksum character out of range"))?;
                    for (j, b) in chunk.iter().enumerate() {
                        restored[group * 5 + j] = if bits & (1 << j) != 0 {
                            b.to_ascii_uppercase()
                        } else {
                            b.to_ascii_lowercase()
                        };
                    }
                }
                let restored = std::str::from_utf8(&restored)
                    .map_err(|_| invalid(id, "ids contain only ASCII letters and digits"))?;
                let candidate = Self::from_15(restored)?;
                // A checksum bit set over a digit cannot come from a real id.
                if candidate.0[15..].eq_ignore_ascii_case(&bytes[15..]) {
                    Ok(candidate)
                } else {
                    Err(invalid(id, "checksum does not match"))
                }
            }
            _ => Err(invalid(id, "expected 15 or 18 characters")),
        }
    }

    /// The id as an 18-character string slice.
    pub fn as_str(&self) -> &str {
        // Only ever built from ASCII alphanumerics.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }

    /// The case-sensitive 15-character form.
    pub fn to_15(&self) -> &str {
        self.as_str().get(..15).unwrap_or_default()
    }

    /// The 3-character key prefix that names the object (`001` for Account).
    pub fn key_prefix(&self) -> &str {
        self.as_str().get(..3).unwrap_or_default()
    }

    /// The standard object this id belongs to, if its prefix is a standard one.
    pub fn standard_object(&self) -> Option<&'static str> {
        object_for_prefix(self.key_prefix())
    }

    /// Whether `other` (15 or 18 characters, any case for 18) names this record.
    pub fn matches(&self, other: &str) -> bool {
        Self::parse_lenient(other).is_ok_and(|o| o == *self)
    }
}

impl FromStr for RecordId {
    type Err = Error;

    /// Strict parse: a 15-character id, or an 18-character id whose checksum matches exactly.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.len() {
            15 => Self::from_15(s),
            18 => {
                let head = s.get(..15).ok_or_else(|| invalid(s, "not ASCII"))?;
                let id = Self::from_15(head)?;
                if id.as_str() == s {
                    Ok(id)
                } else {
                    Err(invalid(s, "checksum does not match"))
                }
            }
            _ => Err(invalid(s, "expected 15 or 18 characters")),
        }
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "RecordId({})", self.as_str())
    }
}

impl Serialize for RecordId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        RecordId::from_str(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn reference_vectors() {
        assert_eq!(to_18("001M000000qfPyS").unwrap(), "001M000000qfPySIAU");
        assert_eq!(to_18("a0RE000000IJmcN").unwrap(), "a0RE000000IJmcNMAT");
        assert_eq!(to_18("001M000000qfPySIAU").unwrap(), "001M000000qfPySIAU");
    }

    #[test]
    fn strict_parse_rejects_bad_checksum_and_shapes() {
        assert!(RecordId::from_str("001M000000qfPySIAV").is_err());
        assert!(RecordId::from_str("001M000000qfPySiau").is_err());
        assert!(RecordId::from_str("001M000000qfPy").is_err());
        assert!(RecordId::from_str("001M000000qfPy-").is_err());
        assert!(RecordId::from_str("001M000000qfPyé").is_err());
        assert!(RecordId::from_str("").is_err());
    }

    #[test]
    fn lenient_parse_restores_case() {
        let id = RecordId::parse_lenient("001m000000QFpYsiau").unwrap();
        assert_eq!(id.as_str(), "001M000000qfPySIAU");
        assert!(ids_equal("001M000000QFPYSIAU", "001M000000qfPyS"));
        assert!(!ids_equal("001M000000qfPyS", "001M000000QFPYS"));
        assert!(!ids_equal("garbage", "garbage"));
    }

    #[test]
    fn prefixes() {
        let id = RecordId::from_str("001M000000qfPySIAU").unwrap();
        assert_eq!(id.key_prefix(), "001");
        assert_eq!(id.standard_object(), Some("Account"));
        assert_eq!(id.to_15(), "001M000000qfPyS");
        assert_eq!(object_for_prefix("00Q"), Some("Lead"));
        assert_eq!(object_for_prefix("00k"), Some("OpportunityContactRole"));
        assert_eq!(prefix_for_object("opportunity"), Some("006"));
        assert_eq!(object_for_prefix("a00"), None);
    }

    #[test]
    fn minted_ids_are_valid() {
        let id = RecordId::mint("00Q", 12345);
        assert_eq!(id.key_prefix(), "00Q");
        assert_eq!(RecordId::from_str(id.as_str()).unwrap(), id);
        assert_ne!(RecordId::mint("00Q", 1), RecordId::mint("00Q", 2));
    }

    #[test]
    fn serde_round_trip() {
        let id = RecordId::from_str("001M000000qfPySIAU").unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"001M000000qfPySIAU\"");
        assert_eq!(serde_json::from_str::<RecordId>(&json).unwrap(), id);
        assert!(serde_json::from_str::<RecordId>("\"001M000000qfPySAAA\"").is_err());
    }

    proptest! {
        #[test]
        fn round_trip_15_18_15(id in "[a-zA-Z0-9]{15}") {
            let full = RecordId::from_15(&id).unwrap();
            prop_assert_eq!(full.to_15(), id.as_str());
            prop_assert_eq!(RecordId::from_str(full.as_str()).unwrap(), full);
            prop_assert_eq!(RecordId::parse_lenient(&full.as_str().to_ascii_lowercase()).unwrap(), full);
        }

        #[test]
        fn checksum_mutation_is_detected(id in "[a-zA-Z0-9]{15}", pos in 15usize..18, c in "[a-zA-Z0-9]") {
            let full = RecordId::from_15(&id).unwrap().to_string();
            let mut mutated = full.clone().into_bytes();
            mutated[pos] = c.as_bytes()[0];
            let mutated = String::from_utf8(mutated).unwrap();
            prop_assume!(mutated != full);
            prop_assert!(RecordId::from_str(&mutated).is_err());
        }
    }
}
