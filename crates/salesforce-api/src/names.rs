//! Checks on the names and ids that end up in URLs, done before any call: object and field names
//! against the SOQL identifier grammar, record ids against the 15/18-character id rules.

use salesforce_core::soql::ident::{validate_name, validate_path};

use crate::error::Error;

/// An sObject API name such as `Account` or `acme__Invoice__c`.
pub(crate) fn check_object(name: &str) -> Result<&str, Error> {
    validate_name(name)?;
    Ok(name)
}

/// A field API name (no relationship path).
pub(crate) fn check_field(name: &str) -> Result<&str, Error> {
    validate_name(name)?;
    Ok(name)
}

/// A field or a dotted relationship path (`Account.Owner.Name`).
#[allow(dead_code, reason = "used by describe-aware callers")]
pub(crate) fn check_path(path: &str) -> Result<&str, Error> {
    validate_path(path)?;
    Ok(path)
}

/// A 15- or 18-character record id.
pub(crate) fn check_id(id: &str) -> Result<&str, Error> {
    if salesforce_core::id::is_valid(id) {
        Ok(id)
    } else {
        Err(Error::InvalidRequest(format!(
            "`{id}` is not a Salesforce record id (15 or 18 letters and digits)"
        )))
    }
}
