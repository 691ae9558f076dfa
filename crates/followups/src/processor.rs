//! [`Processor`]: applies the rules to one event. Every step is idempotent, so the worker may
//! run it again for a redelivered or reclaimed event: routing sets a field to a value chosen
//! deterministically, the Task is created only if its key ([`task_key`]) is absent, and the
//! feed skips keys it has recorded. An error leaves the event to be retried by the queue.

use std::sync::Arc;

use chrono::Utc;
use serde_json::{Map, Value};
use webhooks::Event;

use crate::calendar::add_business_days;
use crate::feed::{EventFeed, FeedEntry};
use crate::routing::route;
use crate::rules::{Rule, RulesFile, TaskTemplate, Uniqueness};
use crate::template::{field_text, render};
use crate::{CrmActions, Error};

/// What processing an event did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Outcome {
    /// The rules that matched.
    pub rules: Vec<String>,
    /// The follow-up Tasks (created now or found from an earlier attempt).
    pub task_ids: Vec<String>,
    /// The owner assigned by routing.
    pub routed_owner: Option<String>,
    /// Whether a feed entry was written now (false: not recorded, or recorded before).
    pub recorded: bool,
}

/// The deterministic key of a rule's Task for an event: the org's 15-character id, the rule
/// name and the record id (or the notification id, per [`Uniqueness`]).
pub fn task_key(rule: &Rule, event: &Event) -> String {
    let org = event.org_id.get(..15).unwrap_or(&event.org_id);
    let subject = match (rule.once, &event.record_id) {
        (Uniqueness::PerRecord, Some(id)) => id.get(..15).unwrap_or(id),
        _ => event.notification_id.as_str(),
    };
    format!("{org}:{}:{subject}", rule.name)
}

/// Applies a rules file.
#[derive(Clone)]
pub struct Processor {
    rules: Arc<RulesFile>,
    crm: Arc<dyn CrmActions>,
    feed: Arc<dyn EventFeed>,
}

impl std::fmt::Debug for Processor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Processor")
            .field("rules", &self.rules.rules.len())
            .finish_non_exhaustive()
    }
}

fn task_fields(template: &TaskTemplate, event: &Event, owner: Option<&str>) -> Map<String, Value> {
    let mut fields = Map::new();
    let mut put = |name: &str, value: String| {
        if !value.is_empty() {
            fields.insert(name.to_owned(), Value::String(value));
        }
    };
    put("Subject", render(&template.subject, event));
    if let Some(description) = &template.description {
        put("Description", render(description, event));
    }
    if let Some(days) = template.due_in_business_days {
        let due = add_business_days(event.received_at.date_naive(), days);
        put("ActivityDate", due.format("%Y-%m-%d").to_string());
    }
    put("Priority", template.priority.for_event(event));
    put("Status", template.status.clone());
    put("OwnerId", owner.map(str::to_owned).unwrap_or_default());
    if let Some(field) = &template.who_id_field {
        put("WhoId", field_text(event, field));
    }
    if let Some(field) = &template.what_id_field {
        put("WhatId", field_text(event, field));
    }
    fields
}

impl Processor {
    /// A processor for `rules`, acting through `crm` and recording to `feed`.
    pub fn new(rules: RulesFile, crm: Arc<dyn CrmActions>, feed: Arc<dyn EventFeed>) -> Self {
        Self {
            rules: Arc::new(rules),
            crm,
            feed,
        }
    }

    /// The feed (for readers such as `recentEvents`).
    pub fn feed(&self) -> &Arc<dyn EventFeed> {
        &self.feed
    }

