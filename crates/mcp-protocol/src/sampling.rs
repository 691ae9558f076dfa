//! Asking the client's model for a completion (`sampling/createMessage`) from inside a handler,
//! in both eras behind one call, [`crate::ToolContext::sample`]:
//!
//! - **Legacy** (initialize-based): a live round trip. The request goes to the client on the
//!   tool call's own response stream (which then becomes SSE) under a random id; the client's
//!   response arrives as a separate POST and is routed here through [`PendingRequests`], scoped
//!   to the session. Bounded by a timeout and a cap on pending requests per session.
//! - **Modern** (2026-07-28, multi round-trip requests): nothing waits. A key with no answer yet
//!   is recorded and the call's result becomes `input_required` with the request under that key
//!   and a sealed `requestState`; the client's retry carries `inputResponses`, and the same
//!   handler code then gets the answer from `sample`.
//!
//! Only clients that declared the `sampling` capability (at `initialize`, or in each modern
//! request's `_meta`) are asked. What the model says is the client's text: untrusted.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, Mac};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};
use tokio::sync::oneshot;

use crate::Error;
use crate::jsonrpc::{ErrorObject, RequestId, Response};

/// The JSON-RPC method of a sampling request.
pub const CREATE_MESSAGE: &str = "sampling/createMessage";
/// Default time a legacy sampling request waits for the client's answer.
pub const DEFAULT_SAMPLING_TIMEOUT: Duration = Duration::from_secs(60);
/// Default number of sampling requests one legacy session may have waiting at once.
pub const DEFAULT_MAX_PENDING_PER_SESSION: usize = 4;
/// How long a modern `requestState` stays valid.
pub const REQUEST_STATE_TTL: Duration = Duration::from_secs(600);
/// Longest input-request key accepted.
const MAX_KEY_LEN: usize = 64;

/// A `sampling/createMessage` request: the messages and limits the model is asked with.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingRequest {
    messages: Vec<Value>,
    system_prompt: Option<String>,
    max_tokens: u32,
    temperature: Option<f64>,
}

impl SamplingRequest {
    /// A request for at most `max_tokens` tokens, with no messages yet.
    pub fn new(max_tokens: u32) -> Self {
        SamplingRequest {
            messages: Vec::new(),
            system_prompt: None,
            max_tokens,
            temperature: None,
        }
    }

    /// Appends a user message with text content.
    #[must_use]
    pub fn user(mut self, text: impl Into<String>) -> Self {
        self.messages
            .push(json!({"role": "user", "content": {"type": "text", "text": text.into()}}));
        self
    }

    /// The system prompt asked for (the client may change or drop it).
    #[must_use]
    pub fn system_prompt(mut self, text: impl Into<String>) -> Self {
        self.system_prompt = Some(text.into());
        self
    }

    /// The sampling temperature asked for (the client may ignore it).
    #[must_use]
    pub fn temperature(mut self, t: f64) -> Self {
        self.temperature = Some(t);
        self
    }

    /// The request's `params` as sent.
    pub fn to_params(&self) -> Value {
        let mut p = Map::new();
        p.insert("messages".into(), Value::Array(self.messages.clone()));
        if let Some(s) = &self.system_prompt {
            p.insert("systemPrompt".into(), json!(s));
        }
        p.insert("maxTokens".into(), json!(self.max_tokens));
        if let Some(t) = self.temperature {
            p.insert("temperature".into(), json!(t));
        }
        Value::Object(p)
    }
}

/// The client's answer (`CreateMessageResult`). Its text is whatever the client returned:
/// treat it as untrusted output, never as instructions.
#[derive(Debug, Clone, PartialEq)]
pub struct SamplingResult(Value);

impl SamplingResult {
    /// Accepts a result object that has `content`.
    pub fn from_value(v: Value) -> Result<Self, Error> {
        if v.get("content")
            .is_some_and(|c| c.is_object() || c.is_array())
        {
            Ok(SamplingResult(v))
        } else {
            Err(Error::SamplingInvalid(
                "the client's sampling result has no content".into(),
            ))
        }
    }

