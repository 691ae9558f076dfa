//! The audit trail of writes: one `tracing` event on the target `sfmcp::audit` per write a tool
//! makes (or tries), with who, which tool, which object and record, and how it ended. Field values
//! never appear: they may be personal data, and the audit answers "who changed what", not "to what".

/// The tracing target of audit lines.
pub const AUDIT_TARGET: &str = "sfmcp::audit";

/// How a write ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Salesforce accepted it.
    Succeeded,
    /// Salesforce (or our validation after connecting) refused it.
    Failed,
    /// The server's configuration refused it before anything was sent.
    Refused,
}

impl Outcome {
    fn as_str(self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed => "failed",
            Outcome::Refused => "refused",
        }
    }
}

/// One audited write.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Write<'a> {
    /// The principal the call ran for (`-` when the connection does not say).
    pub(crate) principal: Option<&'a str>,
    pub(crate) tool: &'a str,
    pub(crate) object: &'a str,
    /// The record id, or a job id for bulk writes; empty when there is none (a failed create).
    pub(crate) record_id: &'a str,
    /// Records the write touched (1 for single-record writes).
    pub(crate) records: u64,
}

/// Logs one audit line.
pub(crate) fn record(write: Write<'_>, outcome: Outcome) {
    tracing::info!(
        target: AUDIT_TARGET,
        principal = write.principal.unwrap_or("-"),
        tool = write.tool,
        object = write.object,
        record_id = write.record_id,
        records = write.records,
        outcome = outcome.as_str(),
        "CRM write"
    );
}
