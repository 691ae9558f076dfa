//! SOQL for the client: a typed builder for queries we write ourselves, and a guard for queries a
//! model writes. Both stand on `salesforce-core`'s one grammar (the same parser and printer the
//! sandbox uses), so whatever leaves this module is SOQL that grammar accepts, with every value
//! escaped and every name validated.
//!
//! ```
//! use salesforce_api::soql::{Field, QueryGuard, Select};
//!
//! // Our own queries: names validated, values typed, nothing pasted.
//! let soql = Select::from("Lead")
//!     .fields(["Id", "Name"])
//!     .filter(Field::new("Company")?.contains("x' OR Name != '"))
//!     .limit(10)
//!     .to_soql()?;
//! assert_eq!(soql, r"SELECT Id, Name FROM Lead WHERE Company LIKE '%x\' OR Name != \'%' LIMIT 10");
//!
//! // A model's query: parsed, checked against the policy, capped.
//! let guard = QueryGuard::new(100)?.allow_objects(["Lead"])?;
//! assert_eq!(guard.check("SELECT Id FROM Lead")?.to_soql(), "SELECT Id FROM Lead LIMIT 100");
//! # Ok::<(), salesforce_api::Error>(())
//! ```

mod builder;
mod guard;

pub use builder::{Field, Filter, IntoSoqlValue, Order, Select};
pub use guard::{GuardedQuery, LimitAdjustment, QueryGuard, own_field_paths};
pub use salesforce_core::soql::{
    AggregateFunction, Condition, FieldPath, Identifier, MAX_OFFSET, Query, RelativeDate,
    SoqlError, SoqlString, Value, escape, parse,
};