    /// The text blocks of the content joined with blank lines; `None` when there is no text.
    pub fn text(&self) -> Option<String> {
        let blocks = match &self.0["content"] {
            Value::Array(items) => items.iter().collect(),
            one => vec![one],
        };
        let texts: Vec<&str> = blocks
            .into_iter()
            .filter(|b| b["type"] == "text")
            .filter_map(|b| b["text"].as_str())
            .collect();
        (!texts.is_empty()).then(|| texts.join("\n\n"))
    }

    /// The model the client says it used.
    pub fn model(&self) -> Option<&str> {
        self.0["model"].as_str()
    }

    /// Why sampling stopped, if the client said.
    pub fn stop_reason(&self) -> Option<&str> {
        self.0["stopReason"].as_str()
    }

    /// The whole result object.
    pub fn raw(&self) -> &Value {
        &self.0
    }
}

/// Checks an input-request key: 1–64 of `[A-Za-z0-9_.-]`.
pub(crate) fn check_key(key: &str) -> Result<(), Error> {
    if crate::registry::is_plain_name(key, MAX_KEY_LEN) {
        Ok(())
    } else {
        Err(Error::InvalidName(format!(
            "input request key {key:?} (1-{MAX_KEY_LEN} of A-Z a-z 0-9 _ . -)"
        )))
    }
}

type Reply = Result<Value, ErrorObject>;
type Waiting = HashMap<String, HashMap<String, oneshot::Sender<Reply>>>;

/// Legacy server-to-client requests waiting for their response, by scope (the session) and
/// request id. Ids are 128 random bits, and a response is matched only within its own scope, so
/// another session can neither guess nor answer them. Cheap to clone; clones share the map.
#[derive(Debug, Clone)]
pub struct PendingRequests {
    waiting: Arc<Mutex<Waiting>>,
    max_per_scope: usize,
}

impl PendingRequests {
    /// A registry allowing `max_per_scope` waiting requests per scope (at least one).
    pub fn new(max_per_scope: usize) -> Self {
        PendingRequests {
            waiting: Arc::default(),
            max_per_scope: max_per_scope.max(1),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Waiting> {
        self.waiting.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Registers a new request in `scope`; it is forgotten when the guard drops.
    pub(crate) fn register(
        &self,
        scope: &str,
    ) -> Result<(RequestId, oneshot::Receiver<Reply>, PendingGuard), Error> {
        let id = crate::session::random_hex128();
        let (tx, rx) = oneshot::channel();
        let mut waiting = self.lock();
        let in_scope = waiting.entry(scope.to_owned()).or_default();
        if in_scope.len() >= self.max_per_scope {
            return Err(Error::SamplingLimit);
        }
        in_scope.insert(id.clone(), tx);
        Ok((
            RequestId::String(id.clone()),
            rx,
            PendingGuard {
                registry: self.clone(),
                scope: scope.to_owned(),
                id,
            },
        ))
    }

    /// Hands a client's response to the request waiting for it in `scope`; `false` when none
    /// there waits for that id (unknown, answered, timed out, cancelled, or another scope's).
    pub fn resolve(&self, scope: &str, response: Response) -> bool {
        let Some(RequestId::String(id)) = &response.id else {
            return false;
        };
        let tx = self.remove(scope, id);
        match tx {
            Some(tx) => tx.send(response.payload).is_ok(),
            None => false,
        }
    }

    /// How many requests wait in `scope`.
    pub fn waiting(&self, scope: &str) -> usize {
        self.lock().get(scope).map_or(0, HashMap::len)
    }

    fn remove(&self, scope: &str, id: &str) -> Option<oneshot::Sender<Reply>> {
        let mut waiting = self.lock();
        let in_scope = waiting.get_mut(scope)?;
        let tx = in_scope.remove(id);
        if in_scope.is_empty() {
            waiting.remove(scope);
        }
        tx
    }
}

impl Default for PendingRequests {
    fn default() -> Self {
        PendingRequests::new(DEFAULT_MAX_PENDING_PER_SESSION)
    }
}

/// Forgets its pending request when dropped (answered, timed out or cancelled).
#[derive(Debug)]
pub(crate) struct PendingGuard {
    registry: PendingRequests,
    scope: String,
    id: String,
}

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.registry.remove(&self.scope, &self.id);
    }
}

/// What a transport gives a legacy request so its handler can ask the client: the scope its
/// responses are matched in, the registry, and how long to wait.
#[derive(Debug, Clone)]
pub struct Peer {
    pub(crate) scope: String,
    pub(crate) pending: PendingRequests,
    pub(crate) timeout: Duration,
}

impl Peer {
    /// A peer whose responses are matched in `scope` of `pending`.
    pub fn new(scope: impl Into<String>, pending: PendingRequests, timeout: Duration) -> Self {
        Peer {
            scope: scope.into(),
            pending,
            timeout,
        }
    }
}

type HmacSha256 = Hmac<Sha256>;

/// The key that seals modern `requestState`s. Replicas behind one endpoint need the same key
/// (a retry may reach another replica); without one configured, each process picks its own.
#[derive(Clone)]
pub(crate) struct StateKey([u8; 32]);

impl std::fmt::Debug for StateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StateKey([redacted])")
    }
}