    /// Applies every matching rule to `event`, then records it in the feed.
    ///
    /// # Errors
    /// The first failing Salesforce call or feed write; steps done before it are idempotent.
    pub async fn process(&self, event: &Event) -> Result<Outcome, Error> {
        let mut outcome = Outcome::default();
        for rule in self.rules.rules.iter().filter(|r| r.matches(event)) {
            outcome.rules.push(rule.name.clone());
            let mut owner = None;
            if let (Some(routed), Some(record)) = (route(&rule.route, event), &event.record_id) {
                self.crm
                    .assign_owner(&event.object_type, record, routed)
                    .await?;
                owner = Some(routed.to_owned());
                outcome.routed_owner = owner.clone();
            }
            if let Some(template) = &rule.task {
                let owner = owner.or_else(|| Some(field_text(event, "OwnerId")));
                let fields = task_fields(template, event, owner.as_deref());
                let key = task_key(rule, event);
                let id = self
                    .crm
                    .ensure_task(&self.rules.task_key_field, &key, &fields)
                    .await?;
                tracing::debug!(rule = %rule.name, task = %id, "follow-up task ensured");
                outcome.task_ids.push(id);
            }
        }
        if self.rules.feed.records(&event.object_type) {
            let entry = FeedEntry {
                key: event.dedupe_key(),
                event: event.clone(),
                rules: outcome.rules.clone(),
                task_ids: outcome.task_ids.clone(),
                processed_at: Utc::now(),
            };
            outcome.recorded = self.feed.record(&entry).await?;
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::Mutex;

    use webhooks::FieldValue;

    use super::*;
    use crate::{BoxFuture, MemoryFeed};

    #[derive(Default)]
    struct FakeCrm {
        tasks: Mutex<HashMap<String, Map<String, Value>>>,
        owners: Mutex<Vec<(String, String)>>,
        fail_after_create: Mutex<bool>,
    }

    impl CrmActions for FakeCrm {
        fn ensure_task<'a>(
            &'a self,
            _key_field: &'a str,
            key: &'a str,
            fields: &'a Map<String, Value>,
        ) -> BoxFuture<'a, Result<String, Error>> {
            Box::pin(async move {
                let mut tasks = self.tasks.lock().unwrap();
                tasks
                    .entry(key.to_owned())
                    .or_insert_with(|| fields.clone());
                if std::mem::take(&mut *self.fail_after_create.lock().unwrap()) {
                    return Err(Error::FeedUnavailable("crash after create".into()));
                }
                Ok(format!("00T{key}"))
            })
        }

        fn assign_owner<'a>(
            &'a self,
            _object: &'a str,
            record_id: &'a str,
            owner_id: &'a str,
        ) -> BoxFuture<'a, Result<(), Error>> {
            Box::pin(async move {
                self.owners
                    .lock()
                    .unwrap()
                    .push((record_id.into(), owner_id.into()));
                Ok(())
            })
        }
    }

    fn lead(notification: &str, rating: &str) -> Event {
        let text = |s: &str| FieldValue::Text(s.to_owned().into());
        Event {
            org_id: "00D000000000001AAA".into(),
            action_id: "04k000000000001AAA".into(),
            object_type: "Lead".into(),
            record_id: Some("00Q000000000001AAA".into()),
            fields: vec![
                ("FirstName".into(), text("Ada")),
                ("LastName".into(), text("Lovelace")),
                ("Company".into(), text("Engines")),
                ("Rating".into(), text(rating)),
                ("State".into(), text("CA")),
                ("OwnerId".into(), text("005000000000009AAA")),
            ],
            notification_id: notification.into(),
            // A Friday: due dates skip the weekend.
            received_at: chrono::DateTime::parse_from_rfc3339("2026-11-27T10:00:00Z")
                .unwrap()
                .with_timezone(&Utc),
        }
    }

    fn processor(crm: Arc<FakeCrm>) -> Processor {
        let rules = RulesFile::from_json(include_str!("../rules.example.json")).unwrap();
        Processor::new(rules, crm, Arc::new(MemoryFeed::new(100)))
    }

    #[tokio::test]
    async fn a_new_lead_gets_one_routed_task_even_when_redelivered() {
        let crm = Arc::new(FakeCrm::default());
        let processor = processor(crm.clone());
        *crm.fail_after_create.lock().unwrap() = true;
        assert!(
            processor
                .process(&lead("04l000000000001AAA", "Hot"))
                .await
                .is_err()
        );
        let outcome = processor
            .process(&lead("04l000000000001AAA", "Hot"))
            .await
            .unwrap();
        // A second notification for the same lead (per-record uniqueness) changes nothing.
        let again = processor
            .process(&lead("04l000000000002AAA", "Hot"))
            .await
            .unwrap();
        assert_eq!(outcome.rules, ["lead-follow-up"]);
        assert_eq!(outcome.routed_owner.as_deref(), Some("005000000000002AAA"));
        assert!(outcome.recorded);
        assert_eq!(again.task_ids, outcome.task_ids);
        let tasks = crm.tasks.lock().unwrap().clone();
        assert_eq!(tasks.len(), 1);
        let task = tasks.values().next().unwrap();
        assert_eq!(task["Subject"], "Follow up with Ada Lovelace (Engines)");
        assert_eq!(task["Priority"], "High");
        assert_eq!(task["ActivityDate"], "2026-12-01");
        assert_eq!(task["OwnerId"], "005000000000002AAA");
        assert_eq!(task["WhoId"], "00Q000000000001AAA");
        let feed = processor.feed().recent(10, None).await.unwrap();
        assert_eq!(feed.len(), 2, "one entry per notification");
    }

    #[tokio::test]
    async fn unmatched_events_are_only_recorded() {
        let crm = Arc::new(FakeCrm::default());
        let processor = processor(crm.clone());
        let mut event = lead("04l000000000003AAA", "Cold");
        event.object_type = "Opportunity".into();
        event
            .fields
            .push(("StageName".into(), FieldValue::Text("Prospecting".into())));
        let outcome = processor.process(&event).await.unwrap();
        assert!(outcome.rules.is_empty() && outcome.recorded);
        assert!(crm.tasks.lock().unwrap().is_empty());
    }
}
