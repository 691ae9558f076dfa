//! [`Scopes`]: the namespace bindings in scope while the envelope is read, each resolved to an
//! [`Ns`] once, when it is declared.
//!
//! quick-xml's `NsReader` keeps every declared URI as text and hands back the URI of each
//! element, which the parser then had to compare with each namespace it knows: a URI comparison
//! per element and an allocation per parse. Here a binding is (prefix, [`Ns`], level), borrowed
//! from the body, so resolving a name is a short prefix comparison on a stack a few entries deep.
//! The rules are the same as `NsReader`'s (Namespaces in XML 1.0): the `xml` and `xmlns`
//! prefixes are built in and cannot be rebound, an empty URI undeclares, the default namespace
//! applies to element names only, an unbound prefix is an error.

use super::{
    ENTERPRISE_SOBJECT_NS, OUTBOUND_NS, PARTNER_SOBJECT_NS, SOAP_ENVELOPE_NS, XSD_NS, XSI_NS,
};
use crate::Error;
use crate::error::quote;

/// The namespaces the parser tells apart; everything else is [`Ns::Other`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Ns {
    SoapEnvelope,
    Outbound,
    Xsi,
    Xsd,
    Enterprise,
    Partner,
    None,
    Other,
}

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

impl Ns {
    /// The namespace a (non-empty) URI names.
    fn of_uri(uri: &str) -> Self {
        match uri {
            SOAP_ENVELOPE_NS => Self::SoapEnvelope,
            OUTBOUND_NS => Self::Outbound,
            XSI_NS => Self::Xsi,
            XSD_NS => Self::Xsd,
            ENTERPRISE_SOBJECT_NS => Self::Enterprise,
            PARTNER_SOBJECT_NS => Self::Partner,
            _ => Self::Other,
        }
    }

    pub(super) fn uri(self) -> &'static str {
        match self {
            Self::SoapEnvelope => SOAP_ENVELOPE_NS,
            Self::Outbound => OUTBOUND_NS,
            Self::Xsi => XSI_NS,
            Self::Xsd => XSD_NS,
            Self::Enterprise => ENTERPRISE_SOBJECT_NS,
            Self::Partner => PARTNER_SOBJECT_NS,
            Self::None => "",
            Self::Other => "other",
        }
    }
}

/// Most bindings in scope at once (quick-xml's default bound too): resolution scans them, so an
/// unbounded stack would make a hostile message quadratic.
const MAX_BINDINGS: usize = 128;

#[derive(Debug, Clone, Copy)]
struct Binding<'a> {
    /// `""` for the default namespace.
    prefix: &'a str,
    /// `None`: undeclared (`xmlns=""`).
    ns: Option<Ns>,
    /// The element level that declared it.
    level: usize,
}

/// The stack of bindings in scope.
#[derive(Debug, Default)]
pub(super) struct Scopes<'a> {
    bindings: Vec<Binding<'a>>,
}

impl<'a> Scopes<'a> {
    /// Declares a binding from an `xmlns` / `xmlns:prefix` attribute (`prefix` is `""` for the
    /// default namespace) on an element at `level`.
    pub fn declare(&mut self, prefix: &'a str, uri: &str, level: usize) -> Result<(), Error> {
        let refused =
            |what: &str| Err(Error::MalformedXml(format!("namespace declaration {what}")));
        match prefix {
            "xml" if uri == XML_NS => return Ok(()),
            "xml" => return refused("rebinds the xml prefix"),
            "xmlns" => return refused("binds the xmlns prefix"),
            _ if uri == XML_NS || uri == XMLNS_NS => return refused("uses a reserved namespace"),
            _ => {}
        }
        if !prefix.is_empty() && uri.is_empty() {
            // `xmlns:p=""` is not allowed in XML 1.0.
            return refused("undeclares a prefix");
        }
        if self.bindings.len() >= MAX_BINDINGS {
            return refused("limit reached (too many in scope)");
        }
        let ns = (!uri.is_empty()).then(|| Ns::of_uri(uri));
        self.bindings.push(Binding { prefix, ns, level });
        Ok(())
    }

    /// Ends the scopes deeper than `level`.
    pub fn close(&mut self, level: usize) {
        while self.bindings.last().is_some_and(|b| b.level > level) {
            self.bindings.pop();
        }
    }