impl StateKey {
    pub(crate) fn random() -> Self {
        let mut k = [0u8; 32];
        rand::rng().fill_bytes(&mut k);
        StateKey(k)
    }

    /// A key derived from configured secret material (never used directly, so the same secret
    /// may serve other purposes).
    pub(crate) fn derive(secret: &[u8]) -> Self {
        let mut mac = mac_with(&Sha256::digest(secret).into());
        mac.update(b"mcp-protocol requestState v1");
        StateKey(mac.finalize().into_bytes().into())
    }

    fn mac(&self) -> HmacSha256 {
        mac_with(&self.0)
    }
}

/// HMAC-SHA256 under a 32-byte key: zero-padded to the block size, which is what HMAC does
/// with a short key anyway, so construction cannot fail.
fn mac_with(key: &[u8; 32]) -> HmacSha256 {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    <HmacSha256 as hmac::digest::KeyInit>::new(&block.into())
}

/// Hex SHA-256 of a JSON value's compact text.
fn digest(v: &Value) -> String {
    let d = Sha256::digest(v.to_string().as_bytes());
    d.iter().map(|b| format!("{b:02x}")).collect()
}

/// What a sealed `requestState` carries: what the state is bound to, and the requests asked
/// and answers given so far. The client cannot read meaning into it nor change it unnoticed.
#[derive(Debug, Serialize, Deserialize)]
struct SealedState {
    /// `tools/call` and the tool's name.
    call: String,
    /// Digest of the arguments.
    args: String,
    /// Digest of the owner (the authenticated principal), if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    owner: Option<String>,
    /// Expiry, seconds since the Unix epoch.
    exp: u64,
    /// Keys asked in the last round → digest of the request's params.
    asked: BTreeMap<String, String>,
    /// Keys answered in earlier rounds → (digest, answer).
    #[serde(default)]
    answered: BTreeMap<String, (String, Value)>,
}

fn now_secs() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// The request a modern call's round belongs to: tool, arguments and owner.
pub(crate) struct CallBinding {
    pub(crate) call: String,
    pub(crate) args: String,
    pub(crate) owner: Option<String>,
}

impl CallBinding {
    pub(crate) fn new(tool: &str, args: &Value, owner: Option<&str>) -> Self {
        CallBinding {
            call: format!("tools/call {tool}"),
            args: digest(args),
            owner: owner.map(|o| digest(&json!(o))),
        }
    }
}

