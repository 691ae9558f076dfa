//! Outbound messages delivered to a local receiver: the exact envelope, field-change
//! conditions, rollbacks, retries on sandbox time, batching and the 24-hour drop.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use chrono::TimeDelta;
use expect_test::expect;
use http_body_util::{BodyExt, Full};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use reqwest::{Method, StatusCode};
use salesforce_sandbox::{OutboundRule, demo_outbound_rules};
use serde_json::{Value, json};
use tokio::net::TcpSocket;
use tokio::task::{JoinHandle, JoinSet};

use crate::support::{Org, builder};

const ACK_TRUE: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#;

/// How the receiver answers one request.
#[derive(Debug, Clone, Copy)]
enum Answer {
    Ack,
    AckFalse,
    Status(u16),
}

#[derive(Debug, Clone)]
struct Received {
    content_type: String,
    soap_action: String,
    body: String,
}

/// A tiny HTTP receiver on loopback that records requests and answers from a script (then
/// with `Ack` true once the script runs out).
struct Receiver {
    addr: SocketAddr,
    received: Arc<Mutex<Vec<Received>>>,
    script: Arc<Mutex<VecDeque<Answer>>>,
    task: Option<JoinHandle<()>>,
}

impl Receiver {
    async fn start(script: &[Answer]) -> Self {
        let mut receiver = Self {
            addr: "127.0.0.1:0".parse().unwrap(),
            received: Arc::default(),
            script: Arc::new(Mutex::new(script.iter().copied().collect())),
            task: None,
        };
        receiver.listen();
        receiver
    }

    fn url(&self) -> String {
        format!("http://{}/outbound", self.addr)
    }

    /// Listens (again) on the same address.
    fn listen(&mut self) {
        let socket = TcpSocket::new_v4().unwrap();
        socket.set_reuseaddr(true).unwrap();
        socket.bind(self.addr).unwrap();
        let listener = socket.listen(16).unwrap();
        self.addr = listener.local_addr().unwrap();
        let received = self.received.clone();
        let script = self.script.clone();
        self.task = Some(tokio::spawn(async move {
            // Owned here so that stopping the receiver also closes kept-alive connections.
            let mut connections = JoinSet::new();
            loop {
                let Ok((stream, _)) = listener.accept().await else {
                    return;
                };
                let received = received.clone();
                let script = script.clone();
                let service = service_fn(move |req: hyper::Request<hyper::body::Incoming>| {
                    let received = received.clone();
                    let script = script.clone();
                    async move {
                        let header = |name: &str| {
                            req.headers()
                                .get(name)
                                .map(|v| v.to_str().unwrap().to_owned())
                                .unwrap_or_default()
                        };
                        let content_type = header("content-type");
                        let soap_action = header("soapaction");
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        received.lock().unwrap().push(Received {
                            content_type,
                            soap_action,
                            body: String::from_utf8(body.to_vec()).unwrap(),
                        });
                        let answer = script.lock().unwrap().pop_front().unwrap_or(Answer::Ack);
                        let (status, body) = match answer {
                            Answer::Ack => (200, ACK_TRUE.to_owned()),
                            Answer::AckFalse => (200, ACK_TRUE.replace(">true<", ">false<")),
                            Answer::Status(status) => (status, "<error/>".to_owned()),
                        };
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "text/xml; charset=utf-8")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        )
                    }
                });
                connections
                    .spawn(http1::Builder::new().serve_connection(TokioIo::new(stream), service));
            }
        }));
    }

    /// Stops listening, so that connections are refused.
    async fn stop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }

    fn bodies(&self) -> Vec<String> {
        self.received
            .lock()
            .unwrap()
            .iter()
            .map(|r| r.body.clone())
            .collect()
    }
}

fn lead_rule(endpoint: &str) -> OutboundRule {
    OutboundRule::new("New leads", "Lead", endpoint)
        .on_create()
        .fields(&["FirstName", "LastName", "Company", "Phone", "AnnualRevenue"])
}

async fn org_with(rules: Vec<OutboundRule>) -> Org {
    Org::with(builder().outbound_rules(rules)).await
}

async fn queue(org: &Org) -> Vec<Value> {
    org.admin(Method::GET, "outbound/queue", Value::Null)
        .await
        .as_array()
        .unwrap()
        .clone()
}

async fn advance(org: &Org, seconds: i64) {
    org.running
        .sandbox()
        .clock()
        .advance(TimeDelta::seconds(seconds));
    org.running.sandbox().flush_outbound().await;
}

fn count(body: &str, needle: &str) -> usize {
    body.matches(needle).count()
}

