//! The analysis behind the analytics tools, as plain functions over plain data so that it is
//! deterministic and testable without Salesforce: lead scoring factor by factor, pipeline risk
//! and forecast, and the periods ("this_quarter", "Q1 2027") they are asked about.

pub(crate) mod periods;
pub(crate) mod pipeline;
pub(crate) mod scoring;

pub use pipeline::PipelineSettings;
pub use scoring::{LeadScoring, ScoreWeights};

/// Rounds to one decimal place (scores and their contributions).
pub(crate) fn tenths(value: f64) -> f64 {
    (value * 10.0).round() / 10.0
}
