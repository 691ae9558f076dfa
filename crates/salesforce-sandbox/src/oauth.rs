//! OAuth 2.0 endpoints under `/services/oauth2/`: authorize (login/consent page or
//! auto-approve), token (authorization code with PKCE S256, refresh token with optional
//! rotation, client credentials), revoke, userinfo and introspect, with Salesforce's bodies.

pub mod page;
pub mod tokens;

use chrono::TimeDelta;
use http::{HeaderMap, Method, StatusCode};
use salesforce_core::id::RecordId;
use serde_json::json;

use crate::http::{Reply, form_pairs, param};
use crate::server::State;
use tokens::{CodeGrant, ConnectedApp, Issued, RefreshError, pkce_matches, secret_eq, signature};

/// The demo connected app's client id.
pub const DEMO_CLIENT_ID: &str = "sfmcp-demo";
/// The demo connected app's client secret.
pub const DEMO_CLIENT_SECRET: &str = "sfmcp-demo-secret";
/// The demo user's password on the login page.
pub const DEMO_PASSWORD: &str = "sfmcp-demo";

/// OAuth behaviour of the sandbox.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// Registered connected apps.
    pub apps: Vec<ConnectedApp>,
    /// Approve authorize requests at once (tests) instead of showing the login page.
    pub auto_approve: bool,
    /// How long access tokens live.
    pub access_token_lifetime: TimeDelta,
    /// Whether refreshing returns a new refresh token and kills the old one.
    pub rotate_refresh_tokens: bool,
}

impl OAuthConfig {
    /// The demo app with the given callback URLs, 2-hour access tokens, rotation on.
    pub fn demo(callback_urls: Vec<String>) -> Self {
        Self {
            apps: vec![ConnectedApp {
                client_id: DEMO_CLIENT_ID.into(),
                client_secret: DEMO_CLIENT_SECRET.into(),
                callback_urls,
                name: "sfmcp demo".into(),
            }],
            auto_approve: false,
            access_token_lifetime: TimeDelta::hours(2),
            rotate_refresh_tokens: true,
        }
    }

    fn app(&self, client_id: &str) -> Option<&ConnectedApp> {
        self.apps.iter().find(|a| a.client_id == client_id)
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Reply {
    Reply::json(
        status,
        &json!({"error": error, "error_description": description}),
    )
}

fn bad(error: &str, description: &str) -> Reply {
    oauth_error(StatusCode::BAD_REQUEST, error, description)
}

/// Routes `/services/oauth2/{tail}`.
pub(crate) fn handle(
    state: &State,
    method: &Method,
    tail: &str,
    query: &str,
    body: &[u8],
    headers: &HeaderMap,
) -> Reply {
    let form = form_pairs(std::str::from_utf8(body).unwrap_or_default());
    let query_pairs = form_pairs(query);
    match (method.clone(), tail) {
        (Method::GET, "authorize") => authorize(state, &query_pairs),
        (Method::POST, "authorize") => authorize_submit(state, &form),
        (Method::POST, "token") => token(state, &form),
        (Method::POST | Method::GET, "revoke") => {
            let pairs = if *method == Method::POST {
                &form
            } else {
                &query_pairs
            };
            revoke(state, pairs)
        }
        (Method::GET | Method::POST, "userinfo") => userinfo(state, headers),
        (Method::POST, "introspect") => introspect(state, &form),
        _ => Reply::json(
            StatusCode::NOT_FOUND,
            &json!([{"errorCode": "NOT_FOUND", "message": "The requested resource does not exist"}]),
        ),
    }
}

struct AuthorizeRequest<'p> {
    app: ConnectedApp,
    redirect_uri: &'p str,
    state: Option<&'p str>,
    challenge: Option<&'p str>,
    scope: &'p str,
}

/// Validates client and redirect URI first (errors shown, never redirected), then the rest
/// (errors redirected to the client).
fn validate<'p>(
    state: &State,
    pairs: &'p [(String, String)],
) -> Result<AuthorizeRequest<'p>, Reply> {
    let config = state.oauth_config();
    let page_error = |error: &str, description: &str| {
        Reply::html(
            StatusCode::BAD_REQUEST,
            format!(
                "<!DOCTYPE html><html><body><p>error={}&amp;error_description={}</p></body></html>",
                page::escape(error),
                page::escape(description)
            ),
        )
    };
    let app = param(pairs, "client_id")
        .and_then(|id| config.app(id))
        .cloned()
        .ok_or_else(|| page_error("invalid_client_id", "client identifier invalid"))?;
    let redirect_uri = param(pairs, "redirect_uri").unwrap_or_default();
    if !app.callback_urls.iter().any(|u| u == redirect_uri) {
        return Err(page_error(
            "redirect_uri_mismatch",
            "redirect_uri must match configuration",
        ));
    }
    let request = AuthorizeRequest {
        app,
        redirect_uri,
        state: param(pairs, "state"),
        challenge: param(pairs, "code_challenge"),
        scope: param(pairs, "scope").unwrap_or("api refresh_token"),
    };
    if param(pairs, "response_type") != Some("code") {
        return Err(redirect_error(
            &request,
            "unsupported_response_type",
            "response type not supported",
        ));
    }
    if request.challenge.is_some()
        && param(pairs, "code_challenge_method").unwrap_or("S256") != "S256"
    {
        return Err(redirect_error(
            &request,
            "invalid_request",
            "invalid code challenge method",
        ));
    }
    Ok(request)
}