#[tokio::test]
async fn lead_create_sends_the_exact_envelope_and_stops_once_acknowledged() {
    let receiver = Receiver::start(&[]).await;
    let org = org_with(vec![lead_rule(&receiver.url())]).await;
    let lead = org
        .create(
            "Lead",
            json!({"FirstName": "Ana", "LastName": "Flores", "Company": "Novo & <Payment>", "AnnualRevenue": 1500000}),
        )
        .await;
    org.running.sandbox().flush_outbound().await;
    let received = receiver.received.lock().unwrap().clone();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].content_type, "text/xml; charset=utf-8");
    assert_eq!(received[0].soap_action, "\"\"");
    let body = received[0]
        .body
        .replace(&org.base(), "http://SANDBOX")
        .replace(&lead, "LEAD_ID");
    expect![[r#"
        <?xml version="1.0" encoding="UTF-8"?>
        <soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
         <soapenv:Body>
          <notifications xmlns="http://soap.sforce.com/2005/09/outbound">
           <OrganizationId>00D3h0000000001EAA</OrganizationId>
           <ActionId>04k3h0000000001AAA</ActionId>
           <SessionId xsi:nil="true"/>
           <EnterpriseUrl>http://SANDBOX/services/Soap/c/66.0/00D3h0000000001</EnterpriseUrl>
           <PartnerUrl>http://SANDBOX/services/Soap/u/66.0/00D3h0000000001</PartnerUrl>
           <Notification>
            <Id>04l3h0000000002AAA</Id>
            <sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com">
             <sf:Id>LEAD_ID</sf:Id><sf:FirstName>Ana</sf:FirstName><sf:LastName>Flores</sf:LastName><sf:Company>Novo &amp; &lt;Payment&gt;</sf:Company><sf:Phone xsi:nil="true"/><sf:AnnualRevenue>1500000.0</sf:AnnualRevenue>
            </sObject>
           </Notification>
          </notifications>
         </soapenv:Body>
        </soapenv:Envelope>
    "#]]
    .assert_eq(&body);
    assert!(queue(&org).await.is_empty());
    let log = org
        .admin(Method::GET, "outbound/delivered", Value::Null)
        .await;
    assert_eq!(log["delivered"].as_array().unwrap().len(), 1);
    assert_eq!(log["delivered"][0]["recordId"], lead.as_str());
    let notification = body.split("<Id>").nth(1).unwrap().get(..18).unwrap();
    assert_eq!(log["delivered"][0]["notificationId"], notification);
    // Acknowledged: nothing more is sent, however far the clock moves.
    advance(&org, 3 * 3600).await;
    assert_eq!(receiver.bodies().len(), 1);
}

#[tokio::test]
async fn session_id_is_a_working_session_of_the_rules_user() {
    let receiver = Receiver::start(&[]).await;
    let org = org_with(vec![lead_rule(&receiver.url()).send_session_id(true)]).await;
    org.create("Lead", json!({"LastName": "Kim", "Company": "K"}))
        .await;
    org.running.sandbox().flush_outbound().await;
    let body = receiver.bodies().remove(0);
    let session = body
        .split("<SessionId>")
        .nth(1)
        .and_then(|rest| rest.split("</SessionId>").next())
        .expect("a session id")
        .to_owned();
    let response = org
        .client
        .get(org.api("/limits"))
        .bearer_auth(&session)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
}

#[tokio::test]
async fn field_change_conditions_fire_only_when_they_should() {
    let receiver = Receiver::start(&[]).await;
    let mut rules = demo_outbound_rules(&receiver.url());
    rules.push(
        OutboundRule::new("Won", "Opportunity", &receiver.url())
            .on_update()
            .when_changed(&["StageName"])
            .changed_to("Closed Won")
            .fields(&["StageName"]),
    );
    let org = org_with(rules).await;
    let opp = org
        .create(
            "Opportunity",
            json!({"Name": "Deal", "StageName": "Prospecting", "CloseDate": "2026-04-30", "Amount": 1000}),
        )
        .await;
    let update = |body: Value| {
        let org = &org;
        let opp = opp.clone();
        async move {
            let (status, value) = org
                .json(
                    Method::PATCH,
                    &format!("/sobjects/Opportunity/{opp}"),
                    Some(body),
                )
                .await;
            assert_eq!(status, StatusCode::NO_CONTENT, "{value}");
            org.running.sandbox().flush_outbound().await;
        }
    };
    // Creating an opportunity matches no rule; neither does an update of another field.
    update(json!({"Amount": 2000})).await;
    assert!(receiver.bodies().is_empty());
    // The same stage again is no change.
    update(json!({"StageName": "Prospecting"})).await;
    assert!(receiver.bodies().is_empty());
    update(json!({"StageName": "Negotiation/Review"})).await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1);
    assert!(bodies[0].contains("<sf:StageName>Negotiation/Review</sf:StageName>"));
    assert!(bodies[0].contains("<sf:Amount>2000.0</sf:Amount>"));
    update(json!({"StageName": "Closed Won"})).await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 3, "stage-changed and won rules both fire");
    let won: Vec<&String> = bodies[1..]
        .iter()
        .filter(|b| !b.contains("<sf:Amount>"))
        .collect();
    assert_eq!(won.len(), 1);
    assert!(won[0].contains("<sf:StageName>Closed Won</sf:StageName>"));
}

