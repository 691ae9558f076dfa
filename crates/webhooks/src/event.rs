//! [`Event`]: one notification, normalised and owned, as it travels through the queue (JSON),
//! and [`dedupe_key`], the identity used for deduplication. [`Event::json_of`] writes the same
//! JSON straight from the parsed message, which the Redis ingest stores without building the
//! owned event (a copy of every name and value) first.

use std::borrow::Cow;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::de::{MapAccess, Visitor};
use serde::ser::SerializeMap;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::{FieldValue, Notification, OutboundMessage};

/// A notification as the rest of the system sees it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Event {
    /// The sending org, as sent (15 or 18 characters).
    pub org_id: String,
    /// The outbound message action.
    pub action_id: String,
    /// The sObject type (`Lead`, `Invoice__c`).
    pub object_type: String,
    /// The record's `Id` field, when the action sent it.
    pub record_id: Option<String>,
    /// The fields in the order Salesforce sent them (a JSON object whose key order is kept).
    #[serde(serialize_with = "ser_fields", deserialize_with = "de_fields")]
    pub fields: Vec<(String, FieldValue<'static>)>,
    /// The notification id (unique per org; the dedupe key with the org).
    pub notification_id: String,
    /// When the intake received the message.
    pub received_at: DateTime<Utc>,
}

impl Event {
    /// The event for one notification of a parsed message.
    pub fn from_notification(
        message: &OutboundMessage<'_>,
        notification: &Notification<'_>,
        received_at: DateTime<Utc>,
    ) -> Self {
        let sobject = &notification.sobject;
        Self {
            org_id: message.organization_id.to_string(),
            action_id: message.action_id.to_string(),
            object_type: sobject.object_type.to_string(),
            record_id: sobject.record_id().map(str::to_owned),
            fields: sobject
                .fields
                .iter()
                .map(|(name, value)| (name.to_string(), value.clone().into_owned()))
                .collect(),
            notification_id: notification.id.to_string(),
            received_at,
        }
    }

    /// All events of a message, in document order.
    pub fn from_message(message: &OutboundMessage<'_>, received_at: DateTime<Utc>) -> Vec<Self> {
        message
            .notifications
            .iter()
            .map(|n| Self::from_notification(message, n, received_at))
            .collect()
    }

    /// The JSON of the event [`from_notification`](Self::from_notification) would build, written
    /// from the borrowed message without copying it.
    ///
    /// # Errors
    /// [`crate::Error::EventEncoding`] (serialising plain strings and numbers does not fail).
    pub fn json_of(
        message: &OutboundMessage<'_>,
        notification: &Notification<'_>,
        received_at: DateTime<Utc>,
    ) -> Result<String, crate::Error> {
        let sobject = &notification.sobject;
        let borrowed = EventRef {
            org_id: &message.organization_id,
            action_id: &message.action_id,
            object_type: &sobject.object_type,
            record_id: sobject.record_id(),
            fields: &sobject.fields,
            notification_id: &notification.id,
            received_at,
        };
        serde_json::to_string(&borrowed).map_err(|e| crate::Error::EventEncoding(e.to_string()))
    }

    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&FieldValue<'static>> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// This event's deduplication key.
    pub fn dedupe_key(&self) -> String {
        dedupe_key(&self.org_id, &self.notification_id)
    }
}

/// The deduplication identity of a notification: the org's 15-character (case-sensitive) form,
/// so that 15- and 18-character spellings of one org agree, and the notification id.
pub fn dedupe_key(org_id: &str, notification_id: &str) -> String {
    let org = org_id.get(..15).unwrap_or(org_id);
    format!("{org}:{notification_id}")
}

/// [`Event`]'s serialised form over borrowed parts: the same fields in the same order, so that
/// both give the same JSON (a test holds them together).
#[derive(Serialize)]
struct EventRef<'e, 'm> {
    org_id: &'e str,
    action_id: &'e str,
    object_type: &'e str,
    record_id: Option<&'e str>,
    #[serde(serialize_with = "ser_fields")]
    fields: &'e [(Cow<'m, str>, FieldValue<'m>)],
    notification_id: &'e str,
    received_at: DateTime<Utc>,
}

