//! The deterministic, seeded dataset generator: realistic accounts, contacts, leads,
//! opportunities, contact roles, cases, tasks and events with dates spread around the clock's
//! "today" (some created today and this week), in three sizes; the demo size also has the
//! showcase history of `showcase` ("Acme Corp", deals past their close date). Every
//! opportunity gets its stage history (`history`: OpportunityHistory rows, some close dates
//! pushed out).

mod history;
mod names;
mod rng;
mod showcase;

use std::sync::Arc;

use chrono::{DateTime, Duration, NaiveTime, Utc};
use salesforce_core::id::RecordId;

use crate::Error;
use crate::schema::standard::{
    CASE_ORIGINS, CASE_PRIORITIES, CASE_STATUSES, INDUSTRIES, LEAD_SOURCES, LEAD_STATUSES,
    OPPORTUNITY_STAGES, RATINGS, TASK_PRIORITIES, TASK_STATUSES,
};
use crate::store::{InsertPlan, OrgData, Record};
use crate::value::Value;
use rng::Rng;

/// How much data to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DatasetSize {
    /// Tens of records per object, for tests.
    Tiny,
    /// About 1,000 accounts, 3,000 contacts, 5,000 leads, 2,000 opportunities (with about 9,000
    /// stage-history rows), 1,000 cases and 10,000 tasks and events: enough that queries page.
    Demo,
    /// About 1,000,000 records in total (plus the opportunities' stage history), for benchmarks.
    Large,
}

impl std::str::FromStr for DatasetSize {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "tiny" => Ok(Self::Tiny),
            "demo" => Ok(Self::Demo),
            "large" => Ok(Self::Large),
            _ => Err(Error::UnknownDataset(s.chars().take(40).collect())),
        }
    }
}

/// Record counts per object.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counts {
    /// Sales users (besides the demo and integration users).
    pub users: usize,
    /// Accounts.
    pub accounts: usize,
    /// Contacts.
    pub contacts: usize,
    /// Leads.
    pub leads: usize,
    /// Opportunities.
    pub opportunities: usize,
    /// Opportunity contact roles.
    pub contact_roles: usize,
    /// Cases.
    pub cases: usize,
    /// Tasks.
    pub tasks: usize,
    /// Events.
    pub events: usize,
}

impl Counts {
    /// Total number of records.
    pub fn total(&self) -> usize {
        self.users
            + self.accounts
            + self.contacts
            + self.leads
            + self.opportunities
            + self.contact_roles
            + self.cases
            + self.tasks
            + self.events
    }
}

impl DatasetSize {
    /// The record counts of this size.
    pub fn counts(self) -> Counts {
        match self {
            Self::Tiny => Counts {
                users: 3,
                accounts: 12,
                contacts: 30,
                leads: 40,
                opportunities: 20,
                contact_roles: 10,
                cases: 12,
                tasks: 30,
                events: 20,
            },
            Self::Demo => Counts {
                users: 6,
                accounts: 1_000,
                contacts: 3_000,
                leads: 5_000,
                opportunities: 2_000,
                contact_roles: 1_000,
                cases: 1_000,
                tasks: 6_000,
                events: 4_000,
            },
            Self::Large => Counts {
                users: 20,
                accounts: 50_000,
                contacts: 150_000,
                leads: 250_000,
                opportunities: 100_000,
                contact_roles: 50_000,
                cases: 50_000,
                tasks: 250_000,
                events: 99_980,
            },
        }
    }
}

/// Progress of a generation run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Progress {
    /// Records inserted so far.
    pub done: usize,
    /// Records to insert in total.
    pub total: usize,
}

/// Shared text values so that picklist values are not allocated per record.
struct Texts(Vec<Arc<str>>);

impl Texts {
    fn new(values: &[&str]) -> Self {
        Self(values.iter().map(|v| Arc::from(*v)).collect())
    }

    fn pick(&self, rng: &mut Rng) -> Value {
        Value::Text(
            rng.choose(&self.0)
                .cloned()
                .unwrap_or_else(|| Arc::from("")),
        )
    }