#[tokio::test]
async fn rolled_back_writes_send_nothing() {
    let receiver = Receiver::start(&[]).await;
    let org = org_with(vec![lead_rule(&receiver.url())]).await;
    let lead = |id: &str, body: Value| json!({"method": "POST", "url": "/services/data/v62.0/sobjects/Lead", "referenceId": id, "body": body});
    let requests = json!([
        lead("good", json!({"LastName": "Good", "Company": "G"})),
        lead("bad", json!({"Company": "no last name"})),
    ]);
    let (status, _) = org
        .json(
            Method::POST,
            "/composite",
            Some(json!({"allOrNone": true, "compositeRequest": requests})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    org.running.sandbox().flush_outbound().await;
    assert!(queue(&org).await.is_empty());
    assert!(receiver.bodies().is_empty());
    // Without allOrNone the good half commits and is sent.
    org.json(
        Method::POST,
        "/composite",
        Some(json!({"allOrNone": false, "compositeRequest": requests})),
    )
    .await;
    org.running.sandbox().flush_outbound().await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1);
    assert!(bodies[0].contains("<sf:LastName>Good</sf:LastName>"));
}

#[tokio::test]
async fn failures_are_retried_with_growing_intervals_until_acknowledged() {
    let mut receiver = Receiver::start(&[Answer::Status(500), Answer::AckFalse]).await;
    let org = org_with(vec![lead_rule(&receiver.url())]).await;
    let start = org.running.sandbox().clock().now();
    org.create("Lead", json!({"LastName": "Retry", "Company": "R"}))
        .await;
    org.running.sandbox().flush_outbound().await;
    let at = |seconds: i64| {
        salesforce_sandbox::value::format_datetime(start + TimeDelta::seconds(seconds))
    };
    let pending = queue(&org).await;
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0]["attempts"], 1);
    assert_eq!(pending[0]["lastError"], "HTTP 500");
    assert_eq!(pending[0]["nextAttemptAt"], at(15));

    advance(&org, 14).await;
    assert_eq!(queue(&org).await[0]["attempts"], 1, "not due yet");
    advance(&org, 1).await;
    let pending = queue(&org).await;
    assert_eq!(pending[0]["attempts"], 2);
    assert_eq!(
        pending[0]["lastError"],
        "the response has no <Ack>true</Ack>"
    );
    assert_eq!(pending[0]["nextAttemptAt"], at(15 + 30));

    receiver.stop().await;
    advance(&org, 30).await;
    let pending = queue(&org).await;
    assert_eq!(pending[0]["attempts"], 3);
    assert_eq!(pending[0]["nextAttemptAt"], at(45 + 60));
    let error = pending[0]["lastError"].as_str().unwrap();
    assert!(error.contains("onnect"), "{error}");
    assert!(
        !error.contains(&receiver.url()),
        "no URL in errors: {error}"
    );

    receiver.listen();
    advance(&org, 59).await;
    assert_eq!(queue(&org).await[0]["attempts"], 3);
    advance(&org, 1).await;
    assert!(queue(&org).await.is_empty());
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 3, "500, Ack false, then the accepted one");
    let id = |body: &str| body.split("<Id>").nth(1).unwrap()[..18].to_owned();
    assert_eq!(
        id(&bodies[0]),
        id(&bodies[2]),
        "a retry resends the same notification"
    );
    let log = org
        .admin(Method::GET, "outbound/delivered", Value::Null)
        .await;
    assert_eq!(log["delivered"].as_array().unwrap().len(), 1);
    assert_eq!(log["delivered"][0]["attempts"], 4);
    advance(&org, 24 * 3600).await;
    assert_eq!(receiver.bodies().len(), 3);
}