/// One round of a modern multi-round-trip call: the answers the retry brought (checked
/// against the sealed state) and the requests still to ask.
#[derive(Debug, Default)]
pub(crate) struct Rounds {
    answers: HashMap<String, (String, Value)>,
    asked: BTreeMap<String, Value>,
    used: BTreeMap<String, (String, Value)>,
}

impl Rounds {
    /// Reads a retry's `requestState` and `inputResponses`. A state that is not ours, was
    /// changed, has expired or belongs to another call or owner is refused (-32602).
    pub(crate) fn from_retry(
        key: &StateKey,
        binding: &CallBinding,
        state: Option<&Value>,
        responses: Option<&Value>,
    ) -> Result<Self, ErrorObject> {
        let responses = match responses {
            None | Some(Value::Null) => None,
            Some(Value::Object(m)) => Some(m),
            Some(_) => {
                return Err(ErrorObject::invalid_params(
                    "inputResponses must be an object",
                ));
            }
        };
        let state = match state {
            None | Some(Value::Null) => return Ok(Rounds::default()),
            Some(Value::String(s)) => s,
            Some(_) => return Err(ErrorObject::invalid_params("requestState must be a string")),
        };
        let invalid = || ErrorObject::invalid_params("invalid or expired requestState");
        let sealed = open(key, state).ok_or_else(invalid)?;
        if sealed.call != binding.call
            || sealed.args != binding.args
            || sealed.owner != binding.owner
            || sealed.exp < now_secs()
        {
            return Err(invalid());
        }
        let mut answers: HashMap<String, (String, Value)> = sealed.answered.into_iter().collect();
        if let Some(responses) = responses {
            for (k, d) in sealed.asked {
                // Anything not asked for is ignored, as the spec says.
                if let Some(r @ Value::Object(_)) = responses.get(&k) {
                    answers.insert(k, (d, r.clone()));
                }
            }
        }
        Ok(Rounds {
            answers,
            ..Rounds::default()
        })
    }

    /// The answer for `key` if the client gave one to exactly these params; otherwise the
    /// request is recorded to be asked.
    pub(crate) fn take(&mut self, key: &str, params: Value) -> Option<Value> {
        let d = digest(&params);
        match self.answers.get(key) {
            Some((given, answer)) if *given == d => {
                let answer = answer.clone();
                self.used.insert(key.to_owned(), (d, answer.clone()));
                Some(answer)
            }
            _ => {
                self.asked.insert(key.to_owned(), params);
                None
            }
        }
    }

    /// The `input_required` result when something is still to be asked.
    pub(crate) fn input_required(&self, key: &StateKey, binding: &CallBinding) -> Option<Value> {
        if self.asked.is_empty() {
            return None;
        }
        let requests: Map<String, Value> = self
            .asked
            .iter()
            .map(|(k, p)| (k.clone(), json!({"method": CREATE_MESSAGE, "params": p})))
            .collect();
        let sealed = SealedState {
            call: binding.call.clone(),
            args: binding.args.clone(),
            owner: binding.owner.clone(),
            exp: now_secs() + REQUEST_STATE_TTL.as_secs(),
            asked: self
                .asked
                .iter()
                .map(|(k, p)| (k.clone(), digest(p)))
                .collect(),
            answered: self.used.clone(),
        };
        Some(json!({
            "resultType": "input_required",
            "inputRequests": requests,
            "requestState": seal(key, &sealed),
        }))
    }
}

/// `base64url(payload JSON) "." base64url(HMAC-SHA256(payload text))`.
fn seal(key: &StateKey, state: &SealedState) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(state).unwrap_or_default());
    let mut mac = key.mac();
    mac.update(payload.as_bytes());
    let tag = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
    format!("{payload}.{tag}")
}

