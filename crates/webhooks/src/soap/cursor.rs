//! The event cursor under the envelope parser: a namespace-aware quick-xml reader over the
//! body that refuses DTDs and processing instructions, tracks depth, resolves each element to a
//! known namespace, and collects text values within the limits.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::name::{QName, ResolveResult};
use quick_xml::reader::NsReader;

use super::value::{FieldValue, typed};
use super::{
    ENTERPRISE_SOBJECT_NS, Limits, OUTBOUND_NS, PARTNER_SOBJECT_NS, SOAP_ENVELOPE_NS, XSD_NS,
    XSI_NS,
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

impl Ns {
    fn of(result: &ResolveResult<'_>) -> Result<Self, Error> {
        match result {
            ResolveResult::Unbound => Ok(Self::None),
            ResolveResult::Unknown(prefix) => Err(Error::MalformedXml(format!(
                "unbound namespace prefix {:?}",
                quote(prefix)
            ))),
            ResolveResult::Bound(ns) => Ok(match ns.into_inner() {
                SOAP_ENVELOPE_NS => Self::SoapEnvelope,
                OUTBOUND_NS => Self::Outbound,
                XSI_NS => Self::Xsi,
                XSD_NS => Self::Xsd,
                ENTERPRISE_SOBJECT_NS => Self::Enterprise,
                PARTNER_SOBJECT_NS => Self::Partner,
                _ => Self::Other,
            }),
        }
    }

    fn uri(self) -> &'static str {
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

/// An element just opened: its resolved name and the `xsi:` attributes the parser uses.
#[derive(Debug)]
pub(super) struct Open<'a> {
    pub ns: Ns,
    pub local: Cow<'a, str>,
    /// `<x/>`: no content and no end tag follows.
    pub empty: bool,
    pub xsi_nil: bool,
    /// `xsi:type`, its prefix resolved.
    pub xsi_type: Option<(Ns, Cow<'a, str>)>,
}

impl Open<'_> {
    pub fn unexpected(&self, parent: &'static str) -> Error {
        Error::UnexpectedElement {
            namespace: self.ns.uri().to_owned(),
            name: quote(&self.local),
            parent,
        }
    }
}

pub(super) struct Cursor<'a, 'l> {
    input: &'a str,
    reader: NsReader<&'a [u8]>,
    limits: &'l Limits,
    depth: usize,
}

fn xml_error(error: impl std::fmt::Display) -> Error {
    Error::MalformedXml(quote(&error.to_string()))
}

/// The slice of `input` that `part` is, when it is one (quick-xml hands out borrowed slices of
/// the input for names); a copy otherwise.
fn reborrow<'a>(input: &'a str, part: &str) -> Cow<'a, str> {
    let start = (part.as_ptr() as usize).wrapping_sub(input.as_ptr() as usize);
    match input.get(start..start.wrapping_add(part.len())) {
        Some(slice) if std::ptr::eq(slice.as_ptr(), part.as_ptr()) => Cow::Borrowed(slice),
        _ => Cow::Owned(part.to_owned()),
    }
}

fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

impl<'a, 'l> Cursor<'a, 'l> {
    pub fn new(input: &'a str, limits: &'l Limits) -> Self {
        let mut reader = NsReader::from_str(input);
        let config = reader.config_mut();
        config.check_end_names = true;
        config.allow_dangling_amp = false;
        config.allow_unmatched_ends = false;
        config.expand_empty_elements = false;
        Self {
            input,
            reader,
            limits,
            depth: 0,
        }
    }