#[tokio::test]
async fn a_record_deleted_before_delivery_is_sent_with_its_id_only() {
    let mut receiver = Receiver::start(&[]).await;
    receiver.stop().await;
    let org = org_with(vec![lead_rule(&receiver.url())]).await;
    let lead = org
        .create("Lead", json!({"LastName": "Gone", "Company": "G"}))
        .await;
    org.running.sandbox().flush_outbound().await;
    let (status, _) = org
        .json(Method::DELETE, &format!("/sobjects/Lead/{lead}"), None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    receiver.listen();
    advance(&org, 15).await;
    let bodies = receiver.bodies();
    assert_eq!(bodies.len(), 1);
    assert!(bodies[0].contains(&format!("<sf:Id>{lead}</sf:Id>\n    </sObject>")));
    assert!(!bodies[0].contains("<sf:LastName>"));
}

#[tokio::test]
async fn one_hundred_fifty_changes_make_two_messages() {
    let receiver = Receiver::start(&[]).await;
    let org = org_with(vec![lead_rule(&receiver.url())]).await;
    let records: Vec<Value> = (0..150)
        .map(|i| json!({"attributes": {"type": "Lead"}, "LastName": format!("L{i}"), "Company": "Bulk"}))
        .collect();
    let (status, _) = org
        .json(
            Method::POST,
            "/composite/sobjects",
            Some(json!({"allOrNone": true, "records": records})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    org.running.sandbox().flush_outbound().await;
    let mut sizes: Vec<usize> = receiver
        .bodies()
        .iter()
        .map(|b| count(b, "<Notification>"))
        .collect();
    sizes.sort_unstable();
    assert_eq!(sizes, [50, 100]);
    let log = org
        .admin(Method::GET, "outbound/delivered", Value::Null)
        .await;
    let mut ids: Vec<&str> = log["delivered"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["notificationId"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 150);
}

#[tokio::test]
async fn a_message_never_acknowledged_is_dropped_after_24_hours() {
    let receiver = Receiver::start(&[Answer::Status(503); 64]).await;
    let org = org_with(vec![lead_rule(&receiver.url())]).await;
    let start = org.running.sandbox().clock().now();
    org.create("Lead", json!({"LastName": "Never", "Company": "N"}))
        .await;
    org.running.sandbox().flush_outbound().await;
    let mut attempts_seen = vec![];
    for _ in 0..64 {
        let pending = queue(&org).await;
        let Some(message) = pending.first() else {
            break;
        };
        attempts_seen.push(message["attempts"].as_u64().unwrap());
        let next =
            salesforce_sandbox::value::parse_datetime(message["nextAttemptAt"].as_str().unwrap())
                .unwrap();
        let now = org.running.sandbox().clock().now();
        advance(&org, (next - now).num_seconds()).await;
    }
    assert!(queue(&org).await.is_empty());
    let elapsed = org.running.sandbox().clock().now() - start;
    assert!(elapsed < TimeDelta::hours(24), "{elapsed}");
    // 15 s doubling to 2 h: attempts at 0 s … 7,665 s, then every 2 h until 24 h are up.
    assert_eq!(receiver.bodies().len(), 20);
    let log = org
        .admin(Method::GET, "outbound/delivered", Value::Null)
        .await;
    assert!(log["delivered"].as_array().unwrap().is_empty());
    assert_eq!(log["dropped"][0]["attempts"], 20);
    advance(&org, 48 * 3600).await;
    assert_eq!(receiver.bodies().len(), 20);
}

#[tokio::test]
async fn admin_api_manages_rules_and_flushes() {
    let receiver = Receiver::start(&[]).await;
    let org = Org::start().await;
    let url = format!("{}/__sandbox/outbound/rules", org.base());
    let bad = org
        .client
        .post(&url)
        .json(&json!({"name": "x", "object": "Nope", "onCreate": true, "fields": [], "endpoint": receiver.url()}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let stored = org
        .admin(
            Method::POST,
            "outbound/rules",
            json!({"name": "Leads", "object": "lead", "onCreate": true, "fields": ["company", "LastName"], "endpoint": receiver.url()}),
        )
        .await;
    assert_eq!(stored[0]["object"], "Lead");
    assert_eq!(stored[0]["fields"], json!(["Id", "Company", "LastName"]));
    assert!(stored[0]["actionId"].as_str().unwrap().starts_with("04k"));
    let rules = org.admin(Method::GET, "outbound/rules", Value::Null).await;
    assert_eq!(rules.as_array().unwrap().len(), 1);

    org.create("Lead", json!({"LastName": "Admin", "Company": "A"}))
        .await;
    let flushed = org.admin(Method::POST, "outbound/flush", Value::Null).await;
    assert!(flushed["attempted"].is_u64());
    assert_eq!(receiver.bodies().len(), 1);

    let gone = org
        .client
        .delete(format!("{url}/Leads"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::NO_CONTENT);
    org.create("Lead", json!({"LastName": "After", "Company": "A"}))
        .await;
    org.admin(Method::POST, "outbound/flush", Value::Null).await;
    assert_eq!(receiver.bodies().len(), 1);
    assert!(queue(&org).await.is_empty());
}

#[tokio::test]
async fn demo_rules_are_valid() {
    let org = org_with(demo_outbound_rules("http://127.0.0.1:9/outbound")).await;
    let rules = org.running.sandbox().outbound().rules();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[0].fields[0], "Id");
    assert_eq!(rules[1].when_changed, ["StageName"]);
}
