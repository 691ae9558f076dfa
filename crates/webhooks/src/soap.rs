//! The outbound-message envelope: its parsed form ([`OutboundMessage`]) and [`parse`].
//!
//! Parsing is namespace-aware: every element is matched on its namespace *and* local name, so
//! `<OrganizationId>` in a foreign namespace is refused like any other unexpected element. The
//! parser borrows from the body: field names and values without entity references are slices of
//! the input, so a typical message allocates little beyond its vectors.
//!
//! Field values are typed only where the XML itself says so (an `xsi:type` of an XML Schema
//! numeric or boolean type); everything else, including what Salesforce sends for numbers and
//! dates in practice (untyped text), stays a string: guessing types from text would turn a
//! phone number or a zip code into a number. Consumers that know the schema convert further.

mod cursor;
mod limits;
mod namespaces;
mod session_id;
mod value;

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

pub use limits::Limits;
pub use session_id::SessionId;
pub use value::FieldValue;

use crate::Error;
use cursor::{Cursor, Ns, Open};

/// The SOAP 1.1 envelope namespace.
pub const SOAP_ENVELOPE_NS: &str = "http://schemas.xmlsoap.org/soap/envelope/";
/// The namespace of the `notifications` element and its children.
pub const OUTBOUND_NS: &str = "http://soap.sforce.com/2005/09/outbound";
/// The XML Schema instance namespace (`xsi:type`, `xsi:nil`).
pub const XSI_NS: &str = "http://www.w3.org/2001/XMLSchema-instance";
/// The XML Schema namespace (types named by `xsi:type` on field values).
pub const XSD_NS: &str = "http://www.w3.org/2001/XMLSchema";
/// The namespace of sObjects in the enterprise WSDL (what outbound messages use).
pub const ENTERPRISE_SOBJECT_NS: &str = "urn:sobject.enterprise.soap.sforce.com";
/// The namespace of sObjects in the partner WSDL.
pub const PARTNER_SOBJECT_NS: &str = "urn:sobject.partner.soap.sforce.com";

/// One outbound message: the envelope's header fields and its notifications.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboundMessage<'a> {
    /// The sending org's id, as sent (15 or 18 characters).
    pub organization_id: Cow<'a, str>,
    /// The outbound message action's id.
    pub action_id: Cow<'a, str>,
    /// The session id, when the action sends one (`xsi:nil` otherwise).
    pub session_id: Option<SessionId>,
    /// The enterprise SOAP endpoint of the org.
    pub enterprise_url: Cow<'a, str>,
    /// The partner SOAP endpoint of the org.
    pub partner_url: Cow<'a, str>,
    /// The notifications, in document order (1 to 100).
    pub notifications: Vec<Notification<'a>>,
}

/// One notification: a record as the action saw it.
#[derive(Debug, Clone, PartialEq)]
pub struct Notification<'a> {
    /// The notification's id, the key for deduplication (with the organization id).
    pub id: Cow<'a, str>,
    /// The record.
    pub sobject: SObject<'a>,
}

/// Which WSDL's sObject namespace a record was sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SObjectFlavor {
    /// `urn:sobject.enterprise.soap.sforce.com`.
    Enterprise,
    /// `urn:sobject.partner.soap.sforce.com`.
    Partner,
}

/// A record: its type (`Lead`, `Invoice__c`) and its fields in document order.
#[derive(Debug, Clone, PartialEq)]
pub struct SObject<'a> {
    /// The object's API name, from `xsi:type` (the prefix resolved, then dropped).
    pub object_type: Cow<'a, str>,
    /// The namespace the type and fields were in.
    pub flavor: SObjectFlavor,
    /// The fields the action selected, in document order; `xsi:nil` ones as [`FieldValue::Null`].
    pub fields: Vec<(Cow<'a, str>, FieldValue<'a>)>,
}

impl SObject<'_> {
    /// The first field with this name.
    pub fn field(&self, name: &str) -> Option<&FieldValue<'_>> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, v)| v)
    }

    /// The record id (the `Id` field), when the action sent it as text.
    pub fn record_id(&self) -> Option<&str> {
        match self.field("Id") {
            Some(FieldValue::Text(id)) => Some(id),
            _ => None,
        }
    }
}