    fn weighted(&self, rng: &mut Rng, weights: &[u32]) -> Value {
        let i = rng.weighted(weights).min(self.0.len().saturating_sub(1));
        Value::Text(self.0.get(i).cloned().unwrap_or_else(|| Arc::from("")))
    }
}

struct Setter<'p> {
    plan_fields: &'p [(String, usize)],
}

impl Setter<'_> {
    fn idx(&self, name: &str) -> usize {
        self.plan_fields
            .iter()
            .find(|(n, _)| n == name)
            .map_or(usize::MAX, |(_, i)| *i)
    }
}

struct Loader<'d> {
    data: &'d mut OrgData,
    now: DateTime<Utc>,
    admin: RecordId,
    done: usize,
    total: usize,
    progress: &'d mut dyn FnMut(Progress),
}

struct ObjectLoader {
    object: usize,
    plan: InsertPlan,
    fields: Vec<(String, usize)>,
}

impl Loader<'_> {
    fn object(&mut self, name: &str, count: usize) -> Option<ObjectLoader> {
        let (object, def) = self.data.schema().object(name)?;
        let plan = self.data.insert_plan(object)?;
        let fields = def
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.clone(), i))
            .collect();
        self.data.reserve(object, count);
        Some(ObjectLoader {
            object,
            plan,
            fields,
        })
    }

    fn insert(&mut self, loader: &ObjectLoader, mut record: Record) -> RecordId {
        record.id = self.data.next_id(loader.object);
        let id = self
            .data
            .insert_planned(&loader.plan, record, self.admin, self.now);
        self.done += 1;
        if self.done.is_multiple_of(10_000) || self.done == self.total {
            (self.progress)(Progress {
                done: self.done,
                total: self.total,
            });
        }
        id
    }
}

/// A creation time: about 3% today, 10% earlier this week, the rest over two years; never in
/// the future.
fn created_at(rng: &mut Rng, now: DateTime<Utc>) -> DateTime<Utc> {
    let midnight = now.date_naive().and_time(NaiveTime::MIN).and_utc();
    let since_midnight = (now - midnight).num_seconds().max(1);
    let roll = rng.below(100);
    if roll < 3 {
        return now - Duration::seconds(rng.below(since_midnight as u64) as i64);
    }
    let days = if roll < 13 {
        1 + rng.below(6) as i64
    } else {
        7 + rng.below(723) as i64
    };
    midnight - Duration::days(days) + Duration::seconds(rng.below(86_400) as i64)
}

fn between(rng: &mut Rng, from: DateTime<Utc>, to: DateTime<Utc>) -> DateTime<Utc> {
    let span = (to - from).num_seconds().max(0) as u64;
    from + Duration::seconds(rng.below(span + 1) as i64)
}

