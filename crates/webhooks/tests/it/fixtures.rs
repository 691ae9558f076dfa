//! Messages for the tests: the reference sample and make_soap.py-style messages of any size.

/// The sample envelope from the wire reference.
pub const REFERENCE: &str = include_str!("fixtures/reference.xml");

/// The organization id the fixtures use.
pub const ORG: &str = "00Do0000000e0vQEAQ";

/// A message with `n` Lead notifications, as the anchor's make_soap.py writes it.
pub fn make_soap(n: usize) -> String {
    make_soap_for(ORG, 0, n)
}

/// `n` Lead notifications numbered from `first`, for `org`.
pub fn make_soap_for(org: &str, first: usize, n: usize) -> String {
    let notes: String = (first..first + n)
        .map(|i| {
            format!(
                r#"<Notification><Id>04l1N00000HV{i:06}</Id><sObject xsi:type="sf:Lead" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>00Q1N00000bS{i:06}</sf:Id><sf:Company>Company {i} &amp; Sons</sf:Company><sf:Email>lead{i}@example.com</sf:Email><sf:Industry>Healthcare</sf:Industry><sf:LastName>Flores</sf:LastName><sf:Phone xsi:nil="true"/><sf:Status>Open - Not Contacted</sf:Status></sObject></Notification>"#
            )
        })
        .collect();
    envelope(org, &notes)
}

/// An envelope around the given notifications markup.
pub fn envelope(org: &str, notifications: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound"><OrganizationId>{org}</OrganizationId><ActionId>04k1N0000008pXOQAY</ActionId><SessionId xsi:nil="true"/><EnterpriseUrl>https://x.my.salesforce.com/services/Soap/c/62.0/00Do0000000e0vQ</EnterpriseUrl><PartnerUrl>https://x.my.salesforce.com/services/Soap/u/62.0/00Do0000000e0vQ</PartnerUrl>{notifications}</notifications></soapenv:Body></soapenv:Envelope>"#
    )
}
