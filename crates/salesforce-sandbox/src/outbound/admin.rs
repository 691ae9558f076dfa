//! The `/__sandbox/outbound/…` admin calls.
//!
//! | call | effect |
//! |---|---|
//! | `GET outbound/rules` | the rules as stored |
//! | `POST outbound/rules {rule}` or `[{rule},…]` | add or replace (by name); answers the stored rules |
//! | `DELETE outbound/rules` / `DELETE outbound/rules/{name}` | remove all / one |
//! | `POST outbound/flush` | attempt every due message now (handled before routing: it is async) |
//! | `GET outbound/queue` | pending messages: attempts, next attempt, last error |
//! | `GET outbound/delivered` | `{"delivered":[…],"dropped":[…]}` notification outcomes |

use http::{Method, StatusCode};
use serde::Deserialize;
use serde_json::json;

use super::OutboundRule;
use crate::http::Reply;
use crate::server::State;

#[derive(Deserialize)]
#[serde(untagged)]
enum RulesBody {
    One(OutboundRule),
    Many(Vec<OutboundRule>),
}

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    Reply::json(status, &json!({"error": message.into()}))
}

/// Handles `outbound/{tail}` admin calls other than flush; `None` when the path is not ours.
pub(crate) fn handle(state: &State, method: &Method, tail: &str, body: &[u8]) -> Option<Reply> {
    let outbound = &state.outbound;
    Some(match (method.clone(), tail) {
        (Method::GET, "rules") => Reply::json(StatusCode::OK, &outbound.rules()),
        (Method::POST, "rules") => {
            let rules = match serde_json::from_slice::<RulesBody>(body) {
                Ok(RulesBody::One(rule)) => vec![rule],
                Ok(RulesBody::Many(rules)) => rules,
                Err(e) => return Some(error(StatusCode::BAD_REQUEST, e.to_string())),
            };
            let data = state.store.read();
            let mut stored = Vec::new();
            for rule in &rules {
                match outbound.add_rule(&data, rule) {
                    Ok(rule) => stored.push(rule),
                    Err(e) => return Some(error(StatusCode::BAD_REQUEST, e)),
                }
            }
            Reply::json(StatusCode::OK, &stored)
        }
        (Method::DELETE, "rules") => {
            for rule in outbound.rules() {
                outbound.remove_rule(&rule.name);
            }
            Reply::empty(StatusCode::NO_CONTENT)
        }
        (Method::DELETE, name) if name.starts_with("rules/") => {
            let name = percent_encoding::percent_decode_str(name.trim_start_matches("rules/"))
                .decode_utf8_lossy();
            if outbound.remove_rule(&name) {
                Reply::empty(StatusCode::NO_CONTENT)
            } else {
                error(StatusCode::NOT_FOUND, format!("no rule named {name}"))
            }
        }
        (Method::GET, "queue") => Reply::json(StatusCode::OK, &outbound.queued()),
        (Method::GET, "delivered") => Reply::json(
            StatusCode::OK,
            &json!({"delivered": outbound.delivered(), "dropped": outbound.dropped()}),
        ),
        _ => return None,
    })
}

/// `POST /__sandbox/outbound/flush`.
pub(crate) async fn flush(state: &State) -> Reply {
    let attempted = super::delivery::round(state).await;
    Reply::json(StatusCode::OK, &json!({"attempted": attempted}))
}
