//! Small HTTP helpers shared by the endpoints: the reply type, JSON and error bodies, query
//! strings and form bodies.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;
use serde::Serialize;

use crate::error::ApiFailure;

/// A finished response before the limit header is added.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status.
    pub status: StatusCode,
    /// Extra headers.
    pub headers: Vec<(header::HeaderName, String)>,
    /// Body bytes.
    pub body: Bytes,
    /// Content type of the body (none when empty).
    pub content_type: Option<&'static str>,
}

impl Reply {
    /// A JSON reply.
    pub fn json(status: StatusCode, value: &impl Serialize) -> Self {
        let body = serde_json::to_vec(value).unwrap_or_else(|_| b"null".to_vec());
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::from(body),
            content_type: Some("application/json;charset=UTF-8"),
        }
    }

    /// A reply with no body (204 and the like).
    pub fn empty(status: StatusCode) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::new(),
            content_type: None,
        }
    }

    /// An HTML page.
    pub fn html(status: StatusCode, page: String) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Bytes::from(page),
            content_type: Some("text/html;charset=UTF-8"),
        }
    }

    /// A redirect to `location`.
    pub fn redirect(location: String) -> Self {
        let mut reply = Self::empty(StatusCode::FOUND);
        reply.headers.push((header::LOCATION, location));
        reply
    }

    /// Adds a header.
    pub fn with_header(mut self, name: header::HeaderName, value: String) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Converts into a hyper response.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let mut response = Response::new(Full::new(self.body));
        *response.status_mut() = self.status;
        let headers = response.headers_mut();
        if let Some(ct) = self.content_type {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
        }
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.append(name, value);
            }
        }
        response
    }
}

impl From<ApiFailure> for Reply {
    fn from(failure: ApiFailure) -> Self {
        Reply::json(failure.status, &failure.errors)
    }
}

/// Decodes a query string or form body into pairs (bad encodings give no pairs).
pub fn form_pairs(raw: &str) -> Vec<(String, String)> {
    serde_urlencoded::from_str(raw).unwrap_or_default()
}

/// The first value of `name` among `pairs`.
pub fn param<'p>(pairs: &'p [(String, String)], name: &str) -> Option<&'p str> {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}