fn open(key: &StateKey, text: &str) -> Option<SealedState> {
    let (payload, tag) = text.split_once('.')?;
    let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
    let mut mac = key.mac();
    mac.update(payload.as_bytes());
    // Constant-time comparison.
    mac.verify_slice(&tag).ok()?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn binding() -> CallBinding {
        CallBinding::new("t", &json!({"a": 1}), Some("alice"))
    }

    #[test]
    fn state_round_trip_and_tamper() {
        let key = StateKey::random();
        let mut first = Rounds::default();
        assert_eq!(first.take("k", json!({"x": 1})), None);
        let ir = first.input_required(&key, &binding()).unwrap();
        let state = ir["requestState"].clone();
        let answer =
            json!({"role": "assistant", "content": {"type": "text", "text": "hi"}, "model": "m"});
        let mut retry = Rounds::from_retry(
            &key,
            &binding(),
            Some(&state),
            Some(&json!({"k": answer, "other": {"x": 1}})),
        )
        .unwrap();
        assert_eq!(retry.take("k", json!({"x": 1})), Some(answer.clone()));
        assert!(retry.input_required(&key, &binding()).is_none());
        // Different params: asked again.
        let mut changed =
            Rounds::from_retry(&key, &binding(), Some(&state), Some(&json!({"k": answer})))
                .unwrap();
        assert_eq!(changed.take("k", json!({"x": 2})), None);
        // Another key, call, owner, or a changed byte: refused.
        let s = state.as_str().unwrap();
        let refused = |k: &StateKey, b: &CallBinding, s: &str| {
            Rounds::from_retry(k, b, Some(&json!(s)), None).is_err()
        };
        assert!(refused(&StateKey::random(), &binding(), s));
        assert!(refused(
            &key,
            &CallBinding::new("t", &json!({"a": 2}), Some("alice")),
            s
        ));
        assert!(refused(
            &key,
            &CallBinding::new("t", &json!({"a": 1}), Some("bob")),
            s
        ));
        assert!(refused(
            &key,
            &CallBinding::new("u", &json!({"a": 1}), Some("alice")),
            s
        ));
        let mut bytes = s.as_bytes().to_vec();
        bytes[3] = if bytes[3] == b'A' { b'B' } else { b'A' };
        assert!(refused(
            &key,
            &binding(),
            std::str::from_utf8(&bytes).unwrap()
        ));
        assert!(refused(&key, &binding(), "garbage"));
    }

    #[test]
    fn derived_keys_agree_across_processes() {
        let a = StateKey::derive(b"secret");
        let b = StateKey::derive(b"secret");
        let mut r = Rounds::default();
        r.take("k", json!({}));
        let state = r.input_required(&a, &binding()).unwrap()["requestState"].clone();
        assert!(Rounds::from_retry(&b, &binding(), Some(&state), None).is_ok());
    }

    #[test]
    fn pending_is_scoped_and_capped() {
        let pending = PendingRequests::new(2);
        let (id, mut rx, guard) = pending.register("s1").unwrap();
        let (_id2, _rx2, _g2) = pending.register("s1").unwrap();
        assert!(matches!(pending.register("s1"), Err(Error::SamplingLimit)));
        let answer = |id: &RequestId| Response::ok(id.clone(), json!({}));
        assert!(!pending.resolve("s2", answer(&id)));
        assert!(!pending.resolve("s1", answer(&RequestId::String("nope".into()))));
        assert!(pending.resolve("s1", answer(&id)));
        assert_eq!(rx.try_recv().unwrap(), Ok(json!({})));
        assert!(!pending.resolve("s1", answer(&id)));
        drop(guard);
        assert_eq!(pending.waiting("s1"), 1);
    }

    #[test]
    fn keys_and_text() {
        assert!(check_key("narrative").is_ok());
        assert!(check_key("").is_err());
        assert!(check_key("a b").is_err());
        let r = SamplingResult::from_value(json!({"content": [
            {"type": "text", "text": "a"}, {"type": "image", "data": ""}, {"type": "text", "text": "b"}
        ]}))
        .unwrap();
        assert_eq!(r.text().as_deref(), Some("a\n\nb"));
        assert!(SamplingResult::from_value(json!({"model": "m"})).is_err());
    }
}