/// Parses an outbound message with the given limits.
///
/// # Errors
/// [`Error::BodyTooLarge`], [`Error::InvalidUtf8`], [`Error::DoctypeRefused`] and the other
/// parse errors, each saying what was wrong; never a panic.
pub fn parse<'a>(body: &'a [u8], limits: &Limits) -> Result<OutboundMessage<'a>, Error> {
    if body.len() > limits.max_body_bytes {
        return Err(Error::BodyTooLarge {
            limit: limits.max_body_bytes,
        });
    }
    let text = std::str::from_utf8(body).map_err(|_| Error::InvalidUtf8)?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut cursor = Cursor::new(text, limits);
    let envelope = cursor.expect_open("document")?;
    if envelope.ns != Ns::SoapEnvelope || envelope.local != "Envelope" {
        return Err(envelope.unexpected("document"));
    }
    if envelope.empty {
        return Err(Error::MissingElement("soapenv:Body"));
    }
    let message = parse_envelope(&mut cursor)?;
    cursor.epilog()?;
    Ok(message)
}

fn parse_envelope<'a>(cursor: &mut Cursor<'a, '_>) -> Result<OutboundMessage<'a>, Error> {
    const WHERE: &str = "soapenv:Envelope";
    let mut message = None;
    let mut seen_header = false;
    while let Some(open) = cursor.next_child(WHERE)? {
        match (open.ns, open.local) {
            (Ns::SoapEnvelope, "Header") if !seen_header && message.is_none() => {
                seen_header = true;
                if !open.empty {
                    cursor.skip_element()?;
                }
            }
            (Ns::SoapEnvelope, "Body") if message.is_none() => {
                if open.empty {
                    return Err(Error::MissingElement("notifications"));
                }
                message = Some(parse_body(cursor)?);
            }
            _ => return Err(open.unexpected(WHERE)),
        }
    }
    message.ok_or(Error::MissingElement("soapenv:Body"))
}

fn parse_body<'a>(cursor: &mut Cursor<'a, '_>) -> Result<OutboundMessage<'a>, Error> {
    const WHERE: &str = "soapenv:Body";
    let mut message = None;
    while let Some(open) = cursor.next_child(WHERE)? {
        match (open.ns, open.local) {
            (Ns::Outbound, "notifications") if message.is_none() => {
                if open.empty {
                    return Err(Error::MissingElement("OrganizationId"));
                }
                message = Some(parse_notifications(cursor)?);
            }
            _ => return Err(open.unexpected(WHERE)),
        }
    }
    message.ok_or(Error::MissingElement("notifications"))
}

fn set_once<T>(slot: &mut Option<T>, value: T, name: &'static str) -> Result<(), Error> {
    if slot.is_some() {
        return Err(Error::DuplicateElement(name));
    }
    *slot = Some(value);
    Ok(())
}

fn parse_notifications<'a>(cursor: &mut Cursor<'a, '_>) -> Result<OutboundMessage<'a>, Error> {
    const WHERE: &str = "notifications";
    let limit = cursor.limits().notification_limit();
    let mut organization_id = None;
    let mut action_id = None;
    let mut session_id: Option<Option<SessionId>> = None;
    let mut enterprise_url = None;
    let mut partner_url = None;
    let mut notifications = Vec::new();
    while let Some(open) = cursor.next_child(WHERE)? {
        if open.ns != Ns::Outbound {
            return Err(open.unexpected(WHERE));
        }
        match open.local {
            "OrganizationId" => {
                let id = salesforce_id(cursor.text_of(&open, "OrganizationId")?, "OrganizationId")?;
                set_once(&mut organization_id, id, "OrganizationId")?;
            }
            "ActionId" => {
                let id = salesforce_id(cursor.text_of(&open, "ActionId")?, "ActionId")?;
                set_once(&mut action_id, id, "ActionId")?;
            }
            "SessionId" => {
                let value = cursor
                    .nillable_text_of(&open, "SessionId")?
                    .map(|text| SessionId::new(text.into_owned()));
                set_once(&mut session_id, value, "SessionId")?;
            }
            "EnterpriseUrl" => {
                let url = cursor.text_of(&open, "EnterpriseUrl")?;
                set_once(&mut enterprise_url, url, "EnterpriseUrl")?;
            }
            "PartnerUrl" => {
                let url = cursor.text_of(&open, "PartnerUrl")?;
                set_once(&mut partner_url, url, "PartnerUrl")?;
            }
            "Notification" => {
                if notifications.len() >= limit {
                    return Err(Error::TooManyNotifications { limit });
                }
                if open.empty {
                    return Err(Error::MissingElement("Notification/Id"));
                }
                notifications.push(parse_notification(cursor)?);
            }
            _ => return Err(open.unexpected(WHERE)),
        }
    }
    if notifications.is_empty() {
        return Err(Error::MissingElement("Notification"));
    }
    Ok(OutboundMessage {
        organization_id: organization_id.ok_or(Error::MissingElement("OrganizationId"))?,
        action_id: action_id.ok_or(Error::MissingElement("ActionId"))?,
        session_id: session_id.flatten(),
        enterprise_url: enterprise_url.ok_or(Error::MissingElement("EnterpriseUrl"))?,
        partner_url: partner_url.ok_or(Error::MissingElement("PartnerUrl"))?,
        notifications,
    })
}

