//! [`Limits`]: the bounds that keep a hostile message from growing any buffer without limit.

/// Bounds applied while parsing. The defaults fit every real outbound message with room to spare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest body accepted, in bytes (default 10 MiB).
    pub max_body_bytes: usize,
    /// Deepest element nesting accepted (default 16; an outbound message needs 6).
    pub max_depth: usize,
    /// Most notifications in one message (default and ceiling 100, Salesforce's own maximum).
    pub max_notifications: usize,
    /// Most fields in one sObject (default 1,000).
    pub max_fields: usize,
    /// Longest text value in bytes (default 512 KiB: a 131,072-character long text area in UTF-8).
    pub max_value_bytes: usize,
}

/// Salesforce sends at most this many notifications per message.
pub const MAX_NOTIFICATIONS: usize = 100;

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 10 * 1024 * 1024,
            max_depth: 16,
            max_notifications: MAX_NOTIFICATIONS,
            max_fields: 1_000,
            max_value_bytes: 512 * 1024,
        }
    }
}

impl Limits {
    /// The notification limit in force: never above [`MAX_NOTIFICATIONS`], whatever is configured.
    pub(crate) fn notification_limit(&self) -> usize {
        self.max_notifications.min(MAX_NOTIFICATIONS)
    }
}
