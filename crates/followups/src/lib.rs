//! What the worker does with outbound-message events, testable without HTTP: the rules file
//! ([`RulesFile`]), follow-up Tasks rendered from templates with business-day due dates and
//! priority by rating, lead routing, and the capped event feed ([`EventFeed`]) that the MCP
//! server's `recentEvents` tool reads and whose new entries it [`follow`]s to drop stale cached
//! records.
//!
//! Side effects are idempotent so that at-least-once delivery is exactly-once in effect: Tasks
//! are upserted by a deterministic external id ([`task_key`]), routing is a plain field update,
//! and feed entries carry a dedupe mark.
//!
//! It never knows about HTTP servers, SOAP or MCP; it acts on Salesforce only through the
//! [`CrmActions`] trait (implemented over `salesforce-api` by [`SalesforceActions`]).

mod actions;
mod calendar;
mod error;
mod feed;
mod follow;
mod processor;
mod routing;
mod rules;
mod template;

pub use actions::{CrmActions, SalesforceActions};
pub use calendar::add_business_days;
pub use error::Error;
pub use feed::{
    DEFAULT_KEY_PREFIX, EventFeed, FeedCursor, FeedEntry, Followed, MemoryFeed, RedisFeed,
    stream_key,
};
pub use follow::follow;
pub use processor::{Outcome, Processor, task_key};
pub use routing::RouteStep;
pub use rules::{Condition, PriorityRule, Rule, RulesFile, TaskTemplate, Uniqueness};
pub use template::render;

/// The boxed future of the object-safe traits.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn Future<Output = T> + Send + 'a>>;
