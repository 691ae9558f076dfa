//! SOSL: `GET /search?q=FIND {…} …` and `GET|POST /parameterizedSearch`, answered with
//! `{"searchRecords":[…]}`.
//!
//! Each `RETURNING` object runs as a SOQL query through the engine (its field list, `WHERE` and
//! `ORDER BY` are SOQL syntax; identifiers are checked before they reach the query text, the
//! condition is parsed by the SOQL grammar); the rows are then kept when the term matches one
//! of the object's searchable fields: all text fields, or only name, email or phone fields.
//! Matching is by whole tokens (runs of letters and digits), case-insensitively, with `*` and
//! `?` wildcards. Results come object by object in `RETURNING` order, not by relevance.

pub mod sosl;

use http::{Method, StatusCode};
use salesforce_core::soql::ident;
use serde_json::{Value as Json, json};

use crate::error::ApiFailure;
use crate::http::{Reply, form_pairs, param};
use crate::rest::Call;
use crate::schema::{FieldType, ObjectDef};
use crate::soql_engine::{self, Row};
use crate::store::{OrgData, Record};
use sosl::{Scope, Search, Target, Term, malformed, tokens};

/// Results when the search sets no overall `LIMIT`.
pub const DEFAULT_LIMIT: usize = 2_000;

/// Objects searched when `RETURNING` is absent.
const DEFAULT_OBJECTS: [&str; 5] = ["Account", "Contact", "Lead", "Opportunity", "Case"];

/// Serves `GET /search?q=…`.
pub fn search(call: &Call<'_>, data: &OrgData) -> Result<Reply, ApiFailure> {
    if *call.method != Method::GET {
        return Err(crate::rest::method_not_allowed(call.method));
    }
    let pairs = form_pairs(call.query);
    let q = param(&pairs, "q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| malformed("A search string has to be specified"))?;
    let parsed = sosl::parse(q)?;
    respond(call, data, &parsed)
}

/// Serves `GET /parameterizedSearch?q=…&sobject=…&X.fields=…` and its `POST` JSON form
/// `{"q","fields","sobjects":[{"name","fields","limit"}],"in","overallLimit"}`.
pub fn parameterized(call: &Call<'_>, data: &OrgData) -> Result<Reply, ApiFailure> {
    let parsed = match *call.method {
        Method::GET => from_params(&form_pairs(call.query))?,
        Method::POST => from_json(&call.json_object()?)?,
        _ => return Err(crate::rest::method_not_allowed(call.method)),
    };
    respond(call, data, &parsed)
}

fn from_params(pairs: &[(String, String)]) -> Result<Search, ApiFailure> {
    let q = param(pairs, "q")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| malformed("A search string has to be specified"))?;
    let default_fields = param(pairs, "fields").map(split_list);
    let mut targets = Vec::new();
    for (key, value) in pairs {
        if key != "sobject" {
            continue;
        }
        for object in split_list(value) {
            let fields = param(pairs, &format!("{object}.fields"))
                .map(split_list)
                .or_else(|| default_fields.clone())
                .unwrap_or_else(|| vec!["Id".to_owned()]);
            let limit = param(pairs, &format!("{object}.limit"))
                .map(|n| number(n, "limit"))
                .transpose()?;
            targets.push(Target {
                object,
                fields,
                condition: None,
                order_by: None,
                limit,
            });
        }
    }
    Ok(Search {
        term: Term::plain(q)?,
        scope: scope_param(param(pairs, "in"))?,
        targets,
        limit: param(pairs, "overallLimit")
            .map(|n| number(n, "overallLimit"))
            .transpose()?,
    })
}

