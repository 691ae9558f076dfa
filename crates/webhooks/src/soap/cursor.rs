//! The event cursor under the envelope parser: a namespace-aware quick-xml reader over the
//! body that refuses DTDs and processing instructions, tracks depth, resolves each element to a
//! known namespace, and collects text values within the limits.

use std::borrow::Cow;

use quick_xml::XmlVersion;
use quick_xml::escape::resolve_predefined_entity;
use quick_xml::events::attributes::Attributes;
use quick_xml::events::{BytesRef, BytesStart, Event};
use quick_xml::reader::Reader;

use super::Limits;
pub(super) use super::namespaces::Ns;
use super::namespaces::Scopes;
use super::value::{FieldValue, typed};
use crate::Error;
use crate::error::quote;

/// An element just opened: its resolved name and the `xsi:` attributes the parser uses.
#[derive(Debug)]
pub(super) struct Open<'a> {
    pub ns: Ns,
    pub local: &'a str,
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
            name: quote(self.local),
            parent,
        }
    }
}

pub(super) struct Cursor<'a, 'l> {
    input: &'a str,
    reader: Reader<&'a [u8]>,
    limits: &'l Limits,
    depth: usize,
    scopes: Scopes<'a>,
}

fn xml_error(error: impl std::fmt::Display) -> Error {
    Error::MalformedXml(quote(&error.to_string()))
}

fn is_blank(text: &str) -> bool {
    text.bytes()
        .all(|b| matches!(b, b' ' | b'\t' | b'\r' | b'\n'))
}

/// The prefix an `xmlns` / `xmlns:prefix` attribute declares (`""`: the default namespace).
fn declared_prefix(key: &str) -> Option<&str> {
    let rest = key.strip_prefix("xmlns")?;
    if rest.is_empty() {
        Some("")
    } else {
        rest.strip_prefix(':')
    }
}