fn redirect_with(redirect_uri: &str, pairs: &[(&str, &str)]) -> Reply {
    match url::Url::parse(redirect_uri) {
        Ok(mut url) => {
            {
                let mut query = url.query_pairs_mut();
                for (k, v) in pairs {
                    query.append_pair(k, v);
                }
            }
            Reply::redirect(url.to_string())
        }
        Err(_) => bad("invalid_request", "invalid redirect_uri"),
    }
}

fn redirect_error(request: &AuthorizeRequest<'_>, error: &str, description: &str) -> Reply {
    let mut pairs = vec![("error", error), ("error_description", description)];
    if let Some(s) = request.state {
        pairs.push(("state", s));
    }
    redirect_with(request.redirect_uri, &pairs)
}

fn approve(state: &State, request: &AuthorizeRequest<'_>, user: RecordId) -> Reply {
    let code = state.tokens.issue_code(CodeGrant {
        client_id: request.app.client_id.clone(),
        redirect_uri: request.redirect_uri.to_owned(),
        code_challenge: request.challenge.map(str::to_owned),
        user,
        scope: request.scope.to_owned(),
        expires_at: state.clock.now() + tokens::CODE_LIFETIME,
    });
    let mut pairs = vec![("code", code.as_str())];
    if let Some(s) = request.state {
        pairs.push(("state", s));
    }
    redirect_with(request.redirect_uri, &pairs)
}

const CARRIED: &[&str] = &[
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
];