fn ser_fields<S: Serializer, K: AsRef<str>>(
    fields: &[(K, FieldValue<'_>)],
    serializer: S,
) -> Result<S::Ok, S::Error> {
    let mut map = serializer.serialize_map(Some(fields.len()))?;
    for (name, value) in fields {
        map.serialize_entry(name.as_ref(), value)?;
    }
    map.end()
}

fn de_fields<'de, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<Vec<(String, FieldValue<'static>)>, D::Error> {
    struct Ordered;
    impl<'de> Visitor<'de> for Ordered {
        type Value = Vec<(String, FieldValue<'static>)>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("an object of fields")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            // The size hint comes from the input: cap it so that it cannot reserve unbounded memory.
            let mut fields = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
            while let Some(entry) = map.next_entry()? {
                fields.push(entry);
            }
            Ok(fields)
        }
    }
    deserializer.deserialize_map(Ordered)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_keeps_field_order() {
        let event = Event {
            org_id: "00Do0000000e0vQEAQ".into(),
            action_id: "04k1N0000008pXOQAY".into(),
            object_type: "Lead".into(),
            record_id: Some("00Q1N00000bS2eOUAS".into()),
            fields: vec![
                ("Zeta".into(), FieldValue::Text("z".into())),
                ("Alpha".into(), FieldValue::Null),
            ],
            notification_id: "04l1N00000HVEMpQAP".into(),
            received_at: DateTime::from_timestamp(1_700_000_000, 0).unwrap(),
        };
        let json = serde_json::to_string(&event).unwrap();
        assert!(
            json.contains(r#""fields":{"Zeta":"z","Alpha":null}"#),
            "{json}"
        );
        let back: Event = serde_json::from_str(&json).unwrap();
        assert_eq!(back, event);
    }

    /// The borrowed encoding and the owned event's JSON are the same bytes, for every kind of
    /// value (text with an entity, nil, typed numbers and booleans, a missing record id).
    #[test]
    fn json_of_matches_the_owned_event() {
        let xml = r#"<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>00Do0000000e0vQEAQ</OrganizationId><ActionId>04k1N0000008pXOQAY</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://x/c</EnterpriseUrl><PartnerUrl>https://x/u</PartnerUrl><Notification><Id>04l1N00000HVEMpQAP</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q1N00000bS2eOUAS</sf:Id><sf:Company>A &amp; "B" é</sf:Company><sf:Phone xsi:nil="true"/><sf:Score xsi:type="xsd:int">42</sf:Score><sf:Ratio xsi:type="xsd:double">0.5</sf:Ratio><sf:Hot xsi:type="xsd:boolean">true</sf:Hot></sObject></Notification><Notification><Id>04l1N00000HVEMqQAP</Id><sObject xsi:type="sf:Account" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Name>Acme</sf:Name></sObject></Notification></notifications></soapenv:Body></soapenv:Envelope>"#;
        let message = crate::parse(xml.as_bytes(), &crate::Limits::default()).unwrap();
        let at = DateTime::from_timestamp(1_700_000_000, 123_456_789).unwrap();
        for notification in &message.notifications {
            let owned = Event::from_notification(&message, notification, at);
            assert_eq!(
                Event::json_of(&message, notification, at).unwrap(),
                serde_json::to_string(&owned).unwrap()
            );
        }
        assert_eq!(message.notifications.len(), 2);
    }

    #[test]
    fn dedupe_key_uses_the_15_character_org() {
        assert_eq!(
            dedupe_key("00Do0000000e0vQEAQ", "04l1N00000HVEMpQAP"),
            dedupe_key("00Do0000000e0vQ", "04l1N00000HVEMpQAP")
        );
    }
}
