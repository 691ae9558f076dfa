//! Demo-only history the analytics questions need, added after the generated bulk with its own
//! seeded stream (so every earlier record stays exactly as it was): "Acme Corp", an account
//! with eight months of contacts, opportunities (won, lost, one overdue, one closing soon),
//! cases, tasks and events; and open deals across accounts whose close date has passed.

use chrono::{DateTime, Duration, Utc};
use salesforce_core::id::RecordId;

use super::rng::Rng;
use super::{Loader, ObjectLoader, Setter, between};
use crate::value::Value;

/// Open opportunities whose close date has passed, spread over the generated accounts.
const OVERDUE_DEALS: usize = 40;

/// Sets `fields` (by name) on a new record of `object` and inserts it.
fn put(loader: &mut Loader<'_>, object: &ObjectLoader, fields: &[(&str, Value)]) -> RecordId {
    let s = Setter {
        plan_fields: &object.fields,
    };
    let mut record = crate::store::Record::new(loader.admin);
    for (name, value) in fields {
        record.set(s.idx(name), value.clone());
    }
    loader.insert(object, record)
}

fn at(now: DateTime<Utc>, days_ago: i64) -> DateTime<Utc> {
    now - Duration::days(days_ago)
}

/// Adds the showcase records. `accounts` and `owners` are the generated ones.
pub(super) fn add(
    loader: &mut Loader<'_>,
    seed: u64,
    accounts: &[RecordId],
    owners: &[RecordId],
) -> Option<()> {
    let mut rng = Rng::new(seed ^ 0x0AC3_E5EE_D000_0001);
    let now = loader.now;
    let owner = *owners.get(1).or(owners.first())?;
    let day = |days_ago: i64| Value::Date(at(now, days_ago).date_naive());
    let time = |days_ago: i64| Value::DateTime(at(now, days_ago));

    let account_loader = loader.object("Account", 1)?;
    let acme = put(
        loader,
        &account_loader,
        &[
            ("Name", Value::text("Acme Corp")),
            ("Industry", Value::text("Manufacturing")),
            ("Type", Value::text("Customer - Direct")),
            ("Rating", Value::text("Hot")),
            ("Website", Value::text("https://www.acme.example.com")),
            ("BillingCity", Value::text("Chicago")),
            ("BillingState", Value::text("IL")),
            ("BillingCountry", Value::text("United States")),
            ("NumberOfEmployees", Value::Int(4_200)),
            ("AnnualRevenue", Value::Number(910_000_000.0)),
            ("OwnerId", Value::Id(owner)),
            ("CreatedDate", time(400)),
        ],
    );

    let contact_loader = loader.object("Contact", 4)?;
    let mut contacts = Vec::new();
    for (first, last, title, days_ago) in [
        ("Wile", "Coyote", "VP Operations", 390),
        ("Road", "Runner", "CTO", 210),
        ("Marvin", "Martian", "Procurement Manager", 95),
        ("Daffy", "Duck", "IT Manager", 20),
    ] {
        contacts.push(put(
            loader,
            &contact_loader,
            &[
                ("AccountId", Value::Id(acme)),
                ("FirstName", Value::text(first)),
                ("LastName", Value::text(last)),
                ("Title", Value::text(title)),
                (
                    "Email",
                    Value::text(&format!(
                        "{}.{}@acme.example.com",
                        first.to_lowercase(),
                        last.to_lowercase()
                    )),
                ),
                ("OwnerId", Value::Id(owner)),
                ("CreatedDate", time(days_ago)),
            ],
        ));
    }

    let opportunity_loader = loader.object("Opportunity", 4 + OVERDUE_DEALS)?;
    let mut deals = Vec::new();
    // (name, stage, amount, created days ago, close date days ago: negative = ahead)
    for (name, stage, amount, created, close) in [
        ("Acme - Platform Renewal", "Closed Won", 240_000.0, 230, 120),
        ("Acme - Analytics Add-on", "Closed Lost", 85_000.0, 160, 55),
        (
            "Acme - Plant Expansion",
            "Negotiation/Review",
            410_000.0,
            140,
            9,
        ),
        (
            "Acme - Support Upgrade",
            "Proposal/Price Quote",
            60_000.0,
            35,
            -4,
        ),
    ] {
        deals.push(put(
            loader,
            &opportunity_loader,
            &[
                ("AccountId", Value::Id(acme)),
                ("Name", Value::text(name)),
                ("StageName", Value::text(stage)),
                ("Amount", Value::Number(amount)),
                ("CloseDate", day(close)),
                ("Type", Value::text("Existing Customer - Upgrade")),
                ("OwnerId", Value::Id(owner)),
                ("CreatedDate", time(created)),
                ("LastModifiedDate", time(created.min(close.max(0)) / 2)),
            ],
        ));
    }

    let case_loader = loader.object("Case", 3)?;
    let mut cases = Vec::new();
    for (i, (subject, status, days_ago)) in [
        ("Line 3 controller offline", "Closed", 150),
        ("Invoice shows wrong tax rate", "Closed", 62),
        ("Sensor data gaps since upgrade", "Working", 12),
    ]
    .into_iter()
    .enumerate()
    {
        cases.push(put(
            loader,
            &case_loader,
            &[
                ("AccountId", Value::Id(acme)),
                ("ContactId", Value::Id(contacts[i % contacts.len()])),
                ("Subject", Value::text(subject)),
                ("Status", Value::text(status)),
                (
                    "Priority",
                    Value::text(if i == 2 { "High" } else { "Medium" }),
                ),
                ("Origin", Value::text("Email")),
                ("OwnerId", Value::Id(owner)),
                ("CreatedDate", time(days_ago)),
            ],
        ));
    }

    // Two to three tasks and one event a month for eight months, on the account, its deals and
    // cases, with its contacts.
    let what: Vec<RecordId> = std::iter::once(acme)
        .chain(deals.iter().copied())
        .chain(cases.iter().copied())
        .collect();
    let task_loader = loader.object("Task", 24)?;
    let event_loader = loader.object("Event", 8)?;
    for month in 0..8_i64 {
        let tasks = 2 + rng.below(2) as i64;
        for t in 0..tasks {
            let days_ago = month * 30 + rng.below(28) as i64;
            let subject = [
                "Call about rollout",
                "Send pricing",
                "Quarterly check-in",
                "Follow up on case",
            ][(t as usize + month as usize) % 4];
            put(
                loader,
                &task_loader,
                &[
                    ("WhatId", Value::Id(*rng.choose(&what)?)),
                    ("WhoId", Value::Id(*rng.choose(&contacts)?)),
                    ("Subject", Value::text(subject)),
                    ("ActivityDate", day(days_ago)),
                    ("Type", Value::text(["Call", "Email"][t as usize % 2])),
                    ("Status", Value::text("Completed")),
                    ("Priority", Value::text("Normal")),
                    ("OwnerId", Value::Id(owner)),
                    ("CreatedDate", time(days_ago + 2)),
                ],
            );
        }
        let days_ago = month * 30 + 3 + rng.below(20) as i64;
        let start = at(now, days_ago)
            .date_naive()
            .and_hms_opt(15, 0, 0)
            .map_or(at(now, days_ago), |t| t.and_utc());
        put(
            loader,
            &event_loader,
            &[
                ("WhatId", Value::Id(*rng.choose(&what)?)),
                ("WhoId", Value::Id(*rng.choose(&contacts)?)),
                (
                    "Subject",
                    Value::text(
                        ["Onsite review", "Executive briefing", "Roadmap session"]
                            [month as usize % 3],
                    ),
                ),
                ("ActivityDate", Value::Date(start.date_naive())),
                ("StartDateTime", Value::DateTime(start)),
                ("ActivityDateTime", Value::DateTime(start)),
                (
                    "EndDateTime",
                    Value::DateTime(start + Duration::minutes(60)),
                ),
                ("DurationInMinutes", Value::Int(60)),
                ("Type", Value::text("Meeting")),
                ("Location", Value::text("Customer site")),
                ("OwnerId", Value::Id(owner)),
                ("CreatedDate", time(days_ago + 7)),
            ],
        );
    }

    // Deals that slipped: open, close date 1–45 days ago.
    let open_stages = [
        "Qualification",
        "Needs Analysis",
        "Value Proposition",
        "Proposal/Price Quote",
        "Negotiation/Review",
    ];
    for i in 0..OVERDUE_DEALS {
        let created = at(now, 60 + rng.below(300) as i64);
        let close = 1 + rng.below(45) as i64;
        put(
            loader,
            &opportunity_loader,
            &[
                ("AccountId", Value::Id(*rng.choose(accounts)?)),
                ("Name", Value::text(&format!("Slipped - Renewal {}", i + 1))),
                (
                    "StageName",
                    Value::text(open_stages[rng.below(open_stages.len() as u64) as usize]),
                ),
                (
                    "Amount",
                    Value::Number((50 + rng.below(5_000)) as f64 * 100.0),
                ),
                ("CloseDate", day(close)),
                ("Type", Value::text("Existing Customer - Replacement")),
                ("OwnerId", Value::Id(*rng.choose(owners)?)),
                ("CreatedDate", Value::DateTime(created)),
                (
                    "LastModifiedDate",
                    Value::DateTime(between(&mut rng, created, now)),
                ),
            ],
        );
    }
    Some(())
}