fn authorize(state: &State, pairs: &[(String, String)]) -> Reply {
    let request = match validate(state, pairs) {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    if state.oauth_config().auto_approve {
        return approve(state, &request, state.store.read().users().admin);
    }
    let hidden: Vec<(String, String)> = pairs
        .iter()
        .filter(|(k, _)| CARRIED.contains(&k.as_str()))
        .cloned()
        .collect();
    Reply::html(
        StatusCode::OK,
        page::login_page(&request.app.name, &state.demo_username(), &hidden, None),
    )
}

fn authorize_submit(state: &State, form: &[(String, String)]) -> Reply {
    let request = match validate(state, form) {
        Ok(r) => r,
        Err(reply) => return reply,
    };
    if param(form, "action") != Some("allow") {
        return redirect_error(&request, "access_denied", "end-user denied authorization");
    }
    let username_ok =
        param(form, "username").is_some_and(|u| u.eq_ignore_ascii_case(&state.demo_username()));
    let password_ok = secret_eq(param(form, "password").unwrap_or_default(), DEMO_PASSWORD);
    if !(username_ok && password_ok) {
        let hidden: Vec<(String, String)> = form
            .iter()
            .filter(|(k, _)| CARRIED.contains(&k.as_str()))
            .cloned()
            .collect();
        return Reply::html(
            StatusCode::OK,
            page::login_page(
                &request.app.name,
                &state.demo_username(),
                &hidden,
                Some("Please check your username and password."),
            ),
        );
    }
    approve(state, &request, state.store.read().users().admin)
}

fn check_client(app: &ConnectedApp, secret: Option<&str>, required: bool) -> Result<(), Reply> {
    match secret {
        Some(s) if secret_eq(s, &app.client_secret) => Ok(()),
        Some(_) => Err(bad("invalid_client", "invalid client credentials")),
        None if required => Err(bad("invalid_client", "invalid client credentials")),
        None => Ok(()),
    }
}

fn token_response(state: &State, app: &ConnectedApp, issued: &Issued) -> Reply {
    let base = state.base_url();
    let org = state.store.read().org_id();
    let id_url = format!("{base}/id/{org}/{}", issued.session.user);
    let issued_at = issued.session.issued_at.timestamp_millis().to_string();
    let mut body = json!({
        "access_token": issued.access_token,
        "signature": signature(&app.client_secret, &id_url, &issued_at),
        "scope": issued.session.scope,
        "instance_url": base,
        "id": id_url,
        "token_type": "Bearer",
        "issued_at": issued_at,
    });
    if let (Some(refresh), Some(map)) = (&issued.refresh_token, body.as_object_mut()) {
        map.insert("refresh_token".into(), json!(refresh));
    }
    Reply::json(StatusCode::OK, &body).with_header(
        http::header::CACHE_CONTROL,
        "no-cache,must-revalidate,max-age=0,no-store,private".into(),
    )
}

fn token(state: &State, form: &[(String, String)]) -> Reply {
    let config = state.oauth_config();
    let Some(app) = param(form, "client_id")
        .and_then(|id| config.app(id))
        .cloned()
    else {
        return bad("invalid_client_id", "client identifier invalid");
    };
    let secret = param(form, "client_secret");
    let now = state.clock.now();
    let lifetime = config.access_token_lifetime;
    match param(form, "grant_type") {
        Some("authorization_code") => {
            let Some(grant) = param(form, "code").and_then(|c| state.tokens.take_code(c)) else {
                return bad("invalid_grant", "invalid authorization code");
            };
            if grant.client_id != app.client_id {
                return bad("invalid_grant", "invalid authorization code");
            }
            if grant.expires_at <= now {
                return bad("invalid_grant", "expired authorization code");
            }
            if param(form, "redirect_uri") != Some(grant.redirect_uri.as_str()) {
                return bad(
                    "redirect_uri_mismatch",
                    "redirect_uri must match configuration",
                );
            }
            // Without PKCE the secret is required; with it, a given secret must still match.
            if let Err(reply) = check_client(&app, secret, grant.code_challenge.is_none()) {
                return reply;
            }
            if let Some(challenge) = &grant.code_challenge {
                let verifier = param(form, "code_verifier").unwrap_or_default();
                if !pkce_matches(verifier, challenge) {
                    return bad("invalid_request", "invalid code verifier");
                }
            }
            let with_refresh = grant
                .scope
                .split(' ')
                .any(|s| s == "refresh_token" || s == "offline_access" || s == "full");
            let issued = state.tokens.issue(
                grant.user,
                &app.client_id,
                &grant.scope,
                now,
                lifetime,
                with_refresh,
            );
            token_response(state, &app, &issued)
        }
        Some("refresh_token") => {
            if let Err(reply) = check_client(&app, secret, false) {
                return reply;
            }
            let token = param(form, "refresh_token").unwrap_or_default();
            match state.tokens.refresh(
                token,
                &app.client_id,
                now,
                lifetime,
                config.rotate_refresh_tokens,
            ) {
                Ok(issued) => token_response(state, &app, &issued),
                Err(RefreshError::Invalid | RefreshError::WrongClient) => {
                    bad("invalid_grant", "expired access/refresh token")
                }
            }
        }
        Some("client_credentials") => {
            if let Err(reply) = check_client(&app, secret, true) {
                return reply;
            }
            let user = state.store.read().users().integration;
            let issued = state
                .tokens
                .issue(user, &app.client_id, "api", now, lifetime, false);
            token_response(state, &app, &issued)
        }
        _ => bad("unsupported_grant_type", "grant type not supported"),
    }
}

fn revoke(state: &State, pairs: &[(String, String)]) -> Reply {
    match param(pairs, "token") {
        Some(token) if state.tokens.revoke(token) => Reply::empty(StatusCode::OK),
        _ => bad("unsupported_token_type", "this token type is not supported"),
    }
}

/// The access token of an `Authorization: Bearer …` (or `OAuth …`) header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") || scheme.eq_ignore_ascii_case("oauth"))
        .then(|| token.trim())
}

