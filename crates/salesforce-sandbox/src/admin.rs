//! The admin API under `/__sandbox/` (no authentication; for loopback use by tests and demos):
//! reset, datasets, custom schema, fault injection, sessions, API quota, clock and request log.
//!
//! | call | effect |
//! |---|---|
//! | `POST reset` | empty the org, regenerate the configured dataset, zero the API count, clear faults and log |
//! | `POST dataset {"size":"tiny","seed":1}` | replace all data with a generated dataset |
//! | `GET counts` | live records per object |
//! | `POST schema {…}` | add custom objects/fields (see `schema::custom::SchemaExtension`) |
//! | `GET`/`PUT faults {"latencyMs","errorRate","dropRate"}` | fault injection |
//! | `POST sessions/expire` | end every access token (refresh tokens keep working) |
//! | `GET limits`, `POST limits {"max":N}`, `POST limits/exhaust`, `POST limits/reset` | daily API quota |
//! | `GET clock`, `POST clock {"set":"2026-01-01T00:00:00Z","advanceSeconds":N,"resume":true}` | clock control |
//! | `GET log`, `DELETE log` | the last 1,000 requests (method, path, status; no query strings) |
//! | `… outbound/…` | outbound rules, queue, flush, delivered (see `outbound::admin`) |

use chrono::TimeDelta;
use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::{Value as Json, json};

use crate::dataset::DatasetSize;
use crate::faults::FaultConfig;
use crate::http::Reply;
use crate::schema::custom::SchemaExtension;
use crate::server::State;
use crate::value::{format_datetime, parse_datetime};

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    Reply::json(status, &json!({"error": message.into()}))
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Reply> {
    let body = if body.is_empty() {
        b"{}".as_slice()
    } else {
        body
    };
    serde_json::from_slice(body).map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DatasetRequest {
    size: String,
    #[serde(default)]
    seed: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ClockRequest {
    #[serde(default)]
    set: Option<String>,
    #[serde(default)]
    advance_seconds: Option<i64>,
    #[serde(default)]
    resume: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LimitRequest {
    max: u64,
}

/// Routes `/__sandbox/{tail}`.
pub(crate) fn handle(
    state: &State,
    method: &Method,
    tail: &str,
    _query: &str,
    body: &[u8],
) -> Reply {
    let result = match (method.clone(), tail) {
        (Method::POST, "reset") => {
            state.reload(state.dataset());
            state.usage.reset(state.clock.now());
            state.faults.set(FaultConfig::default());
            state.log.clear();
            state.outbound.clear_queue();
            Ok(counts(state))
        }
        (Method::POST, "dataset") => parse::<DatasetRequest>(body).and_then(|r| {
            let size: DatasetSize = r
                .size
                .parse()
                .map_err(|e: crate::Error| error(StatusCode::BAD_REQUEST, e.to_string()))?;
            state.reload(Some((size, r.seed)));
            Ok(counts(state))
        }),
        (Method::GET, "counts") => Ok(counts(state)),
        (Method::POST, "schema") => parse::<SchemaExtension>(body).and_then(|ext| {
            state
                .store
                .write()
                .extend_schema(&ext)
                .map_err(|e| error(StatusCode::BAD_REQUEST, e.to_string()))?;
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }),
        (Method::GET, "faults") => Ok(Reply::json(StatusCode::OK, &state.faults.get())),
        (Method::PUT | Method::POST, "faults") => parse::<FaultConfig>(body).map(|config| {
            state.faults.set(config);
            Reply::json(StatusCode::OK, &state.faults.get())
        }),
        (Method::POST, "sessions/expire") => {
            state.tokens.expire_all_sessions();
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        (Method::POST, "limits") => parse::<LimitRequest>(body).map(|r| {
            state.usage.set_max(r.max, state.clock.now());
            usage(state)
        }),
        (Method::POST, "limits/exhaust") => {
            state.usage.exhaust(state.clock.now());
            Ok(usage(state))
        }
        (Method::POST, "limits/reset") => {
            state.usage.reset(state.clock.now());
            Ok(usage(state))
        }
        (Method::GET, "limits") => Ok(usage(state)),
        (Method::GET, "clock") => Ok(clock(state)),
        (Method::POST, "clock") => parse::<ClockRequest>(body).and_then(|r| {
            if let Some(at) = &r.set {
                let at = parse_datetime(at).ok_or_else(|| {
                    error(StatusCode::BAD_REQUEST, "set must be an ISO 8601 datetime")
                })?;
                state.clock.set(at);
            }
            if let Some(seconds) = r.advance_seconds {
                let delta = TimeDelta::try_seconds(seconds)
                    .ok_or_else(|| error(StatusCode::BAD_REQUEST, "advanceSeconds out of range"))?;
                state.clock.advance(delta);
            }
            if r.resume {
                state.clock.resume();
            }
            Ok(clock(state))
        }),
        (Method::GET, "log") => Ok(Reply::json(StatusCode::OK, &state.log.entries())),
        (Method::DELETE, "log") => {
            state.log.clear();
            Ok(Reply::empty(StatusCode::NO_CONTENT))
        }
        (_, outbound) if outbound.starts_with("outbound/") => {
            let tail = outbound.trim_start_matches("outbound/");
            crate::outbound::admin::handle(state, method, tail, body).ok_or_else(|| {
                error(
                    StatusCode::NOT_FOUND,
                    format!("no admin endpoint {method} /__sandbox/{outbound}"),
                )
            })
        }
        _ => Err(error(
            StatusCode::NOT_FOUND,
            format!("no admin endpoint {method} /__sandbox/{tail}"),
        )),
    };
    result.unwrap_or_else(|reply| reply)
}

fn counts(state: &State) -> Reply {
    let counts: serde_json::Map<String, Json> = state
        .store
        .read()
        .counts()
        .into_iter()
        .map(|(name, n)| (name, json!(n)))
        .collect();
    Reply::json(StatusCode::OK, &counts)
}

fn usage(state: &State) -> Reply {
    let usage = state.usage.current(state.clock.now());
    Reply::json(
        StatusCode::OK,
        &json!({"used": usage.used, "max": usage.max}),
    )
}

fn clock(state: &State) -> Reply {
    Reply::json(
        StatusCode::OK,
        &json!({"now": format_datetime(state.clock.now()), "frozen": state.clock.is_frozen()}),
    )
}
