//! The SOAP outbound message as Salesforce sends it, and the check of the receiver's `Ack`.

use std::fmt::Write as _;

use quick_xml::events::Event;
use quick_xml::name::{Namespace, ResolveResult};
use quick_xml::reader::NsReader;

/// The outbound-message namespace of `notifications` and `Ack`.
pub const OUTBOUND_NS: &str = "http://soap.sforce.com/2005/09/outbound";
/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENV_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The enterprise WSDL namespace of `sObject` fields.
pub const ENTERPRISE_NS: &str = "urn:sobject.enterprise.soap.sforce.com";

/// What one message carries besides its notifications.
#[derive(Debug, Clone)]
pub struct Header<'a> {
    /// The org id, 18 characters.
    pub organization_id: &'a str,
    /// The action id (`04k…`).
    pub action_id: &'a str,
    /// The session id, when the rule sends one.
    pub session_id: Option<&'a str>,
    /// `…/services/Soap/c/{version}/{org15}`.
    pub enterprise_url: &'a str,
    /// `…/services/Soap/u/{version}/{org15}`.
    pub partner_url: &'a str,
}

/// One `Notification`: its id and the record's fields in order (`None` is `xsi:nil`).
#[derive(Debug, Clone)]
pub struct NotificationBody {
    /// The notification id (`04l…`).
    pub id: String,
    /// The sObject type (`Lead`, `Invoice__c`).
    pub object: String,
    /// Field name and text value.
    pub fields: Vec<(String, Option<String>)>,
}

/// Escapes text for element content and attribute values.
fn escape(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry these control characters at all, even escaped.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
}

/// The whole message body.
pub fn render(header: &Header<'_>, notifications: &[NotificationBody]) -> String {
    let mut out = String::with_capacity(1024 + notifications.len() * 512);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(
        "<soapenv:Envelope xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" \
         xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\" \
         xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">\n",
    );
    out.push_str(" <soapenv:Body>\n");
    let _ = writeln!(out, "  <notifications xmlns=\"{OUTBOUND_NS}\">");
    let element = |out: &mut String, name: &str, value: &str| {
        let _ = write!(out, "   <{name}>");
        escape(out, value);
        let _ = writeln!(out, "</{name}>");
    };
    element(&mut out, "OrganizationId", header.organization_id);
    element(&mut out, "ActionId", header.action_id);
    match header.session_id {
        Some(session) => element(&mut out, "SessionId", session),
        None => out.push_str("   <SessionId xsi:nil=\"true\"/>\n"),
    }
    element(&mut out, "EnterpriseUrl", header.enterprise_url);
    element(&mut out, "PartnerUrl", header.partner_url);
    for notification in notifications {
        out.push_str("   <Notification>\n");
        out.push_str("    <Id>");
        escape(&mut out, &notification.id);
        out.push_str("</Id>\n");
        out.push_str("    <sObject xsi:type=\"sf:");
        escape(&mut out, &notification.object);
        let _ = writeln!(out, "\" xmlns:sf=\"{ENTERPRISE_NS}\">");
        out.push_str("     ");
        for (name, value) in &notification.fields {
            match value {
                Some(value) => {
                    let _ = write!(out, "<sf:{name}>");
                    escape(&mut out, value);
                    let _ = write!(out, "</sf:{name}>");
                }
                None => {
                    let _ = write!(out, "<sf:{name} xsi:nil=\"true\"/>");
                }
            }
        }
        out.push_str("\n    </sObject>\n");
        out.push_str("   </Notification>\n");
    }
    out.push_str("  </notifications>\n");
    out.push_str(" </soapenv:Body>\n");
    out.push_str("</soapenv:Envelope>\n");
    out
}

/// Whether a receiver's answer acknowledges the message: an `Ack` element in the outbound
/// namespace whose text is `true`, and no SOAP `Fault`. Malformed XML is no acknowledgement.
pub fn is_ack(body: &str) -> bool {
    let mut reader = NsReader::from_str(body);
    let mut in_ack = false;
    let mut acked = false;
    loop {
        let Ok((ns, event)) = reader.read_resolved_event() else {
            return false;
        };
        let in_ns = |want: &str| matches!(ns, ResolveResult::Bound(Namespace(n)) if n == want);
        match event {
            Event::Start(start) => {
                let local = start.local_name();
                if local.as_ref() == "Fault" && in_ns(SOAP_ENV_NS) {
                    return false;
                }
                in_ack = local.as_ref() == "Ack" && in_ns(OUTBOUND_NS);
            }
            Event::Text(text) if in_ack => {
                let content: &str = text.as_ref();
                acked = content.trim() == "true";
            }
            Event::End(_) => in_ack = false,
            Event::DocType(_) => return false,
            Event::Eof => return acked,
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ACK: &str = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><notificationsResponse xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></notificationsResponse></soapenv:Body></soapenv:Envelope>"#;

    #[test]
    fn ack_must_be_true_in_the_outbound_namespace() {
        assert!(is_ack(ACK));
        assert!(!is_ack(&ACK.replace(">true<", ">false<")));
        assert!(!is_ack(&ACK.replace(OUTBOUND_NS, "urn:other")));
        assert!(!is_ack("<Ack>true</Ack>"));
        assert!(!is_ack("not xml <"));
        assert!(!is_ack(""));
        let fault = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/"><soapenv:Body><soapenv:Fault><faultcode>x</faultcode></soapenv:Fault><n xmlns="http://soap.sforce.com/2005/09/outbound"><Ack>true</Ack></n></soapenv:Body></soapenv:Envelope>"#;
        assert!(!is_ack(fault));
    }

    #[test]
    fn values_are_escaped_and_nils_marked() {
        let header = Header {
            organization_id: "00D000000000001AAA",
            action_id: "04k000000000001AAA",
            session_id: None,
            enterprise_url: "http://x/services/Soap/c/62.0/00D000000000001",
            partner_url: "http://x/services/Soap/u/62.0/00D000000000001",
        };
        let body = render(
            &header,
            &[NotificationBody {
                id: "04l000000000001AAA".into(),
                object: "Lead".into(),
                fields: vec![
                    ("Id".into(), Some("00Q000000000001AAA".into())),
                    ("Company".into(), Some("A & B <\"Co\">".into())),
                    ("Phone".into(), None),
                ],
            }],
        );
        assert!(body.contains("<sf:Company>A &amp; B &lt;&quot;Co&quot;&gt;</sf:Company>"));
        assert!(body.contains("<sf:Phone xsi:nil=\"true\"/>"));
        assert!(body.contains("<SessionId xsi:nil=\"true\"/>"));
    }
}