fn parse_notification<'a>(cursor: &mut Cursor<'a, '_>) -> Result<Notification<'a>, Error> {
    const WHERE: &str = "Notification";
    let mut id = None;
    let mut sobject = None;
    while let Some(open) = cursor.next_child(WHERE)? {
        match (open.ns, open.local) {
            (Ns::Outbound, "Id") => {
                let value = salesforce_id(cursor.text_of(&open, "Notification/Id")?, "Id")?;
                set_once(&mut id, value, "Notification/Id")?;
            }
            (Ns::Outbound, "sObject") => {
                let record = parse_sobject(cursor, &open)?;
                set_once(&mut sobject, record, "sObject")?;
            }
            _ => return Err(open.unexpected(WHERE)),
        }
    }
    Ok(Notification {
        id: id.ok_or(Error::MissingElement("Notification/Id"))?,
        sobject: sobject.ok_or(Error::MissingElement("sObject"))?,
    })
}

fn parse_sobject<'a>(cursor: &mut Cursor<'a, '_>, open: &Open<'a>) -> Result<SObject<'a>, Error> {
    const WHERE: &str = "sObject";
    let (flavor, object_type) = match &open.xsi_type {
        Some((Ns::Enterprise, name)) => (SObjectFlavor::Enterprise, name.clone()),
        Some((Ns::Partner, name)) => (SObjectFlavor::Partner, name.clone()),
        Some(_) => {
            return Err(Error::InvalidValue {
                element: "sObject",
                reason: "xsi:type is not in an sObject namespace".to_owned(),
            });
        }
        None => return Err(Error::MissingElement("sObject/@xsi:type")),
    };
    if object_type == "sObject" && flavor == SObjectFlavor::Partner {
        return Err(Error::InvalidValue {
            element: "sObject",
            reason: "partner sObjects must name their type".to_owned(),
        });
    }
    api_name(&object_type, "sObject")?;
    let field_ns = match flavor {
        SObjectFlavor::Enterprise => Ns::Enterprise,
        SObjectFlavor::Partner => Ns::Partner,
    };
    let limit = cursor.limits().max_fields;
    let mut fields = Vec::with_capacity(16);
    if !open.empty {
        while let Some(field) = cursor.next_child(WHERE)? {
            if field.ns != field_ns {
                return Err(field.unexpected(WHERE));
            }
            if fields.len() >= limit {
                return Err(Error::TooManyFields { limit });
            }
            api_name(field.local, "sObject field")?;
            let value = cursor.field_value(&field)?;
            fields.push((Cow::Borrowed(field.local), value));
        }
    }
    Ok(SObject {
        object_type,
        flavor,
        fields,
    })
}

/// A Salesforce id: 15 or 18 ASCII letters and digits.
fn salesforce_id<'a>(text: Cow<'a, str>, element: &'static str) -> Result<Cow<'a, str>, Error> {
    let trimmed_len = text.trim().len();
    let text = if trimmed_len == text.len() {
        text
    } else {
        Cow::Owned(text.trim().to_owned())
    };
    let valid = matches!(text.len(), 15 | 18) && text.bytes().all(|b| b.is_ascii_alphanumeric());
    if valid {
        Ok(text)
    } else {
        Err(Error::InvalidValue {
            element,
            reason: "not a 15- or 18-character Salesforce id".to_owned(),
        })
    }
}

/// An object or field API name: a letter, then letters, digits and underscores (`Invoice__c`,
/// `ns__Field__c`), at most 80 characters.
fn api_name(name: &str, element: &'static str) -> Result<(), Error> {
    let mut bytes = name.bytes();
    let valid = name.len() <= 80
        && bytes.next().is_some_and(|b| b.is_ascii_alphabetic())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'_');
    if valid {
        Ok(())
    } else {
        Err(Error::InvalidValue {
            element,
            reason: format!("{:?} is not an API name", crate::error::quote(name)),
        })
    }
}
