//! Byte-exact snapshots of the `Ack` and of a fault.

use expect_test::expect;
use http_body_util::BodyExt;
use webhooks::response::{ACK_BODY, FaultCode, ack_response, fault_body, fault_response};

/// The receiver's answer as the wire reference spells it.
const REFERENCE_ACK: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#;

#[tokio::test]
async fn ack_is_byte_exact() {
    assert_eq!(ACK_BODY, REFERENCE_ACK);
    let response = ack_response();
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/xml; charset=utf-8"
    );
    let body = response.into_body().collect().await.unwrap().to_bytes();
    expect![[r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#]]
        .assert_eq(std::str::from_utf8(&body).unwrap());
}

#[test]
fn fault_body_snapshot() {
    expect![[r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Server</faultcode><faultstring>temporarily unable &lt;store&gt; &amp; retry</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#]]
        .assert_eq(&fault_body(FaultCode::Server, "temporarily unable <store> & retry"));
    expect![[r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>soapenv:Client</faultcode><faultstring>bad</faultstring></soapenv:Fault></soapenv:Body></soapenv:Envelope>"#]]
        .assert_eq(&fault_body(FaultCode::Client, "bad"));
}

#[test]
fn faults_are_never_2xx() {
    let response = fault_response(http::StatusCode::OK, FaultCode::Server, "x");
    assert!(!response.status().is_success());
    let response = fault_response(
        http::StatusCode::SERVICE_UNAVAILABLE,
        FaultCode::Server,
        "x",
    );
    assert_eq!(response.status(), 503);
}