    pub fn limits(&self) -> &'l Limits {
        self.limits
    }

    /// Reads up to the root element: an optional UTF-8 XML declaration, comments and blanks.
    pub fn expect_open(&mut self, parent: &'static str) -> Result<Open<'a>, Error> {
        let mut first = true;
        loop {
            let (ns, event) = self.reader.read_resolved_event().map_err(xml_error)?;
            let ns = match &event {
                Event::Start(_) | Event::Empty(_) => Ns::of(&ns)?,
                _ => Ns::None,
            };
            match event {
                Event::Decl(decl) if first => {
                    if let Some(encoding) = decl.encoding() {
                        let encoding = encoding.map_err(xml_error)?;
                        if !encoding.eq_ignore_ascii_case("utf-8")
                            && !encoding.eq_ignore_ascii_case("utf8")
                        {
                            return Err(Error::UnsupportedEncoding(quote(&encoding)));
                        }
                    }
                }
                Event::Start(start) => return self.open(ns, &start, false),
                Event::Empty(start) => return self.open(ns, &start, true),
                event => self.ignorable(event, parent)?,
            }
            first = false;
        }
    }

    /// After the root element: nothing but comments and blanks may follow.
    pub fn epilog(&mut self) -> Result<(), Error> {
        loop {
            match self.reader.read_event().map_err(xml_error)? {
                Event::Eof => return Ok(()),
                Event::Start(_) | Event::Empty(_) => {
                    return Err(Error::MalformedXml("content after the envelope".to_owned()));
                }
                event => self.ignorable(event, "document")?,
            }
        }
    }

    /// The next child element of the element being read, or `None` at its end tag.
    pub fn next_child(&mut self, parent: &'static str) -> Result<Option<Open<'a>>, Error> {
        loop {
            let (ns, event) = self.reader.read_resolved_event().map_err(xml_error)?;
            let ns = match &event {
                Event::Start(_) | Event::Empty(_) => Ns::of(&ns)?,
                _ => Ns::None,
            };
            match event {
                Event::Start(start) => return self.open(ns, &start, false).map(Some),
                Event::Empty(start) => return self.open(ns, &start, true).map(Some),
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(None);
                }
                event => self.ignorable(event, parent)?,
            }
        }
    }

    /// Skips the content of the element just opened (a SOAP header), within the depth limit.
    pub fn skip_element(&mut self) -> Result<(), Error> {
        let until = self.depth.saturating_sub(1);
        loop {
            match self.reader.read_event().map_err(xml_error)? {
                Event::Start(_) => self.enter()?,
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    if self.depth == until {
                        return Ok(());
                    }
                }
                Event::Empty(_)
                | Event::Text(_)
                | Event::CData(_)
                | Event::Comment(_)
                | Event::GeneralRef(_) => {}
                event => self.ignorable(event, "soapenv:Header")?,
            }
        }
    }

    /// The text of a required, non-nil element.
    pub fn text_of(
        &mut self,
        open: &Open<'a>,
        element: &'static str,
    ) -> Result<Cow<'a, str>, Error> {
        if open.xsi_nil {
            return Err(Error::InvalidValue {
                element,
                reason: "must not be nil".to_owned(),
            });
        }
        self.content(open, element)
    }

    /// The text of a nillable element, `None` when `xsi:nil="true"`.
    pub fn nillable_text_of(
        &mut self,
        open: &Open<'a>,
        element: &'static str,
    ) -> Result<Option<Cow<'a, str>>, Error> {
        let text = self.content(open, element)?;
        if open.xsi_nil {
            if !text.is_empty() {
                return Err(Error::InvalidValue {
                    element,
                    reason: "nil element with content".to_owned(),
                });
            }
            return Ok(None);
        }
        Ok(Some(text))
    }

    /// An sObject field's value: null when nil, typed when its `xsi:type` is an XML Schema type.
    pub fn field_value(&mut self, open: &Open<'a>) -> Result<FieldValue<'a>, Error> {
        let Some(text) = self.nillable_text_of(open, "sObject field")? else {
            return Ok(FieldValue::Null);
        };
        match &open.xsi_type {
            Some((Ns::Xsd, name)) => typed(name, text),
            _ => Ok(FieldValue::Text(text)),
        }
    }

    fn content(&mut self, open: &Open<'a>, element: &'static str) -> Result<Cow<'a, str>, Error> {
        if open.empty {
            Ok(Cow::Borrowed(""))
        } else {
            self.read_text(element)
        }
    }

    /// Text up to the end tag of the element just opened: text, CDATA and character or
    /// predefined entity references, concatenated; no child elements.
    fn read_text(&mut self, element: &'static str) -> Result<Cow<'a, str>, Error> {
        let limit = self.limits.max_value_bytes;
        let mut text: Cow<'a, str> = Cow::Borrowed("");
        loop {
            let piece: Cow<'a, str> = match self.reader.read_event().map_err(xml_error)? {
                Event::Text(t) => t.xml10_content(),
                Event::CData(c) => c.xml10_content(),
                Event::GeneralRef(r) => resolve_reference(&r)?,
                Event::Comment(_) => continue,
                Event::End(_) => {
                    self.depth = self.depth.saturating_sub(1);
                    return Ok(text);
                }
                Event::Start(start) | Event::Empty(start) => {
                    let (ns, local) = self.reader.resolver().resolve_element(start.name());
                    return Err(Error::UnexpectedElement {
                        namespace: Ns::of(&ns).map(Ns::uri).unwrap_or_default().to_owned(),
                        name: quote(local.into_inner()),
                        parent: element,
                    });
                }
                event => {
                    self.ignorable(event, element)?;
                    continue;
                }
            };
            if text.len() + piece.len() > limit {
                return Err(Error::ValueTooLong { element, limit });
            }
            if text.is_empty() {
                text = piece;
            } else {
                text.to_mut().push_str(&piece);
            }
        }
    }

    fn enter(&mut self) -> Result<(), Error> {
        self.depth += 1;
        if self.depth > self.limits.max_depth {
            return Err(Error::TooDeep {
                limit: self.limits.max_depth,
            });
        }
        Ok(())
    }

    fn open(&mut self, ns: Ns, start: &BytesStart<'a>, empty: bool) -> Result<Open<'a>, Error> {
        if !empty {
            self.enter()?;
        }
        let local = reborrow(self.input, start.local_name().into_inner());
        let mut xsi_nil = false;
        let mut xsi_type = None;
        if start.attributes_raw().trim_ascii().is_empty() {
            return Ok(Open {
                ns,
                local,
                empty,
                xsi_nil,
                xsi_type,
            });
        }
        for attribute in start.attributes() {
            let attribute = attribute.map_err(xml_error)?;
            if attribute.key.as_namespace_binding().is_some() {
                continue;
            }
            let (attr_ns, attr_local) = self.reader.resolver().resolve_attribute(attribute.key);
            if Ns::of(&attr_ns)? != Ns::Xsi {
                continue;
            }
            match attr_local.into_inner() {
                "nil" => {
                    let value = attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(xml_error)?;
                    xsi_nil = matches!(value.trim(), "true" | "1");
                }
                "type" => {
                    let value = attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(xml_error)?;
                    let value = value.trim();
                    let (type_ns, type_local) = self.reader.resolver().resolve(QName(value), true);
                    let type_ns = Ns::of(&type_ns)?;
                    let type_local = reborrow(self.input, type_local.into_inner());
                    xsi_type = Some((type_ns, type_local));
                }
                _ => {}
            }
        }
        Ok(Open {
            ns,
            local,
            empty,
            xsi_nil,
            xsi_type,
        })
    }

    /// Events that may appear between elements: blanks and comments pass; a DOCTYPE, a
    /// processing instruction, text or a misplaced declaration is refused.
    fn ignorable(&mut self, event: Event<'a>, parent: &'static str) -> Result<(), Error> {
        match event {
            Event::Comment(_) => Ok(()),
            Event::Text(text) if is_blank(&text) => Ok(()),
            Event::Text(_) | Event::CData(_) | Event::GeneralRef(_) => {
                Err(Error::UnexpectedText(parent))
            }
            Event::DocType(_) => Err(Error::DoctypeRefused),
            Event::PI(_) => Err(Error::ProcessingInstructionRefused),
            Event::Decl(_) => Err(Error::MalformedXml(
                "XML declaration not at the start".to_owned(),
            )),
            Event::Eof => Err(Error::UnexpectedEof),
            Event::Start(_) | Event::Empty(_) | Event::End(_) => {
                Err(Error::MalformedXml("unexpected tag".to_owned()))
            }
        }
    }
}

/// A character reference or one of XML's five predefined entities; anything else is an
/// undeclared entity (no DTD is ever read, so none can be declared).
fn resolve_reference(reference: &BytesRef<'_>) -> Result<Cow<'static, str>, Error> {
    if reference.is_char_ref() {
        return match reference.resolve_char_ref().map_err(xml_error)? {
            Some(ch) => Ok(Cow::Owned(ch.to_string())),
            None => Err(Error::MalformedXml("bad character reference".to_owned())),
        };
    }
    let name: &str = reference;
    resolve_predefined_entity(name)
        .map(Cow::Borrowed)
        .ok_or_else(|| Error::UndeclaredEntity(quote(name)))
}