fn from_json(body: &serde_json::Map<String, Json>) -> Result<Search, ApiFailure> {
    let q = body
        .get("q")
        .and_then(Json::as_str)
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| malformed("A search string has to be specified"))?;
    let strings = |v: Option<&Json>| -> Option<Vec<String>> {
        v.and_then(Json::as_array).map(|a| {
            a.iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect()
        })
    };
    let default_fields = strings(body.get("fields"));
    let mut targets = Vec::new();
    for entry in body
        .get("sobjects")
        .and_then(Json::as_array)
        .into_iter()
        .flatten()
    {
        let object = entry
            .get("name")
            .and_then(Json::as_str)
            .ok_or_else(|| malformed("Each sobjects entry needs a name"))?;
        targets.push(Target {
            object: object.to_owned(),
            fields: strings(entry.get("fields"))
                .or_else(|| default_fields.clone())
                .unwrap_or_else(|| vec!["Id".to_owned()]),
            condition: None,
            order_by: None,
            limit: entry
                .get("limit")
                .and_then(Json::as_u64)
                .and_then(|n| usize::try_from(n).ok()),
        });
    }
    Ok(Search {
        term: Term::plain(q)?,
        scope: scope_param(body.get("in").and_then(Json::as_str))?,
        targets,
        limit: body
            .get("overallLimit")
            .and_then(Json::as_u64)
            .and_then(|n| usize::try_from(n).ok()),
    })
}

fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn number(text: &str, name: &str) -> Result<usize, ApiFailure> {
    text.trim()
        .parse()
        .map_err(|_| malformed(format!("{name} must be a number, found '{text}'")))
}

fn scope_param(value: Option<&str>) -> Result<Scope, ApiFailure> {
    match value {
        None => Ok(Scope::All),
        Some(v) => Scope::parse(v).ok_or_else(|| malformed(format!("Invalid search group: {v}"))),
    }
}

fn respond(call: &Call<'_>, data: &OrgData, parsed: &Search) -> Result<Reply, ApiFailure> {
    let rows = run(data, call.version, call.state.clock.now(), parsed)?;
    Ok(Reply::json(
        StatusCode::OK,
        &json!({ "searchRecords": rows }),
    ))
}

/// Runs a parsed search.
fn run(
    data: &OrgData,
    version: &str,
    now: chrono::DateTime<chrono::Utc>,
    parsed: &Search,
) -> Result<Vec<Row>, ApiFailure> {
    let defaults: Vec<Target>;
    let targets = if parsed.targets.is_empty() {
        defaults = DEFAULT_OBJECTS
            .iter()
            .map(|object| Target {
                object: (*object).to_owned(),
                fields: vec!["Id".to_owned()],
                condition: None,
                order_by: None,
                limit: None,
            })
            .collect();
        &defaults
    } else {
        &parsed.targets
    };
    let overall = parsed.limit.unwrap_or(DEFAULT_LIMIT);
    let mut rows = Vec::new();
    for target in targets {
        let (_, def) = data
            .schema()
            .object(&target.object)
            .filter(|(_, d)| d.searchable)
            .ok_or_else(|| ApiFailure::invalid_type(&target.object))?;
        let query = target_query(def, target)?;
        let mut found = soql_engine::snapshot(data, &query, false, now)?;
        found.retain(data, |def, record| {
            parsed
                .term
                .matches(&searchable_tokens(def, record, parsed.scope))
        });
        let room = overall.saturating_sub(rows.len());
        found.truncate(target.limit.unwrap_or(usize::MAX).min(room));
        rows.extend(found.records(data, version));
    }
    Ok(rows)
}

/// The SOQL query of one `RETURNING` entry, from checked identifiers and the entry's SOQL
/// clauses.
fn target_query(def: &ObjectDef, target: &Target) -> Result<String, ApiFailure> {
    for field in &target.fields {
        ident::validate_path(field)
            .map_err(|_| malformed(format!("Invalid field name in RETURNING: {field}")))?;
    }
    let mut query = format!("SELECT {} FROM {}", target.fields.join(", "), def.name);
    if let Some(condition) = &target.condition {
        query.push_str(" WHERE (");
        query.push_str(condition);
        query.push(')');
    }
    if let Some(order) = &target.order_by {
        query.push_str(" ORDER BY ");
        query.push_str(order);
    }
    Ok(query)
}

/// The tokens of each searchable field of `record` for `scope`.
fn searchable_tokens(def: &ObjectDef, record: &Record, scope: Scope) -> Vec<Vec<String>> {
    def.fields()
        .iter()
        .enumerate()
        .filter(|(_, f)| match scope {
            Scope::All => f.field_type.is_text(),
            Scope::Name => f.name_field || matches!(f.name.as_str(), "FirstName" | "LastName"),
            Scope::Email => f.field_type == FieldType::Email,
            Scope::Phone => f.field_type == FieldType::Phone,
        })
        .filter_map(|(idx, _)| record.get(idx).as_text().map(tokens))
        .collect()
}