/// Fills `data` with a deterministic dataset: the same seed, size and `now` give identical
/// records and ids. `progress` is called every 10,000 records and at the end.
pub fn generate(
    data: &mut OrgData,
    size: DatasetSize,
    seed: u64,
    now: DateTime<Utc>,
    progress: &mut dyn FnMut(Progress),
) {
    let counts = size.counts();
    let mut rng = Rng::new(seed);
    let admin = data.users().admin;
    let mut loader = Loader {
        data,
        now,
        admin,
        done: 0,
        total: counts.total(),
        progress,
    };
    let industries = Texts::new(INDUSTRIES);
    let ratings = Texts::new(RATINGS);
    let sources = Texts::new(LEAD_SOURCES);
    let lead_statuses = Texts::new(LEAD_STATUSES);
    let stages = Texts::new(
        &OPPORTUNITY_STAGES
            .iter()
            .map(|s| s.name)
            .collect::<Vec<_>>(),
    );
    let case_statuses = Texts::new(CASE_STATUSES);
    let case_priorities = Texts::new(CASE_PRIORITIES);
    let origins = Texts::new(CASE_ORIGINS);
    let task_statuses = Texts::new(TASK_STATUSES);
    let task_priorities = Texts::new(TASK_PRIORITIES);
    let account_types = Texts::new(&[
        "Prospect",
        "Customer - Direct",
        "Customer - Channel",
        "Channel Partner / Reseller",
    ]);
    let activity_types = Texts::new(&["Call", "Email", "Meeting", "Other"]);
    let countries = Texts::new(&[
        "United States",
        "United States",
        "United States",
        "Canada",
        "United Kingdom",
        "Germany",
        "France",
        "Australia",
    ]);

    // Users.
    let mut owners = vec![admin];
    if let Some(users) = loader.object("User", counts.users) {
        let s = Setter {
            plan_fields: &users.fields,
        };
        for i in 0..counts.users {
            let first = names::first_name(&mut rng);
            let last = names::last_name(&mut rng);
            let mut r = Record::new(admin);
            let username = format!(
                "{}.{}{}@sfmcp.example",
                first.to_lowercase(),
                last.to_lowercase(),
                i
            );
            r.set(s.idx("Username"), Value::text(&username));
            r.set(s.idx("Email"), Value::text(&username));
            r.set(s.idx("FirstName"), Value::text(first));
            r.set(s.idx("LastName"), Value::text(last));
            r.set(s.idx("Alias"), Value::text(&format!("u{i}")));
            r.set(s.idx("IsActive"), Value::Bool(true));
            r.set(
                s.idx("Title"),
                Value::text(names::SALES_TITLES[i % names::SALES_TITLES.len()]),
            );
            r.set(
                s.idx("CreatedDate"),
                Value::DateTime(now - Duration::days(800)),
            );
            owners.push(loader.insert(&users, r));
        }
    }
    let owner = |rng: &mut Rng| *rng.choose(&owners).unwrap_or(&admin);

    // Accounts.
    let mut accounts = Vec::with_capacity(counts.accounts);
    if let Some(acc) = loader.object("Account", counts.accounts) {
        let s = Setter {
            plan_fields: &acc.fields,
        };
        let (
            name,
            industry,
            rating,
            kind,
            phone,
            website,
            city,
            state,
            country,
            revenue,
            employees,
            source,
            number,
            owner_f,
            created,
        ) = (
            s.idx("Name"),
            s.idx("Industry"),
            s.idx("Rating"),
            s.idx("Type"),
            s.idx("Phone"),
            s.idx("Website"),
            s.idx("BillingCity"),
            s.idx("BillingState"),
            s.idx("BillingCountry"),
            s.idx("AnnualRevenue"),
            s.idx("NumberOfEmployees"),
            s.idx("AccountSource"),
            s.idx("AccountNumber"),
            s.idx("OwnerId"),
            s.idx("CreatedDate"),
        );
        for i in 0..counts.accounts {
            let mut r = Record::new(admin);
            let company = names::company(&mut rng, i);
            r.set(website, Value::text(&names::website(&company)));
            r.set(name, Value::text(&company));
            r.set(industry, industries.pick(&mut rng));
            r.set(rating, ratings.weighted(&mut rng, &[2, 5, 3]));
            r.set(kind, account_types.pick(&mut rng));
            r.set(phone, Value::text(&names::phone(&mut rng)));
            let (c, st) = names::city(&mut rng);
            r.set(city, Value::text(c));
            r.set(state, Value::text(st));
            r.set(country, countries.pick(&mut rng));
            let emp = 10 + rng.below(20_000) as i64;
            r.set(employees, Value::Int(emp));
            r.set(
                revenue,
                Value::Number((emp * (50_000 + rng.below(250_000) as i64)) as f64),
            );
            r.set(source, sources.pick(&mut rng));
            r.set(number, Value::text(&format!("CD{:06}", 100_000 + i)));
            let o = owner(&mut rng);
            r.set(owner_f, Value::Id(o));
            r.set(created, Value::DateTime(created_at(&mut rng, now)));
            accounts.push(loader.insert(&acc, r));
        }
    }

    // Contacts, each at an account.
    let mut contacts: Vec<(RecordId, usize)> = Vec::with_capacity(counts.contacts);
    if let Some(con) = loader.object("Contact", counts.contacts) {
        let s = Setter {
            plan_fields: &con.fields,
        };
        let (
            acc_f,
            first_f,
            last_f,
            title_f,
            email_f,
            phone_f,
            mobile_f,
            source_f,
            dept_f,
            owner_f,
            created_f,
        ) = (
            s.idx("AccountId"),
            s.idx("FirstName"),
            s.idx("LastName"),
            s.idx("Title"),
            s.idx("Email"),
            s.idx("Phone"),
            s.idx("MobilePhone"),
            s.idx("LeadSource"),
            s.idx("Department"),
            s.idx("OwnerId"),
            s.idx("CreatedDate"),
        );
        for _ in 0..counts.contacts {
            let mut r = Record::new(admin);
            let acct_i = rng.below(accounts.len().max(1) as u64) as usize;
            if let Some(a) = accounts.get(acct_i) {
                r.set(acc_f, Value::Id(*a));
            }
            let first = names::first_name(&mut rng);
            let last = names::last_name(&mut rng);
            r.set(first_f, Value::text(first));
            r.set(last_f, Value::text(last));
            r.set(title_f, Value::text(names::pick_title(&mut rng)));
            r.set(dept_f, Value::text(names::pick_department(&mut rng)));
            r.set(email_f, Value::text(&names::email(&mut rng, first, last)));
            r.set(phone_f, Value::text(&names::phone(&mut rng)));
            if rng.below(2) == 0 {
                r.set(mobile_f, Value::text(&names::phone(&mut rng)));
            }
            r.set(source_f, sources.pick(&mut rng));
            let o = owner(&mut rng);
            r.set(owner_f, Value::Id(o));
            r.set(created_f, Value::DateTime(created_at(&mut rng, now)));
            contacts.push((loader.insert(&con, r), acct_i));
        }
    }

    // Leads.
    let mut leads = Vec::with_capacity(counts.leads);
    if let Some(lead) = loader.object("Lead", counts.leads) {
        let s = Setter {
            plan_fields: &lead.fields,
        };
        let (
            first_f,
            last_f,
            company_f,
            title_f,
            email_f,
            phone_f,
            status_f,
            industry_f,
            rating_f,
            source_f,
            city_f,
            state_f,
            country_f,
            revenue_f,
            emp_f,
            converted_f,
            owner_f,
            created_f,
            modified_f,
        ) = (
            s.idx("FirstName"),
            s.idx("LastName"),
            s.idx("Company"),
            s.idx("Title"),
            s.idx("Email"),
            s.idx("Phone"),
            s.idx("Status"),
            s.idx("Industry"),
            s.idx("Rating"),
            s.idx("LeadSource"),
            s.idx("City"),
            s.idx("State"),
            s.idx("Country"),
            s.idx("AnnualRevenue"),
            s.idx("NumberOfEmployees"),
            s.idx("IsConverted"),
            s.idx("OwnerId"),
            s.idx("CreatedDate"),
            s.idx("LastModifiedDate"),
        );
        for i in 0..counts.leads {
            let mut r = Record::new(admin);
            let first = names::first_name(&mut rng);
            let last = names::last_name(&mut rng);
            r.set(first_f, Value::text(first));
            r.set(last_f, Value::text(last));
            r.set(company_f, Value::text(&names::company(&mut rng, i + 7)));
            r.set(title_f, Value::text(names::pick_title(&mut rng)));
            r.set(email_f, Value::text(&names::email(&mut rng, first, last)));
            r.set(phone_f, Value::text(&names::phone(&mut rng)));
            let status = lead_statuses.weighted(&mut rng, &[45, 30, 10, 15]);
            let converted = status.as_text() == Some("Closed - Converted");
            r.set(status_f, status);
            r.set(converted_f, Value::Bool(converted));
            r.set(industry_f, industries.pick(&mut rng));
            if rng.below(10) < 8 {
                r.set(rating_f, ratings.weighted(&mut rng, &[2, 4, 4]));
            }
            r.set(source_f, sources.weighted(&mut rng, &[40, 15, 15, 20, 10]));
            let (c, st) = names::city(&mut rng);
            r.set(city_f, Value::text(c));
            r.set(state_f, Value::text(st));
            r.set(country_f, countries.pick(&mut rng));
            let emp = 5 + rng.below(5_000) as i64;
            r.set(emp_f, Value::Int(emp));
            r.set(
                revenue_f,
                Value::Number((emp * (40_000 + rng.below(200_000) as i64)) as f64),
            );
            let o = owner(&mut rng);
            r.set(owner_f, Value::Id(o));
            let created = created_at(&mut rng, now);
            r.set(created_f, Value::DateTime(created));
            r.set(modified_f, Value::DateTime(between(&mut rng, created, now)));
            leads.push(loader.insert(&lead, r));
        }
    }

    // Opportunities at accounts.
    let mut opportunities = Vec::with_capacity(counts.opportunities);
    if let Some(opp) = loader.object("Opportunity", counts.opportunities) {
        let s = Setter {
            plan_fields: &opp.fields,
        };
        let (
            acc_f,
            name_f,
            stage_f,
            amount_f,
            close_f,
            type_f,
            source_f,
            next_f,
            owner_f,
            created_f,
            modified_f,
        ) = (
            s.idx("AccountId"),
            s.idx("Name"),
            s.idx("StageName"),
            s.idx("Amount"),
            s.idx("CloseDate"),
            s.idx("Type"),
            s.idx("LeadSource"),
            s.idx("NextStep"),
            s.idx("OwnerId"),
            s.idx("CreatedDate"),
            s.idx("LastModifiedDate"),
        );
        let opp_types = Texts::new(&[
            "New Customer",
            "Existing Customer - Upgrade",
            "Existing Customer - Replacement",
            "Existing Customer - Downgrade",
        ]);
        for _ in 0..counts.opportunities {
            let mut r = Record::new(admin);
            let acct_i = rng.below(accounts.len().max(1) as u64) as usize;
            if let Some(a) = accounts.get(acct_i) {
                r.set(acc_f, Value::Id(*a));
            }
            r.set(name_f, Value::text(&names::deal_name(&mut rng)));
            let stage = stages.weighted(&mut rng, &[14, 12, 10, 9, 7, 6, 8, 7, 15, 12]);
            let closed = matches!(stage.as_text(), Some("Closed Won" | "Closed Lost"));
            r.set(stage_f, stage);
            r.set(
                amount_f,
                Value::Number((50 + rng.below(5_000)) as f64 * 100.0),
            );
            let created = created_at(&mut rng, now);
            let close = if closed {
                between(&mut rng, created, now)
            } else {
                now + Duration::days(rng.below(180) as i64)
            };
            r.set(close_f, Value::Date(close.date_naive()));
            r.set(type_f, opp_types.pick(&mut rng));
            r.set(source_f, sources.pick(&mut rng));
            if !closed {
                r.set(
                    next_f,
                    Value::text(
                        names::NEXT_STEPS[rng.below(names::NEXT_STEPS.len() as u64) as usize],
                    ),
                );
            }
            let o = owner(&mut rng);
            r.set(owner_f, Value::Id(o));
            r.set(created_f, Value::DateTime(created));
            r.set(modified_f, Value::DateTime(between(&mut rng, created, now)));
            opportunities.push((loader.insert(&opp, r), acct_i));
        }
    }

    // Contact roles: a contact of the opportunity's account when there is one.
    if let Some(ocr) = loader.object("OpportunityContactRole", counts.contact_roles) {
        let s = Setter {
            plan_fields: &ocr.fields,
        };
        let (opp_f, con_f, role_f, primary_f) = (
            s.idx("OpportunityId"),
            s.idx("ContactId"),
            s.idx("Role"),
            s.idx("IsPrimary"),
        );
        let roles = Texts::new(&[
            "Decision Maker",
            "Economic Buyer",
            "Evaluator",
            "Influencer",
            "Technical Buyer",
            "Executive Sponsor",
        ]);
        for i in 0..counts.contact_roles {
            let (Some((opp_id, _)), Some((con_id, _))) = (
                opportunities.get(i % opportunities.len().max(1)),
                rng.choose(&contacts),
            ) else {
                break;
            };
            let mut r = Record::new(admin);
            r.set(opp_f, Value::Id(*opp_id));
            r.set(con_f, Value::Id(*con_id));
            r.set(role_f, roles.pick(&mut rng));
            r.set(primary_f, Value::Bool(i < opportunities.len()));
            loader.insert(&ocr, r);
        }
    }

    // Cases at accounts, from a contact.
    let mut cases = Vec::with_capacity(counts.cases);
    if let Some(case) = loader.object("Case", counts.cases) {
        let s = Setter {
            plan_fields: &case.fields,
        };
        let (acc_f, con_f, subject_f, status_f, priority_f, origin_f, owner_f, created_f, desc_f) = (
            s.idx("AccountId"),
            s.idx("ContactId"),
            s.idx("Subject"),
            s.idx("Status"),
            s.idx("Priority"),
            s.idx("Origin"),
            s.idx("OwnerId"),
            s.idx("CreatedDate"),
            s.idx("Description"),
        );
        for _ in 0..counts.cases {
            let mut r = Record::new(admin);
            if let Some((con, acct_i)) = rng.choose(&contacts).copied() {
                r.set(con_f, Value::Id(con));
                if let Some(a) = accounts.get(acct_i) {
                    r.set(acc_f, Value::Id(*a));
                }
            }
            let subject =
                names::CASE_SUBJECTS[rng.below(names::CASE_SUBJECTS.len() as u64) as usize];
            r.set(subject_f, Value::text(subject));
            r.set(
                desc_f,
                Value::text(&format!("Customer reports: {}.", subject.to_lowercase())),
            );
            r.set(
                status_f,
                case_statuses.weighted(&mut rng, &[20, 30, 10, 40]),
            );
            r.set(priority_f, case_priorities.weighted(&mut rng, &[2, 5, 3]));
            r.set(origin_f, origins.pick(&mut rng));
            let o = owner(&mut rng);
            r.set(owner_f, Value::Id(o));
            let created = created_at(&mut rng, now);
            r.set(created_f, Value::DateTime(created));
            cases.push(loader.insert(&case, r));
        }
    }

    // Tasks and events: who is a lead or contact, what is an account, opportunity or case.
    for (object, count) in [("Task", counts.tasks), ("Event", counts.events)] {
        let Some(act) = loader.object(object, count) else {
            continue;
        };
        let s = Setter {
            plan_fields: &act.fields,
        };
        let (who_f, what_f, subject_f, date_f, type_f, owner_f, created_f) = (
            s.idx("WhoId"),
            s.idx("WhatId"),
            s.idx("Subject"),
            s.idx("ActivityDate"),
            s.idx("Type"),
            s.idx("OwnerId"),
            s.idx("CreatedDate"),
        );
        let (status_f, priority_f) = (s.idx("Status"), s.idx("Priority"));
        let (start_f, end_f, at_f, duration_f, location_f) = (
            s.idx("StartDateTime"),
            s.idx("EndDateTime"),
            s.idx("ActivityDateTime"),
            s.idx("DurationInMinutes"),
            s.idx("Location"),
        );
        let is_task = object == "Task";
        for _ in 0..count {
            let mut r = Record::new(admin);
            let with_lead = rng.below(3) == 0;
            if with_lead {
                if let Some(l) = rng.choose(&leads) {
                    r.set(who_f, Value::Id(*l));
                }
            } else {
                if let Some((c, acct_i)) = rng.choose(&contacts).copied() {
                    r.set(who_f, Value::Id(c));
                    if let Some(a) = accounts.get(acct_i) {
                        r.set(what_f, Value::Id(*a));
                    }
                }
                match rng.below(4) {
                    0 => {
                        if let Some((o, _)) = rng.choose(&opportunities) {
                            r.set(what_f, Value::Id(*o));
                        }
                    }
                    1 => {
                        if let Some(c) = rng.choose(&cases) {
                            r.set(what_f, Value::Id(*c));
                        }
                    }
                    _ => {}
                }
            }
            let created = created_at(&mut rng, now);
            let when = created + Duration::days(rng.below(45) as i64);
            r.set(date_f, Value::Date(when.date_naive()));
            r.set(type_f, activity_types.pick(&mut rng));
            if is_task {
                r.set(
                    subject_f,
                    Value::text(
                        names::TASK_SUBJECTS[rng.below(names::TASK_SUBJECTS.len() as u64) as usize],
                    ),
                );
                let done = when < now;
                r.set(
                    status_f,
                    if done && rng.below(10) < 8 {
                        Value::text("Completed")
                    } else {
                        task_statuses.weighted(&mut rng, &[6, 3, 0, 1, 1])
                    },
                );
                r.set(priority_f, task_priorities.weighted(&mut rng, &[2, 6, 2]));
            } else {
                r.set(
                    subject_f,
                    Value::text(
                        names::EVENT_SUBJECTS
                            [rng.below(names::EVENT_SUBJECTS.len() as u64) as usize],
                    ),
                );
                let start = when
                    .date_naive()
                    .and_hms_opt(8 + rng.below(9) as u32, [0, 30][rng.below(2) as usize], 0)
                    .map_or(when, |t| t.and_utc());
                let minutes = [30, 60, 60, 90][rng.below(4) as usize];
                r.set(start_f, Value::DateTime(start));
                r.set(at_f, Value::DateTime(start));
                r.set(end_f, Value::DateTime(start + Duration::minutes(minutes)));
                r.set(duration_f, Value::Int(minutes));
                r.set(
                    location_f,
                    Value::text(["Zoom", "Customer site", "HQ", "Phone"][rng.below(4) as usize]),
                );
            }
            let o = owner(&mut rng);
            r.set(owner_f, Value::Id(o));
            r.set(created_f, Value::DateTime(created));
            loader.insert(&act, r);
        }
    }
    if size == DatasetSize::Demo {
        showcase::add(&mut loader, seed, &accounts, &owners);
    }
    // Neither the showcase's size nor the history's is part of `counts`: the history sets the
    // final total and reports it once.
    history::add(&mut loader, seed);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{FieldSelection, RecordView, Store};

    fn dump(seed: u64) -> (Vec<(String, usize)>, String) {
        let now = DateTime::parse_from_rfc3339("2026-03-04T15:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let store = Store::new(now);
        let mut data = store.write();
        let mut calls = 0;
        generate(&mut data, DatasetSize::Tiny, seed, now, &mut |_| calls += 1);
        assert!(calls >= 1);
        let mut out = String::new();
        for (idx, def) in data.schema().objects().iter().enumerate() {
            for record in data.table(idx).unwrap().rows() {
                let view = RecordView {
                    object: def,
                    record,
                    fields: FieldSelection::All,
                    version: "62.0",
                };
                out.push_str(&serde_json::to_string(&view).unwrap());
            }
        }
        (data.counts(), out)
    }

    #[test]
    fn same_seed_same_data_and_different_seed_differs() {
        let (counts, a) = dump(7);
        let (_, b) = dump(7);
        let (_, c) = dump(8);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let get = |name: &str| counts.iter().find(|(n, _)| n == name).unwrap().1;
        assert_eq!(get("Account"), 12);
        assert_eq!(get("Lead"), 40);
        assert_eq!(get("User"), 5);
    }

    #[test]
    fn some_records_are_created_this_week_and_none_in_the_future() {
        let now = DateTime::parse_from_rfc3339("2026-03-04T15:30:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let store = Store::new(now);
        let mut data = store.write();
        generate(&mut data, DatasetSize::Demo, 1, now, &mut |_| {});
        let (_, def, table) = data.object("Lead").unwrap();
        let created = def.field_index("CreatedDate").unwrap();
        let week_ago = now - Duration::days(7);
        let mut recent = 0;
        for r in table.rows() {
            let Value::DateTime(t) = r.get(created) else {
                panic!("no CreatedDate")
            };
            assert!(*t <= now);
            if *t > week_ago {
                recent += 1;
            }
        }
        assert!(recent > 100, "only {recent} recent leads");
        assert_eq!(table.len(), 5_000);
        // The showcase: one "Acme Corp" with a history, and open deals past their close date.
        let (_, account, accounts) = data.object("Account").unwrap();
        let name = account.field_index("Name").unwrap();
        let acme: Vec<_> = accounts
            .rows()
            .iter()
            .filter(|r| r.get(name).as_text() == Some("Acme Corp"))
            .collect();
        assert_eq!(acme.len(), 1);
        let (_, opp, opps) = data.object("Opportunity").unwrap();
        let (close, closed) = (
            opp.field_index("CloseDate").unwrap(),
            opp.field_index("IsClosed").unwrap(),
        );
        let overdue = opps
            .rows()
            .iter()
            .filter(|r| {
                r.get(closed) == &Value::Bool(false)
                    && matches!(r.get(close), Value::Date(d) if *d < now.date_naive())
            })
            .count();
        assert!(overdue >= 40, "{overdue} open deals past their close date");
        let (_, contact, contacts) = data.object("Contact").unwrap();
        let account_f = contact.field_index("AccountId").unwrap();
        let people: Vec<Value> = contacts
            .rows()
            .iter()
            .filter(|r| r.get(account_f) == &Value::Id(acme[0].id))
            .map(|r| Value::Id(r.id))
            .collect();
        assert_eq!(people.len(), 4);
        let (_, task, tasks) = data.object("Task").unwrap();
        let who = task.field_index("WhoId").unwrap();
        let date = task.field_index("ActivityDate").unwrap();
        let months: std::collections::BTreeSet<u32> = tasks
            .rows()
            .iter()
            .filter(|r| people.contains(r.get(who)))
            .filter_map(|r| match r.get(date) {
                Value::Date(d) => Some(chrono::Datelike::month(d)),
                _ => None,
            })
            .collect();
        assert!(
            months.len() >= 6,
            "tasks with Acme's people span months: {months:?}"
        );
        // Opportunities derive probability and closed flags from the stage.
        let (stage, prob) = (
            opp.field_index("StageName").unwrap(),
            opp.field_index("Probability").unwrap(),
        );
        for r in opps.rows() {
            let s = crate::schema::standard::opportunity_stage(r.get(stage).as_text().unwrap())
                .unwrap();
            assert_eq!(r.get(prob).as_f64(), Some(f64::from(s.probability)));
        }
        // Every opportunity has a stage history that ends at its current values.
        let (_, hist, rows) = data.object("OpportunityHistory").unwrap();
        let h = |n: &str| hist.field_index(n).unwrap();
        let mut by_opp: std::collections::HashMap<RecordId, Vec<&Record>> = Default::default();
        for r in rows.rows() {
            by_opp
                .entry(r.get(h("OpportunityId")).as_id().unwrap())
                .or_default()
                .push(r);
        }
        let (amount, created) = (
            opp.field_index("Amount").unwrap(),
            opp.field_index("CreatedDate").unwrap(),
        );
        let (mut pushed_open, mut closed_with_path, mut closed) = (0, 0, 0);
        for r in opps.rows() {
            let past = &by_opp[&r.id];
            let times: Vec<&Value> = past.iter().map(|p| p.get(h("CreatedDate"))).collect();
            assert_eq!(times[0], r.get(created), "the first row is the creation");
            assert!(
                times
                    .windows(2)
                    .all(|w| matches!(w, [Value::DateTime(a), Value::DateTime(b)] if a <= b))
            );
            assert!(
                times
                    .iter()
                    .all(|t| matches!(t, Value::DateTime(t) if *t <= now))
            );
            let last = past.last().unwrap();
            assert_eq!(last.get(h("StageName")), r.get(stage));
            assert_eq!(last.get(h("Amount")), r.get(amount));
            assert_eq!(last.get(h("Probability")), r.get(prob));
            assert_eq!(last.get(h("CloseDate")), r.get(close));
            let first_close = past[0].get(h("CloseDate"));
            if r.get(closed) == &Value::Bool(false) {
                if matches!((first_close, r.get(close)), (Value::Date(a), Value::Date(b)) if a < b)
                {
                    pushed_open += 1;
                }
            } else {
                closed += 1;
                let open_before = past.iter().any(|p| {
                    crate::schema::standard::opportunity_stage(
                        p.get(h("StageName")).as_text().unwrap(),
                    )
                    .is_some_and(|s| !s.closed)
                });
                closed_with_path += usize::from(open_before);
            }
        }
        assert!(
            pushed_open >= 300,
            "{pushed_open} open deals with a pushed close date"
        );
        assert_eq!(
            closed_with_path, closed,
            "closed deals passed through open stages"
        );
    }
}
