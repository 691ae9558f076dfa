//! The answers Salesforce understands: the exact `Ack` (HTTP 200) and a SOAP fault, sent with a
//! non-2xx status so that Salesforce delivers the message again. Fault strings are fixed texts
//! or parse errors; they never carry the session id or the path token.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::Full;

/// The `Ack` body, byte for byte as Salesforce documents it.
pub const ACK_BODY: &str = concat!(
    r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">"#,
    r#"<soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound">"#,
    r#"<Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#
);

/// The content type of both answers.
pub const CONTENT_TYPE: &str = "text/xml; charset=utf-8";

/// Who is at fault, as SOAP 1.1 says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultCode {
    /// `soapenv:Client`: the message itself is wrong.
    Client,
    /// `soapenv:Server`: we could not take it now; delivering again may succeed.
    Server,
}

impl FaultCode {
    fn as_str(self) -> &'static str {
        match self {
            Self::Client => "soapenv:Client",
            Self::Server => "soapenv:Server",
        }
    }
}

/// A SOAP 1.1 fault body with the fault string XML-escaped.
pub fn fault_body(code: FaultCode, fault_string: &str) -> String {
    format!(
        concat!(
            r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/">"#,
            "<soapenv:Body><soapenv:Fault><faultcode>{}</faultcode>",
            "<faultstring>{}</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
        ),
        code.as_str(),
        quick_xml::escape::escape(fault_string)
    )
}

/// HTTP 200 with the `Ack` body.
pub fn ack_response() -> Response<Full<Bytes>> {
    xml_response(StatusCode::OK, Bytes::from_static(ACK_BODY.as_bytes()))
}

/// A fault with the given non-2xx status (a 2xx status would read as delivered).
pub fn fault_response(
    status: StatusCode,
    code: FaultCode,
    fault_string: &str,
) -> Response<Full<Bytes>> {
    let status = if status.is_success() {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        status
    };
    xml_response(status, Bytes::from(fault_body(code, fault_string)))
}

fn xml_response(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    response
}