fn userinfo(state: &State, headers: &HeaderMap) -> Reply {
    let now = state.clock.now();
    let Some(session) = bearer(headers).and_then(|t| state.tokens.session(t, now)) else {
        return oauth_error(
            StatusCode::FORBIDDEN,
            "Bad_OAuth_Token",
            "Session expired or invalid",
        );
    };
    let data = state.store.read();
    let Some((_, def, table)) = data.object("User") else {
        return bad("invalid_request", "no users");
    };
    let Some(user) = table.get(&session.user) else {
        return oauth_error(StatusCode::FORBIDDEN, "inactive_user", "user is not active");
    };
    let text = |name: &str| {
        def.field_index(name)
            .and_then(|i| user.get(i).as_text().map(str::to_owned))
            .unwrap_or_default()
    };
    let base = state.base_url();
    let org = data.org_id();
    Reply::json(
        StatusCode::OK,
        &json!({
            "sub": format!("{base}/id/{org}/{}", session.user),
            "user_id": session.user,
            "organization_id": org,
            "preferred_username": text("Username"),
            "nickname": text("Alias"),
            "name": text("Name"),
            "given_name": text("FirstName"),
            "family_name": text("LastName"),
            "email": text("Email"),
            "email_verified": true,
            "zoneinfo": text("TimeZoneSidKey"),
            "locale": "en_US",
            "active": true,
            "user_type": "STANDARD",
            "language": "en_US",
            "utcOffset": -28800000,
            "updated_at": crate::value::format_datetime(now),
            "urls": {
                "enterprise": format!("{base}/services/Soap/c/{{version}}/{}", org.to_15()),
                "partner": format!("{base}/services/Soap/u/{{version}}/{}", org.to_15()),
                "rest": format!("{base}/services/data/v{{version}}/"),
                "sobjects": format!("{base}/services/data/v{{version}}/sobjects/"),
                "query": format!("{base}/services/data/v{{version}}/query/"),
                "limits": format!("{base}/services/data/v{{version}}/limits/"),
                "profile": format!("{base}/{}", session.user),
            },
        }),
    )
}

fn introspect(state: &State, form: &[(String, String)]) -> Reply {
    let config = state.oauth_config();
    let Some(app) = param(form, "client_id")
        .and_then(|id| config.app(id))
        .cloned()
    else {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "invalid client credentials",
        );
    };
    if check_client(&app, param(form, "client_secret"), true).is_err() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "invalid client credentials",
        );
    }
    let now = state.clock.now();
    let Some(session) = param(form, "token").and_then(|t| state.tokens.session(t, now)) else {
        return Reply::json(StatusCode::OK, &json!({"active": false}));
    };
    let username = {
        let data = state.store.read();
        data.object("User")
            .and_then(|(_, def, table)| {
                let record = table.get(&session.user)?;
                record
                    .get(def.field_index("Username")?)
                    .as_text()
                    .map(str::to_owned)
            })
            .unwrap_or_default()
    };
    Reply::json(
        StatusCode::OK,
        &json!({
            "active": true,
            "scope": session.scope,
            "client_id": session.client_id,
            "username": username,
            "sub": format!("{}/id/{}/{}", state.base_url(), state.store.read().org_id(), session.user),
            "token_type": "access_token",
            "exp": session.expires_at.timestamp(),
            "iat": session.issued_at.timestamp(),
            "nbf": session.issued_at.timestamp(),
        }),
    )
}

/// The identity URL `GET /id/{orgId}/{userId}` (the token response's `id`): the userinfo claims
/// plus `id`, `username` and `display_name`, for the token's own user only.
pub(crate) fn identity(state: &State, headers: &HeaderMap, tail: &str) -> Reply {
    let reply = userinfo(state, headers);
    if reply.status != StatusCode::OK {
        return reply;
    }
    let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(&reply.body) else {
        return reply;
    };
    let (org, user) = tail.split_once('/').unwrap_or((tail, ""));
    let same = |claim: &str, given: &str| {
        body[claim]
            .as_str()
            .is_some_and(|v| salesforce_core::id::ids_equal(v, given))
    };
    if !(same("organization_id", org) && same("user_id", user)) {
        return oauth_error(StatusCode::FORBIDDEN, "Bad_Id", "Bad_Id");
    }
    if let Some(map) = body.as_object_mut() {
        let id = map.get("sub").cloned().unwrap_or_default();
        let username = map.get("preferred_username").cloned().unwrap_or_default();
        let display = map.get("name").cloned().unwrap_or_default();
        map.insert("id".into(), id);
        map.insert("username".into(), username);
        map.insert("display_name".into(), display);
        map.insert("asserted_user".into(), json!(true));
    }
    Reply::json(StatusCode::OK, &body)
}
