//! Sending outbound messages: the delivery loop (woken by new work and clock changes), one
//! delivery round (build each due message from current values, POST, read the `Ack`), and the
//! HTTP exchange.

use std::sync::Arc;
use std::time::Duration;

use http::header::CONTENT_TYPE;
use tokio::task::JoinSet;

use super::envelope::{self, Header, NotificationBody};
use super::queue::{Message, Outcome};
use super::rule::value_text;
use crate::oauth::DEMO_CLIENT_ID;
use crate::server::State;
use crate::store::OrgData;

/// How long a receiver may take to answer.
pub const TIMEOUT: Duration = Duration::from_secs(60);
/// The most of a receiver's answer that is read.
const MAX_RESPONSE_BYTES: usize = 64 * 1024;
/// Longest real-time sleep of the loop when the clock runs (a bound, not a poll).
const MAX_SLEEP: Duration = Duration::from_secs(60);

/// Runs until aborted: a round whenever work arrives, the clock is moved, or (with a running
/// clock) the next message falls due.
pub(crate) async fn run(state: Arc<State>) {
    let mut clock_changes = state.clock.subscribe();
    loop {
        round(&state).await;
        let sleep = match state.outbound.queue().next_due() {
            // A frozen clock only moves when told, which `clock_changes` reports.
            Some(due) if !state.clock.is_frozen() => (due - state.clock.now())
                .to_std()
                .unwrap_or(Duration::ZERO)
                .min(MAX_SLEEP),
            _ => MAX_SLEEP,
        };
        tokio::select! {
            () = state.outbound.wake.notified() => {}
            changed = clock_changes.changed() => {
                if changed.is_err() {
                    tokio::time::sleep(sleep).await;
                }
            }
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Attempts every message due now; returns how many were attempted.
pub(crate) async fn round(state: &State) -> usize {
    let _one_round = state.outbound.round.lock().await;
    let now = state.clock.now();
    let due = state.outbound.queue().take_due(now);
    if due.is_empty() {
        return 0;
    }
    let mut attempts = JoinSet::new();
    {
        let data = state.store.read();
        for message in &due {
            let body = build(state, &data, message);
            let client = state.outbound.client.clone();
            let endpoint = message.rule.endpoint.clone();
            let id = message.id;
            attempts.spawn(async move { (id, post(&client, &endpoint, body).await) });
        }
    }
    while let Some(joined) = attempts.join_next().await {
        if let Ok((id, outcome)) = joined {
            state
                .outbound
                .queue()
                .finish(id, outcome, state.clock.now());
        }
    }
    due.len()
}

/// The message body with the records' values as they are now.
fn build(state: &State, data: &OrgData, message: &Message) -> String {
    let org = data.org_id();
    let org18 = org.to_string();
    let org15 = org18.get(..15).unwrap_or(&org18);
    let version = format!("{}.0", crate::rest::VERSIONS.end());
    let base = state.base_url();
    let enterprise_url = format!("{base}/services/Soap/c/{version}/{org15}");
    let partner_url = format!("{base}/services/Soap/u/{version}/{org15}");
    let session = message.rule.send_session_id.then(|| {
        let user = message
            .rule
            .user_id
            .as_deref()
            .and_then(|u| salesforce_core::id::RecordId::parse_lenient(u).ok())
            .unwrap_or(data.users().admin);
        let lifetime = state.oauth_config().access_token_lifetime;
        state
            .tokens
            .issue_direct(user, DEMO_CLIENT_ID, state.clock.now(), lifetime)
    });
    let notifications: Vec<NotificationBody> = message
        .notifications
        .iter()
        .map(|n| {
            let id_only = vec![("Id".to_owned(), Some(n.record.to_string()))];
            let live = data
                .resolve(&n.record)
                .filter(|(obj, record)| !data.is_deleted(*obj, record));
            let fields = match live {
                Some((obj, record)) => match data.schema().object_at(obj) {
                    Some(def) => message
                        .rule
                        .fields
                        .iter()
                        .filter_map(|name| {
                            let idx = def.field_index(name)?;
                            let value = if name == "Id" {
                                Some(record.id.to_string())
                            } else {
                                value_text(record.get(idx))
                            };
                            Some((name.clone(), value))
                        })
                        .collect(),
                    None => id_only,
                },
                // Deleted before delivery: Salesforce sends the notification without data.
                None => id_only,
            };
            NotificationBody {
                id: n.id.to_string(),
                object: message.rule.object.clone(),
                fields,
            }
        })
        .collect();
    envelope::render(
        &Header {
            organization_id: &org18,
            action_id: message.rule.action_id.as_deref().unwrap_or_default(),
            session_id: session.as_deref(),
            enterprise_url: &enterprise_url,
            partner_url: &partner_url,
        },
        &notifications,
    )
}

async fn post(client: &reqwest::Client, endpoint: &str, body: String) -> Outcome {
    let response = client
        .post(endpoint)
        .header(CONTENT_TYPE, "text/xml; charset=utf-8")
        .header("SOAPAction", "\"\"")
        .body(body)
        .send()
        .await;
    let mut response = match response {
        Ok(response) => response,
        Err(e) => return Outcome::Failed(describe(e)),
    };
    let status = response.status();
    let mut text = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                let room = MAX_RESPONSE_BYTES.saturating_sub(text.len());
                text.extend_from_slice(chunk.get(..room.min(chunk.len())).unwrap_or_default());
                if text.len() >= MAX_RESPONSE_BYTES {
                    break;
                }
            }
            Ok(None) => break,
            Err(e) => return Outcome::Failed(describe(e)),
        }
    }
    if !status.is_success() {
        return Outcome::Failed(format!("HTTP {}", status.as_u16()));
    }
    match std::str::from_utf8(&text) {
        Ok(text) if envelope::is_ack(text) => Outcome::Acknowledged,
        _ => Outcome::Failed("the response has no <Ack>true</Ack>".into()),
    }
}

/// The error and its causes, without the URL (it may carry a secret path token).
fn describe(error: reqwest::Error) -> String {
    if error.is_timeout() {
        return format!("no answer within {} s", TIMEOUT.as_secs());
    }
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