/// A value trimmed, still borrowed when it was.
fn trimmed(value: Cow<'_, str>) -> Cow<'_, str> {
    match value {
        Cow::Borrowed(text) => Cow::Borrowed(text.trim()),
        Cow::Owned(text) if text.trim().len() == text.len() => Cow::Owned(text),
        Cow::Owned(text) => Cow::Owned(text.trim().to_owned()),
    }
}

impl<'a, 'l> Cursor<'a, 'l> {
    pub fn new(input: &'a str, limits: &'l Limits) -> Self {
        let mut reader = Reader::from_str(input);
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
            scopes: Scopes::default(),
        }
    }

    pub fn limits(&self) -> &'l Limits {
        self.limits
    }

    /// Reads up to the root element: an optional UTF-8 XML declaration, comments and blanks.
    pub fn expect_open(&mut self, parent: &'static str) -> Result<Open<'a>, Error> {
        let mut first = true;
        loop {
            match self.reader.read_event().map_err(xml_error)? {
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
                Event::Start(start) => return self.open(&start, false),
                Event::Empty(start) => return self.open(&start, true),
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
            match self.reader.read_event().map_err(xml_error)? {
                Event::Start(start) => return self.open(&start, false).map(Some),
                Event::Empty(start) => return self.open(&start, true).map(Some),
                Event::End(_) => {
                    self.leave();
                    return Ok(None);
                }
                event => self.ignorable(event, parent)?,
            }
        }
    }

    /// Skips the content of the element just opened (a SOAP header), within the depth limit.
    /// Nothing in it is resolved, so its namespace declarations are not needed.
    pub fn skip_element(&mut self) -> Result<(), Error> {
        let until = self.depth.saturating_sub(1);
        loop {
            match self.reader.read_event().map_err(xml_error)? {
                Event::Start(_) => self.enter()?,
                Event::End(_) => {
                    self.leave();
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
                    self.leave();
                    return Ok(text);
                }
                Event::Start(start) | Event::Empty(start) => {
                    let (tag, name_len) = self.tag_of(&start)?;
                    self.declare(tag, name_len, self.depth + 1)?;
                    let qname = &tag[..name_len];
                    let (namespace, local) = self
                        .scopes
                        .element(qname)
                        .map_or(("", qname), |(ns, local)| (ns.uri(), local));
                    return Err(Error::UnexpectedElement {
                        namespace: namespace.to_owned(),
                        name: quote(local),
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

    /// At an end tag: one level up, and the scope of the element it closes ends.
    fn leave(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.scopes.close(self.depth);
    }

    /// The whole tag (name and attributes) as a slice of the input, and the name's length.
    /// quick-xml hands out slices of the `&str` it reads, so that the names and values taken
    /// from it borrow from the body.
    fn tag_of(&self, start: &BytesStart<'_>) -> Result<(&'a str, usize), Error> {
        let name = start.name().into_inner();
        let rest = start.attributes_raw();
        let begin = (name.as_ptr() as usize).wrapping_sub(self.input.as_ptr() as usize);
        let end = (rest.as_ptr() as usize)
            .wrapping_sub(self.input.as_ptr() as usize)
            .wrapping_add(rest.len());
        match self.input.get(begin..end) {
            Some(tag) if std::ptr::eq(tag.as_ptr(), name.as_ptr()) => Ok((tag, name.len())),
            _ => Err(Error::MalformedXml("tag not read from the body".to_owned())),
        }
    }

    /// Declares the namespace bindings of a tag (element at `level`).
    fn declare(&mut self, tag: &'a str, name_len: usize, level: usize) -> Result<(), Error> {
        // Unchecked here: the checked pass in `open` reports malformed attributes.
        for attribute in Attributes::new(tag, name_len).with_checks(false) {
            let Ok(attribute) = attribute else { break };
            if let Some(prefix) = declared_prefix(attribute.key.into_inner()) {
                self.scopes.declare(prefix, &attribute.value, level)?;
            }
        }
        Ok(())
    }

    fn open(&mut self, start: &BytesStart<'_>, empty: bool) -> Result<Open<'a>, Error> {
        if !empty {
            self.enter()?;
        }
        let level = if empty { self.depth + 1 } else { self.depth };
        let (tag, name_len) = self.tag_of(start)?;
        let has_attributes = !tag[name_len..].trim_ascii().is_empty();
        if has_attributes {
            // Declarations first: they apply to the element's own name and attributes.
            self.declare(tag, name_len, level)?;
        }
        let (ns, local) = self.scopes.element(&tag[..name_len])?;
        let mut open = Open {
            ns,
            local,
            empty,
            xsi_nil: false,
            xsi_type: None,
        };
        if has_attributes {
            for attribute in Attributes::new(tag, name_len) {
                let attribute = attribute.map_err(xml_error)?;
                let key = attribute.key.into_inner();
                if declared_prefix(key).is_some() {
                    continue;
                }
                let (attr_ns, attr_local) = self.scopes.attribute(key)?;
                if attr_ns != Ns::Xsi || !matches!(attr_local, "nil" | "type") {
                    continue;
                }
                let value = trimmed(
                    attribute
                        .normalized_value(XmlVersion::Implicit1_0)
                        .map_err(xml_error)?,
                );
                if attr_local == "nil" {
                    open.xsi_nil = matches!(value.as_ref(), "true" | "1");
                } else {
                    let (type_ns, type_local) = self.scopes.element(&value)?;
                    let type_local = match &value {
                        Cow::Borrowed(text) => {
                            Cow::Borrowed(&text[text.len() - type_local.len()..])
                        }
                        Cow::Owned(_) => Cow::Owned(type_local.to_owned()),
                    };
                    open.xsi_type = Some((type_ns, type_local));
                }
            }
        }
        if empty {
            // No end tag follows: the element's scope ends here.
            self.scopes.close(self.depth);
        }
        Ok(open)
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
