//! The generated Opportunities' stage history (OpportunityHistory), written after every other
//! record so the rest of the dataset is the same with or without it. Each deal starts at
//! Prospecting or Qualification and climbs the stages to where it is now (closed deals through
//! the stages they reached, then Closed Won or Lost); some had their amount revised, and about
//! a third of the open deals (fewer closed ones) had their close date pushed out one to three
//! times. The rows come from the same rule the store applies to live writes
//! ([`crate::store::history::row`]), so their values are what Salesforce would have recorded.

use chrono::{DateTime, Duration, Utc};

use super::{Loader, Progress};
use crate::dataset::rng::Rng;
use crate::schema::standard::{OPPORTUNITY_STAGES, opportunity_stage};
use crate::store::Record;
use crate::store::derive::Derivation;
use crate::store::history;
use crate::value::Value;

/// Keeps the history's random stream apart from the records' (same seed, other sequence).
const STREAM: u64 = 0x4849_5354_4f52_5921;

/// One step of a deal's life after its creation.
#[derive(Debug, Clone, Copy)]
enum Step {
    /// Moved to the stage at this index of [`OPPORTUNITY_STAGES`].
    Stage(usize),
    /// Close date pushed out by this many days.
    Push(i64),
    /// Amount revised to the current one.
    Amount,
}

/// The index of the last open stage (Negotiation/Review).
fn last_open_stage() -> usize {
    OPPORTUNITY_STAGES
        .iter()
        .rposition(|s| !s.closed)
        .unwrap_or(0)
}

/// The stage indexes a deal now at `current` went through, in order, ending at `current`.
fn stage_path(rng: &mut Rng, current: usize) -> Vec<usize> {
    let last_open = last_open_stage();
    let closed = OPPORTUNITY_STAGES.get(current).is_some_and(|s| s.closed);
    let won = OPPORTUNITY_STAGES.get(current).is_some_and(|s| s.won);
    let top = match (closed, won) {
        // Won deals went far; lost ones dropped out anywhere.
        (true, true) => last_open - rng.below(3) as usize,
        (true, false) => rng.below(last_open as u64 + 1) as usize,
        _ => current,
    };
    let start = (rng.below(2) as usize).min(top);
    let mut path = vec![start];
    for stage in start + 1..=top {
        if stage == top || rng.below(10) < 7 {
            path.push(stage);
        }
    }
    if closed {
        path.push(current);
    }
    path
}

/// Sorted instants: the first at `from`, the last at `to`, the rest between.
fn instants(rng: &mut Rng, n: usize, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<DateTime<Utc>> {
    let to = to.max(from);
    let mut out: Vec<DateTime<Utc>> = (0..n).map(|_| super::between(rng, from, to)).collect();
    out.sort();
    if let Some(first) = out.first_mut() {
        *first = from;
    }
    if n > 1
        && let Some(last) = out.last_mut()
    {
        *last = to;
    }
    out
}

/// Writes the history of every Opportunity in the org, then reports progress.
pub(super) fn add(loader: &mut Loader<'_>, seed: u64) {
    let mut rng = Rng::new(seed ^ STREAM);
    let now = loader.now;
    let mut rows: Vec<Record> = Vec::new();
    {
        let data = &*loader.data;
        let Some((opp_obj, def, table)) = data.object("Opportunity") else {
            return;
        };
        let derivation = Derivation::for_object(def);
        let idx = |name: &str| def.field_index(name).unwrap_or(usize::MAX);
        let (stage_f, amount_f, close_f, created_f, modified_f, owner_f) = (
            idx("StageName"),
            idx("Amount"),
            idx("CloseDate"),
            idx("CreatedDate"),
            idx("LastModifiedDate"),
            idx("OwnerId"),
        );
        let history_created = data.object("OpportunityHistory").and_then(|(_, h, _)| {
            Some((h.field_index("CreatedDate")?, h.field_index("CreatedById")?))
        });
        let Some((created_h, created_by_h)) = history_created else {
            return;
        };
        for opp in table.rows() {
            let Some(current) = opp
                .get(stage_f)
                .as_text()
                .and_then(opportunity_stage)
                .and_then(|s| OPPORTUNITY_STAGES.iter().position(|o| o.name == s.name))
            else {
                continue;
            };
            let (Value::DateTime(created), Value::Date(close)) =
                (opp.get(created_f), opp.get(close_f))
            else {
                continue;
            };
            let closed = OPPORTUNITY_STAGES[current].closed;
            let path = stage_path(&mut rng, current);
            let mut steps: Vec<Step> = path.iter().skip(1).map(|s| Step::Stage(*s)).collect();
            // Pushes and revisions happen while the deal is open: before a closing step.
            let open_steps =
                |steps: &Vec<Step>| steps.len() - usize::from(closed && !steps.is_empty());
            let pushes = match (closed, rng.below(100)) {
                (false, r) if r < 35 => 1 + rng.below(3) as usize,
                (true, r) if r < 12 => 1 + rng.below(2) as usize,
                _ => 0,
            };
            let mut pushed = 0;
            for _ in 0..pushes {
                let days = 7 + rng.below(54) as i64;
                pushed += days;
                let at = rng.below(open_steps(&steps) as u64 + 1) as usize;
                steps.insert(at, Step::Push(days));
            }
            let amount = opp.get(amount_f).as_f64();
            let mut first_amount = amount;
            if let Some(a) = amount
                && rng.below(100) < 15
            {
                first_amount =
                    Some(((a * (60 + rng.below(81)) as f64 / 100.0) / 100.0).round() * 100.0);
                let at = rng.below(open_steps(&steps) as u64 + 1) as usize;
                steps.insert(at, Step::Amount);
            }
            let owner = opp.get(owner_f).as_id().unwrap_or(loader.admin);
            let end = match opp.get(modified_f) {
                Value::DateTime(t) => (*t).min(now),
                _ => now,
            };
            let times = instants(&mut rng, steps.len() + 1, *created, end);
            // The state after each step; the last one is the deal as it stands.
            let mut snapshot = opp.clone();
            let mut stage = path[0];
            let mut close_date = *close - Duration::days(pushed);
            let mut value = first_amount;
            let mut previous: Option<Record> = None;
            for (i, at) in times.iter().enumerate() {
                if i > 0 {
                    match steps[i - 1] {
                        Step::Stage(s) => stage = s,
                        Step::Push(days) => close_date += Duration::days(days),
                        Step::Amount => value = amount,
                    }
                }
                snapshot.set(stage_f, Value::text(OPPORTUNITY_STAGES[stage].name));
                snapshot.set(close_f, Value::Date(close_date));
                snapshot.set(amount_f, value.map_or(Value::Null, Value::Number));
                derivation.apply(&mut snapshot, None, |_| false, *at);
                if let Some((_, mut row)) =
                    history::row(data, opp_obj, &snapshot, previous.as_ref())
                {
                    row.set(created_h, Value::DateTime(*at));
                    row.set(created_by_h, Value::Id(owner));
                    rows.push(row);
                }
                previous = Some(snapshot.clone());
            }
        }
    }
    let Some(history) = loader.object("OpportunityHistory", rows.len()) else {
        return;
    };
    loader.total = loader.done + rows.len();
    if rows.is_empty() {
        (loader.progress)(Progress {
            done: loader.done,
            total: loader.total,
        });
    }
    for row in rows {
        loader.insert(&history, row);
    }
}
