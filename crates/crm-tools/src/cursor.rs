//! The opaque continuation cursor list tools hand the model: an offset bound to the filters it
//! was issued for, so a cursor passed back with different filters is refused instead of paging
//! through the wrong result.
//!
//! Why not Salesforce's query locator ([`salesforce_api::QueryCursor`]): a locator resumes at a
//! Salesforce batch boundary (200–2,000 records), while a tool returns at most the configured row
//! cap, so the rest of the batch would be lost. `OFFSET` pages at any size, up to SOQL's limit of
//! 2,000 skipped rows, beyond which the model is told to narrow its filters.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use salesforce_api::soql::MAX_OFFSET;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::Error;

const VERSION: &str = "c1";

/// A short digest of the filters (everything but `limit` and `cursor`).
pub(crate) fn fingerprint(tool: &str, filters: &Value) -> String {
    let digest = Sha256::digest(format!("{tool}\n{filters}").as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The fingerprint of a list tool's filters (its arguments serialized without paging ones) and
/// the offset `cursor` stands for (0 without one).
pub(crate) fn start(
    tool: &str,
    filters: &impl serde::Serialize,
    cursor: Option<&str>,
) -> Result<(String, u64), Error> {
    let filters = serde_json::to_value(filters).map_err(|e| Error::invalid(e.to_string()))?;
    let fingerprint = fingerprint(tool, &filters);
    let offset = match cursor {
        Some(c) => decode(c, &fingerprint)?,
        None => 0,
    };
    Ok((fingerprint, offset))
}

/// A cursor for the page starting at `offset`.
pub(crate) fn encode(fingerprint: &str, offset: u64) -> String {
    URL_SAFE_NO_PAD.encode(format!("{VERSION}:{offset}:{fingerprint}"))
}

/// The offset a cursor stands for, if it was issued for these filters.
pub(crate) fn decode(text: &str, fingerprint: &str) -> Result<u64, Error> {
    let refused = || {
        Error::invalid(
            "`cursor` is not a cursor from a previous call with the same filters: pass `nextCursor` unchanged with the same filters, or omit it to start over",
        )
    };
    let bytes = URL_SAFE_NO_PAD
        .decode(text.trim().as_bytes())
        .map_err(|_| refused())?;
    let decoded = String::from_utf8(bytes).map_err(|_| refused())?;
    let mut parts = decoded.splitn(3, ':');
    let (Some(VERSION), Some(offset), Some(issued_for)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return Err(refused());
    };
    if issued_for != fingerprint {
        return Err(refused());
    }
    let offset: u64 = offset.parse().map_err(|_| refused())?;
    if offset > MAX_OFFSET {
        return Err(too_deep());
    }
    Ok(offset)
}

/// The message when a result cannot be paged further.
pub(crate) fn too_deep() -> Error {
    Error::invalid(format!(
        "cannot page beyond the first {MAX_OFFSET} matches: add filters to narrow the search"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cursors_round_trip_only_for_their_filters() {
        let a = fingerprint("searchLeads", &json!({"industry": ["Healthcare"]}));
        let b = fingerprint("searchLeads", &json!({"industry": ["Banking"]}));
        assert_ne!(a, b);
        let cursor = encode(&a, 25);
        assert_eq!(decode(&cursor, &a).unwrap(), 25);
        assert!(decode(&cursor, &b).is_err());
        assert!(decode("not a cursor", &a).is_err());
        assert!(decode(&encode(&a, MAX_OFFSET + 1), &a).is_err());
        assert!(decode(&URL_SAFE_NO_PAD.encode("c1:x:y"), &a).is_err());
    }
}