    /// The namespace of an element name (`prefix:local` or `local`, which takes the default
    /// namespace) and its local part.
    pub fn element<'n>(&self, name: &'n str) -> Result<(Ns, &'n str), Error> {
        match name.split_once(':') {
            Some((prefix, local)) => Ok((self.prefixed(prefix)?, local)),
            None => Ok((self.lookup("").flatten().unwrap_or(Ns::None), name)),
        }
    }

    /// The namespace of an attribute name (an unprefixed attribute is in no namespace) and its
    /// local part.
    pub fn attribute<'n>(&self, name: &'n str) -> Result<(Ns, &'n str), Error> {
        match name.split_once(':') {
            Some((prefix, local)) => Ok((self.prefixed(prefix)?, local)),
            None => Ok((Ns::None, name)),
        }
    }

    fn prefixed(&self, prefix: &str) -> Result<Ns, Error> {
        match prefix {
            "xml" | "xmlns" => Ok(Ns::Other),
            _ => self.lookup(prefix).flatten().ok_or_else(|| {
                Error::MalformedXml(format!("unbound namespace prefix {:?}", quote(prefix)))
            }),
        }
    }

    fn lookup(&self, prefix: &str) -> Option<Option<Ns>> {
        self.bindings
            .iter()
            .rev()
            .find(|b| b.prefix == prefix)
            .map(|b| b.ns)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use quick_xml::events::Event;
    use quick_xml::name::ResolveResult;
    use quick_xml::reader::NsReader;

    use super::*;

    fn ns_of(result: &ResolveResult<'_>) -> Option<Ns> {
        match result {
            ResolveResult::Unbound => Some(Ns::None),
            ResolveResult::Unknown(_) => None,
            ResolveResult::Bound(ns) => Some(Ns::of_uri(ns.into_inner())),
        }
    }

    /// Resolves every element and attribute name of `xml` with quick-xml's `NsReader` (the
    /// reference) and with [`Scopes`]; `None` at the first error, so errors must agree too.
    fn both(xml: &str) -> (Vec<Option<Ns>>, Vec<Option<Ns>>) {
        let mut reference = Vec::new();
        let mut reader = NsReader::from_str(xml);
        loop {
            match reader.read_event() {
                Ok(Event::Start(start) | Event::Empty(start)) => {
                    let (ns, _) = reader.resolver().resolve_element(start.name());
                    reference.push(ns_of(&ns));
                    for attribute in start.attributes().flatten() {
                        if attribute.key.as_namespace_binding().is_none() {
                            let (ns, _) = reader.resolver().resolve_attribute(attribute.key);
                            reference.push(ns_of(&ns));
                        }
                    }
                }
                Ok(Event::Eof) => break,
                Ok(_) => {}
                Err(_) => {
                    reference.push(None);
                    break;
                }
            }
        }
        let mut ours = Vec::new();
        let mut reader = quick_xml::Reader::from_str(xml);
        let mut scopes = Scopes::default();
        let mut level = 0;
        'events: loop {
            let (start, empty) = match reader.read_event() {
                Ok(Event::Start(start)) => (start, false),
                Ok(Event::Empty(start)) => (start, true),
                Ok(Event::End(_)) => {
                    level -= 1;
                    scopes.close(level);
                    continue;
                }
                Ok(Event::Eof) => break,
                Ok(_) => continue,
                Err(_) => {
                    ours.push(None);
                    break;
                }
            };
            level += 1;
            for attribute in start.attributes().flatten() {
                let key = attribute.key.into_inner();
                let prefix = match key.strip_prefix("xmlns") {
                    Some("") => "",
                    Some(rest) if rest.starts_with(':') => &rest[1..],
                    _ => continue,
                };
                if scopes
                    .declare(within(xml, prefix), &attribute.value, level)
                    .is_err()
                {
                    ours.push(None);
                    break 'events;
                }
            }
            ours.push(scopes.element(start.name().into_inner()).ok().map(|r| r.0));
            for attribute in start.attributes().flatten() {
                if attribute.key.as_namespace_binding().is_none() {
                    ours.push(
                        scopes
                            .attribute(attribute.key.into_inner())
                            .ok()
                            .map(|r| r.0),
                    );
                }
            }
            if empty {
                level -= 1;
                scopes.close(level);
            }
        }
        (reference, ours)
    }

    /// `part` (a slice of `xml` that quick-xml handed out) with the lifetime of `xml`.
    fn within<'a>(xml: &'a str, part: &str) -> &'a str {
        if part.is_empty() {
            return "";
        }
        let at = part.as_ptr() as usize - xml.as_ptr() as usize;
        &xml[at..at + part.len()]
    }

    fn cut_at_first_error(mut v: Vec<Option<Ns>>) -> Vec<Option<Ns>> {
        if let Some(at) = v.iter().position(Option::is_none) {
            v.truncate(at + 1);
        }
        v
    }

    #[test]
    fn agrees_with_quick_xml_on_the_usual_shapes() {
        for xml in [
            r#"<s:E xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:B><n xmlns="http://soap.sforce.com/2005/09/outbound"><x/><sf:L xmlns:sf="urn:sobject.enterprise.soap.sforce.com" xsi:type="sf:Lead" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/></n><n/></s:B></s:E>"#,
            r#"<a xmlns="urn:x"><b xmlns=""><c/></b><d/></a>"#,
            r#"<a xml:lang="en"><xml:b/></a>"#,
            r#"<a><p:b/></a>"#,
            r#"<a xmlns:p="urn:p"><p:b xmlns:p="http://www.w3.org/2001/XMLSchema"/><p:c/></a>"#,
        ] {
            let (reference, ours) = both(xml);
            assert_eq!(
                cut_at_first_error(ours),
                cut_at_first_error(reference),
                "{xml}"
            );
        }
    }

    #[test]
    fn reserved_declarations_are_refused() {
        let mut scopes = Scopes::default();
        assert!(scopes.declare("xml", XML_NS, 1).is_ok());
        assert!(scopes.declare("xml", "urn:x", 1).is_err());
        assert!(scopes.declare("xmlns", "urn:x", 1).is_err());
        assert!(scopes.declare("p", XMLNS_NS, 1).is_err());
        assert!(scopes.declare("", XML_NS, 1).is_err());
        assert!(scopes.declare("p", "", 1).is_err());
        for n in 0..MAX_BINDINGS {
            assert!(scopes.declare("p", "urn:x", n).is_ok());
        }
        assert!(scopes.declare("p", "urn:x", 1).is_err(), "bounded");
    }

    proptest! {
        /// Random nestings of a few prefixes, declarations and undeclarations resolve as
        /// quick-xml resolves them.
        #[test]
        fn agrees_with_quick_xml(
            steps in proptest::collection::vec((0u8..6, 0u8..4, 0u8..4, 0u8..3), 1..24)
        ) {
            let prefixes = ["", "a", "b", "xsi"];
            let uris = [OUTBOUND_NS, XSI_NS, "urn:other", ""];
            let mut xml = String::new();
            let mut open = Vec::new();
            for (action, p, u, name) in steps {
                let prefix = prefixes[usize::from(p)];
                let qname = |local: &str| {
                    if prefix.is_empty() { local.to_owned() } else { format!("{prefix}:{local}") }
                };
                match action {
                    0 | 1 => {
                        let element = qname(["e", "f", "g"][usize::from(name)]);
                        let decl = match (prefix, uris[usize::from(u)]) {
                            ("", uri) => format!(r#" xmlns="{uri}""#),
                            (_, "") => String::new(),
                            (p, uri) => format!(r#" xmlns:{p}="{uri}""#),
                        };
                        let attr = if action == 1 { format!(r#" {}="1""#, qname("nil")) } else { String::new() };
                        xml.push_str(&format!("<{element}{decl}{attr}>"));
                        open.push(element);
                    }
                    2 => xml.push_str(&format!("<{}/>", qname("z"))),
                    _ => {
                        if let Some(element) = open.pop() {
                            xml.push_str(&format!("</{element}>"));
                        }
                    }
                }
            }
            while let Some(element) = open.pop() {
                xml.push_str(&format!("</{element}>"));
            }
            let (reference, ours) = both(&xml);
            prop_assert_eq!(cut_at_first_error(ours), cut_at_first_error(reference), "{}", xml);
        }
    }
}
