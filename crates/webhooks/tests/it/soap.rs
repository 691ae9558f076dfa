//! Parsing: the reference sample, make_soap.py messages, custom objects, nil and typed fields,
//! namespace spoofing and every hardening limit.

use std::borrow::Cow;

use proptest::prelude::*;
use webhooks::soap::SObjectFlavor;
use webhooks::{Error, FieldValue, Limits, parse};

use crate::fixtures::{ORG, REFERENCE, envelope, make_soap};

fn parse_ok(xml: &str) -> webhooks::OutboundMessage<'_> {
    parse(xml.as_bytes(), &Limits::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn parse_err(xml: &str) -> Error {
    match parse(xml.as_bytes(), &Limits::default()) {
        Ok(m) => panic!("parsed: {m:?}"),
        Err(e) => e,
    }
}

#[test]
fn reference_sample() {
    let m = parse_ok(REFERENCE);
    assert_eq!(m.organization_id, "00Do0000000e0vQEAQ");
    assert_eq!(m.action_id, "04k1N0000008pXOQAY");
    assert!(m.session_id.is_none());
    assert_eq!(
        m.enterprise_url,
        "https://x.my.salesforce.com/services/Soap/c/62.0/00Do0000000e0vQ"
    );
    assert_eq!(
        m.partner_url,
        "https://x.my.salesforce.com/services/Soap/u/62.0/00Do0000000e0vQ"
    );
    assert_eq!(m.notifications.len(), 1);
    let n = &m.notifications[0];
    assert_eq!(n.id, "04l1N00000HVEMpQAP");
    assert_eq!(n.sobject.object_type, "Lead");
    assert_eq!(n.sobject.flavor, SObjectFlavor::Enterprise);
    assert_eq!(n.sobject.record_id(), Some("00Q1N00000bS2eOUAS"));
    let fields: Vec<(&str, &FieldValue<'_>)> = n
        .sobject
        .fields
        .iter()
        .map(|(k, v)| (k.as_ref(), v))
        .collect();
    assert_eq!(
        fields,
        vec![
            ("Id", &FieldValue::Text("00Q1N00000bS2eOUAS".into())),
            ("Company", &FieldValue::Text("NovoPayment".into())),
            ("LastName", &FieldValue::Text("Flores".into())),
        ]
    );
}

#[test]
fn make_soap_one_and_hundred() {
    for n in [1, 100] {
        let xml = make_soap(n);
        let m = parse_ok(&xml);
        assert_eq!(m.notifications.len(), n);
        for (i, note) in m.notifications.iter().enumerate() {
            assert_eq!(note.id, format!("04l1N00000HV{i:06}"));
            assert_eq!(
                note.sobject.field("Company"),
                Some(&FieldValue::Text(format!("Company {i} & Sons").into()))
            );
            assert_eq!(note.sobject.field("Phone"), Some(&FieldValue::Null));
            assert_eq!(note.sobject.fields.len(), 7);
        }
    }
}

#[test]
fn make_soap_py_output_parses() {
    let m = parse_ok(include_str!("fixtures/make_soap_2.xml"));
    assert_eq!(m.notifications.len(), 2);
    assert_eq!(m.organization_id, ORG);
}

#[test]
fn values_without_entities_borrow_from_the_body() {
    let xml = make_soap(1);
    let m = parse_ok(&xml);
    let sobject = &m.notifications[0].sobject;
    assert!(matches!(sobject.fields[0].0, Cow::Borrowed(_)));
    assert!(matches!(
        sobject.field("Email"),
        Some(FieldValue::Text(Cow::Borrowed(_)))
    ));
}

#[test]
fn custom_object_session_id_and_typed_fields() {
    let note = r#"<Notification><Id>04l1N00000HVEMpQAP</Id><sObject xsi:type="ns1:Invoice__c" xmlns:ns1="urn:sobject.enterprise.soap.sforce.com"><ns1:Id>a0RE000000IJmcNMAT</ns1:Id><ns1:Amount__c xsi:type="xsd:double">12.5</ns1:Amount__c><ns1:Paid__c xsi:type="xsd:boolean">true</ns1:Paid__c><ns1:Lines__c xsi:type="xsd:int">3</ns1:Lines__c><ns1:Due__c xsi:type="xsd:date">2026-01-31</ns1:Due__c><ns1:Note__c><![CDATA[a <b> & c]]>&#x263A;&lt;</ns1:Note__c><ns1:Empty__c/></sObject></Notification>"#;
    let xml = envelope(ORG, note).replace(
        r#"<SessionId xsi:nil="true"/>"#,
        "<SessionId>00Dxx!secret.session</SessionId>",
    );
    let m = parse_ok(&xml);
    let session = m.session_id.as_ref().expect("session id");
    assert_eq!(session.expose_secret(), "00Dxx!secret.session");
    assert!(
        !format!("{m:?}").contains("secret.session"),
        "Debug leaks the session id"
    );
    let s = &m.notifications[0].sobject;
    assert_eq!(s.object_type, "Invoice__c");
    assert_eq!(s.field("Amount__c"), Some(&FieldValue::Float(12.5)));
    assert_eq!(s.field("Paid__c"), Some(&FieldValue::Bool(true)));
    assert_eq!(s.field("Lines__c"), Some(&FieldValue::Int(3)));
    assert_eq!(
        s.field("Due__c"),
        Some(&FieldValue::Text("2026-01-31".into()))
    );
    assert_eq!(
        s.field("Note__c"),
        Some(&FieldValue::Text("a <b> & c☺<".into()))
    );
    assert_eq!(s.field("Empty__c"), Some(&FieldValue::Text("".into())));
}

#[test]
fn partner_namespace_is_accepted() {
    let note = r#"<Notification><Id>04l1N00000HVEMpQAP</Id><sObject xsi:type="sf:Contact" xmlns:sf="urn:sobject.partner.soap.sforce.com"><sf:Id>003000000000001AAA</sf:Id></sObject></Notification>"#;
    let xml = envelope(ORG, note);
    let m = parse_ok(&xml);
    assert_eq!(m.notifications[0].sobject.flavor, SObjectFlavor::Partner);
    assert_eq!(m.notifications[0].sobject.object_type, "Contact");
}

#[test]
fn namespace_spoofing_is_refused() {
    // The right local names, but `notifications` in a look-alike namespace.
    let spoofed = make_soap(1).replace(
        r#"<notifications xmlns="http://soap.sforce.com/2005/09/outbound">"#,
        r#"<notifications xmlns="http://soap.sforce.com/2005/09/outbound/">"#,
    );
    assert!(matches!(
        parse_err(&spoofed),
        Error::UnexpectedElement { .. }
    ));
    // Envelope in another namespace.
    let spoofed = make_soap(1).replace(
        "http://schemas.xmlsoap.org/soap/envelope/",
        "http://www.w3.org/2003/05/soap-envelope",
    );
    assert!(matches!(
        parse_err(&spoofed),
        Error::UnexpectedElement { .. }
    ));
    // A field in a namespace other than its sObject's.
    let note = r#"<Notification><Id>04l1N00000HVEMpQAP</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com" xmlns:x="urn:evil"><x:Id>00Q1N00000bS2eOUAS</x:Id></sObject></Notification>"#;
    assert!(matches!(
        parse_err(&envelope(ORG, note)),
        Error::UnexpectedElement { .. }
    ));
    // xsi:type whose prefix is bound to a foreign namespace.
    let note = r#"<Notification><Id>04l1N00000HVEMpQAP</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:evil"></sObject></Notification>"#;
    assert!(matches!(
        parse_err(&envelope(ORG, note)),
        Error::InvalidValue { .. }
    ));
    // xsi:nil in a foreign namespace is not nil: the element keeps its (empty) text.
    let xml = make_soap(1).replace(
        r#"<sf:Phone xsi:nil="true"/>"#,
        r#"<sf:Phone xmlns:fake="urn:fake" fake:nil="true"/>"#,
    );
    let m = parse_ok(&xml);
    assert_eq!(
        m.notifications[0].sobject.field("Phone"),
        Some(&FieldValue::Text("".into()))
    );
    // An unbound prefix is malformed.
    let xml = make_soap(1)
        .replace("<sf:Status>", "<zz:Status>")
        .replace("</sf:Status>", "</zz:Status>");
    assert!(matches!(parse_err(&xml), Error::MalformedXml(_)));
}

#[test]
fn doctype_and_entities_are_refused() {
    let xxe = r#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>"#
        .to_owned()
        + &make_soap(1)
            .replacen(r#"<?xml version="1.0" encoding="UTF-8"?>"#, "", 1)
            .replace("Flores", "&xxe;");
    assert!(matches!(parse_err(&xxe), Error::DoctypeRefused));
    let laughs = r#"<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]><lolz>&lol2;</lolz>"#;
    assert!(matches!(parse_err(laughs), Error::DoctypeRefused));
    let undeclared = make_soap(1).replace("Flores", "&lol;");
    assert!(matches!(parse_err(&undeclared), Error::UndeclaredEntity(_)));
    let pi = make_soap(1).replace("<soapenv:Body>", "<?php evil?><soapenv:Body>");
    assert!(matches!(
        parse_err(&pi),
        Error::ProcessingInstructionRefused
    ));
}

#[test]
fn limits_are_enforced() {
    let over = make_soap(101);
    assert!(matches!(
        parse_err(&over),
        Error::TooManyNotifications { limit: 100 }
    ));
    let lenient = Limits {
        max_notifications: 1_000,
        ..Limits::default()
    };
    assert!(matches!(
        parse(over.as_bytes(), &lenient),
        Err(Error::TooManyNotifications { limit: 100 })
    ));

    let small = Limits {
        max_body_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        parse(make_soap(1).as_bytes(), &small),
        Err(Error::BodyTooLarge { limit: 100 })
    ));

    let few_fields = Limits {
        max_fields: 3,
        ..Limits::default()
    };
    assert!(matches!(
        parse(make_soap(1).as_bytes(), &few_fields),
        Err(Error::TooManyFields { limit: 3 })
    ));

    let short_values = Limits {
        max_value_bytes: 10,
        ..Limits::default()
    };
    assert!(matches!(
        parse(make_soap(1).as_bytes(), &short_values),
        Err(Error::ValueTooLong { .. })
    ));

    let deep_header = "<a>".repeat(20) + &"</a>".repeat(20);
    let deep = make_soap(1).replace(
        "<soapenv:Body>",
        &format!("<soapenv:Header>{deep_header}</soapenv:Header><soapenv:Body>"),
    );
    assert!(matches!(parse_err(&deep), Error::TooDeep { limit: 16 }));
    let shallow_header = make_soap(1).replace(
        "<soapenv:Body>",
        "<soapenv:Header><a><b/></a></soapenv:Header><soapenv:Body>",
    );
    assert_eq!(parse_ok(&shallow_header).notifications.len(), 1);

    let mut bad_utf8 = make_soap(1).into_bytes();
    let at = bad_utf8.len() - 100;
    bad_utf8[at] = 0xff;
    assert!(matches!(
        parse(&bad_utf8, &Limits::default()),
        Err(Error::InvalidUtf8)
    ));

    let latin1 = make_soap(1).replace("UTF-8", "ISO-8859-1");
    assert!(matches!(parse_err(&latin1), Error::UnsupportedEncoding(_)));
}

#[test]
fn structural_errors_are_typed() {
    assert!(matches!(
        parse_err(&envelope(ORG, "")),
        Error::MissingElement("Notification")
    ));
    assert!(matches!(
        parse_err(&make_soap(1).replace("<ActionId>04k1N0000008pXOQAY</ActionId>", "")),
        Error::MissingElement("ActionId")
    ));
    let twice = make_soap(1).replace(
        "<ActionId>",
        "<ActionId>04k1N0000008pXOQAY</ActionId><ActionId>",
    );
    assert!(matches!(
        parse_err(&twice),
        Error::DuplicateElement("ActionId")
    ));
    assert!(matches!(
        parse_err(&make_soap(1).replace(ORG, "not-an-id")),
        Error::InvalidValue { .. }
    ));
    assert!(matches!(
        parse_err(&make_soap(1).replace("sf:Lead", "sf:Le-ad")),
        Error::InvalidValue { .. }
    ));
    assert!(matches!(
        parse_err(&make_soap(1).replace("</soapenv:Envelope>", "")),
        Error::UnexpectedEof | Error::MalformedXml(_)
    ));
    assert!(matches!(
        parse_err(&make_soap(1).replace("</sf:Email>", "</sf:Emial>")),
        Error::MalformedXml(_)
    ));
    assert!(matches!(
        parse_err(&(make_soap(1) + "<x/>")),
        Error::MalformedXml(_)
    ));
    assert!(matches!(
        parse_err(&make_soap(1).replace("<Notification>", "stray<Notification>")),
        Error::UnexpectedText(_)
    ));
    assert!(matches!(
        parse_err(&make_soap(1).replace("Healthcare", "Health<b/>care")),
        Error::UnexpectedElement { .. }
    ));
    assert!(matches!(parse_err(""), Error::UnexpectedEof));
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let _ = parse(&bytes, &Limits::default());
    }

    #[test]
    fn mutated_messages_never_panic(cut in 0usize..1200, byte in any::<u8>()) {
        let mut xml = make_soap(2).into_bytes();
        let at = cut % xml.len();
        xml[at] = byte;
        let _ = parse(&xml, &Limits::default());
        let _ = parse(&xml[..at], &Limits::default());
    }
}

#[test]
fn fuzz_seed_corpus_stays_meaningful() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/parse_soap");
    let mut parsed = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        match parse(&bytes, &Limits::default()) {
            Ok(_) => parsed += 1,
            Err(error) => assert!(
                path.file_name().is_some_and(|n| n == "doctype.xml")
                    && matches!(error, Error::DoctypeRefused),
                "{}: {error}",
                path.display()
            ),
        }
    }
    assert_eq!(parsed, 4);
}

#[test]
fn a_record_without_data_is_an_empty_sobject() {
    // A record deleted before delivery arrives without field data.
    let note = r#"<Notification><Id>04l1N00000HVEMpQAP</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"/></Notification>"#;
    let xml = envelope(ORG, note);
    let m = parse_ok(&xml);
    let sobject = &m.notifications[0].sobject;
    assert_eq!(sobject.object_type, "Lead");
    assert!(sobject.fields.is_empty());
    assert_eq!(sobject.record_id(), None);
}
