//! A bounded XML 1.0 reader that builds a small element tree.
//!
//! quick-xml does the tokenizing; this module adds what the format's
//! security rules need on top (`ksr-skr-format.md` §4.2): UTF-8 only, no
//! DOCTYPE and so no entities beyond the predefined five, no namespaces,
//! and the limits of P3 enforced while reading, so a hostile document is
//! refused before it can cost memory or time.

use quick_xml::Reader;
use quick_xml::events::{BytesStart, Event};

use crate::findings::{CheckCode, Position};

/// The largest document accepted (P2): 1 MiB.
pub const MAX_DOCUMENT_SIZE: usize = 1 << 20;

/// The deepest element nesting accepted (P3); the format needs 6.
const MAX_DEPTH: usize = 8;
/// The most attributes on one element (P3).
const MAX_ATTRIBUTES: usize = 8;
/// The longest attribute value in bytes (P3).
const MAX_ATTRIBUTE_VALUE: usize = 1024;
/// The longest text of one element in bytes (P3).
const MAX_TEXT: usize = 65_536;

/// Elements whose number per parent is limited (P3).
const COUNT_LIMITS: [(&str, usize); 5] = [
    ("RequestBundle", 256),
    ("ResponseBundle", 256),
    ("Key", 64),
    ("Signature", 64),
    ("SignatureAlgorithm", 16),
];

//------------ Element -------------------------------------------------------

/// An element with its attributes, child elements and text.
#[derive(Debug)]
pub(crate) struct Element {
    /// The element name.
    pub name: String,
    /// The byte offset of the start tag.
    pub offset: usize,
    /// The attributes in document order, values unescaped.
    pub attributes: Vec<(String, String)>,
    /// The child elements in document order.
    pub children: Vec<Element>,
    /// All character data directly inside the element, unescaped, CDATA
    /// included, comments and processing instructions left out.
    pub text: String,
}

impl Element {
    /// Returns the value of an attribute.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

//------------ TreeError -----------------------------------------------------

/// Why a document could not be read as XML: the first error, as XML 1.0
/// requires a parser to stop at a well-formedness error.
#[derive(Debug)]
pub(crate) struct TreeError {
    /// `KSR-PARSE-XML` or `KSR-PARSE-LIMITS`.
    pub code: CheckCode,
    /// The byte offset of the error.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl TreeError {
    fn xml(offset: usize, message: impl Into<String>) -> Self {
        Self {
            code: CheckCode::ParseXml,
            offset,
            message: message.into(),
        }
    }

    fn limits(offset: usize, message: impl Into<String>) -> Self {
        Self {
            code: CheckCode::ParseLimits,
            offset,
            message: message.into(),
        }
    }
}

//------------ Locator -------------------------------------------------------

/// Turns byte offsets into line and column for messages.
pub(crate) struct Locator<'a> {
    text: &'a [u8],
}

impl<'a> Locator<'a> {
    /// Makes a locator over the document's bytes.
    pub fn new(text: &'a [u8]) -> Self {
        Self { text }
    }

    /// Returns the 1-based line and column (in characters) of an offset.
    pub fn position(&self, offset: usize) -> Position {
        let before = self.text.get(..offset).unwrap_or(self.text);
        let line_start = before
            .iter()
            .rposition(|b| *b == b'\n')
            .map_or(0, |i| i + 1);
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        // Count characters, not bytes: continuation bytes do not start one.
        let column = before
            .get(line_start..)
            .unwrap_or_default()
            .iter()
            .filter(|b| (**b & 0xC0) != 0x80)
            .count()
            + 1;
        Position {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            column: u32::try_from(column).unwrap_or(u32::MAX),
        }
    }
}

//------------ read_tree -----------------------------------------------------

/// Reads a document into its root element.
///
/// The caller has checked the size.
pub(crate) fn read_tree(input: &[u8]) -> Result<Element, TreeError> {
    let text = check_characters(input)?;
    // The BOM is allowed once, at the start (P5); offsets stay relative to
    // the whole input.
    let (base, text) = match text.strip_prefix('\u{FEFF}') {
        Some(rest) => (3, rest),
        None => (0, text),
    };
    let mut reader = Reader::from_str(text);
    let config = reader.config_mut();
    config.check_end_names = true;
    config.check_comments = true;
    config.expand_empty_elements = false;
    config.trim_text(false);

    let mut stack: Vec<Element> = Vec::new();
    let mut root: Option<Element> = None;
    loop {
        let offset = base + usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        let event = reader.read_event().map_err(|err| {
            let at = base + usize::try_from(reader.error_position()).unwrap_or(usize::MAX);
            TreeError::xml(at, err.to_string())
        })?;
        match event {
            Event::Decl(decl) => {
                if offset != base {
                    return Err(TreeError::xml(
                        offset,
                        "the XML declaration must come first",
                    ));
                }
                check_declaration(&decl, offset)?;
            }
            Event::DocType(_) => {
                return Err(TreeError::xml(
                    offset,
                    "a DOCTYPE is not allowed: no DTD, entity declarations or external entities",
                ));
            }
            Event::PI(pi) => {
                if pi.target().eq_ignore_ascii_case(b"xml") {
                    return Err(TreeError::xml(
                        offset,
                        "the XML declaration must come first",
                    ));
                }
            }
            Event::Comment(_) => {}
            Event::Start(start) => {
                let element = start_element(&start, offset)?;
                open(&mut stack, &root, element)?;
            }
            Event::Empty(start) => {
                let element = start_element(&start, offset)?;
                open(&mut stack, &root, element)?;
                close(&mut stack, &mut root)?;
            }
            Event::End(_) => close(&mut stack, &mut root)?,
            Event::Text(content) => {
                let content = content
                    .xml_content()
                    .map_err(|err| TreeError::xml(offset, err.to_string()))?;
                add_text(&mut stack, &content, offset)?;
            }
            Event::CData(content) => {
                let content = content
                    .decode()
                    .map_err(|err| TreeError::xml(offset, err.to_string()))?;
                add_text(&mut stack, &content, offset)?;
            }
            Event::GeneralRef(reference) => {
                let character = resolve_reference(&reference, offset)?;
                add_text(&mut stack, character.encode_utf8(&mut [0; 4]), offset)?;
            }
            Event::Eof => break,
        }
    }
    let end = base + text.len();
    if let Some(open) = stack.last() {
        return Err(TreeError::xml(
            end,
            format!("element <{}> is not closed", open.name),
        ));
    }
    root.ok_or_else(|| TreeError::xml(end, "the document has no root element"))
}

/// Checks the encoding (P5) and the characters XML 1.0 allows (§2.2):
/// valid UTF-8, and no control characters but tab, line feed and carriage
/// return.
fn check_characters(input: &[u8]) -> Result<&str, TreeError> {
    let text = std::str::from_utf8(input).map_err(|err| {
        TreeError::xml(
            err.valid_up_to(),
            "the document is not valid UTF-8 (the only encoding accepted)",
        )
    })?;
    if let Some((offset, c)) = text.char_indices().find(|(_, c)| !is_xml_char(*c)) {
        return Err(TreeError::xml(
            offset,
            format!("character U+{:04X} is not allowed in XML", u32::from(c)),
        ));
    }
    Ok(text)
}

/// Returns whether XML 1.0 §2.2 allows the character.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Checks `<?xml version="1.0" encoding="UTF-8"?>`: version 1.0, and the
/// encoding absent or UTF-8 in any case (P5).
fn check_declaration(
    decl: &quick_xml::events::BytesDecl<'_>,
    offset: usize,
) -> Result<(), TreeError> {
    let version = decl
        .version()
        .map_err(|err| TreeError::xml(offset, err.to_string()))?;
    if version.as_ref() != b"1.0" {
        return Err(TreeError::xml(offset, "only XML version 1.0 is accepted"));
    }
    if let Some(encoding) = decl.encoding() {
        let encoding = encoding.map_err(|err| TreeError::xml(offset, err.to_string()))?;
        if !encoding.eq_ignore_ascii_case(b"utf-8") {
            return Err(TreeError::xml(
                offset,
                format!(
                    "encoding {:?} is not accepted: documents are UTF-8",
                    String::from_utf8_lossy(&encoding)
                ),
            ));
        }
    }
    Ok(())
}

/// Makes an element from a start tag, checking names and attributes.
fn start_element(start: &BytesStart<'_>, offset: usize) -> Result<Element, TreeError> {
    let name = utf8(start.name().as_ref(), offset)?;
    check_name(&name, offset)?;
    let mut attributes = Vec::new();
    for attribute in start.attributes() {
        let attribute = attribute.map_err(|err| TreeError::xml(offset, err.to_string()))?;
        let key = utf8(attribute.key.as_ref(), offset)?;
        check_name(&key, offset)?;
        if key == "xmlns" {
            return Err(TreeError::xml(
                offset,
                "namespace declarations (xmlns) are not allowed",
            ));
        }
        if attributes.len() == MAX_ATTRIBUTES {
            return Err(TreeError::limits(
                offset,
                format!("<{name}> has more than {MAX_ATTRIBUTES} attributes"),
            ));
        }
        let value = attribute
            .unescape_value()
            .map_err(|err| TreeError::xml(offset, format!("attribute {key:?}: {err}")))?;
        // The limit applies to the value, not to its escaped form, so that
        // a value read back from what the writer escaped differently is
        // judged the same (a fuzzer found the difference).
        if value.len() > MAX_ATTRIBUTE_VALUE {
            return Err(TreeError::limits(
                offset,
                format!("attribute {key:?} is longer than {MAX_ATTRIBUTE_VALUE} bytes"),
            ));
        }
        check_unescaped(&value, offset)?;
        attributes.push((key, value.into_owned()));
    }
    Ok(Element {
        name,
        offset,
        attributes,
        children: Vec::new(),
        text: String::new(),
    })
}

/// Decodes a name that came from valid UTF-8 input.
fn utf8(bytes: &[u8], offset: usize) -> Result<String, TreeError> {
    String::from_utf8(bytes.to_vec())
        .map_err(|_| TreeError::xml(offset, "a name is not valid UTF-8"))
}

/// Refuses namespace prefixes and names XML does not allow.
fn check_name(name: &str, offset: usize) -> Result<(), TreeError> {
    if name.contains(':') {
        return Err(TreeError::xml(
            offset,
            format!("namespace prefixes are not allowed: {name:?}"),
        ));
    }
    let mut chars = name.chars();
    let starts_well = chars.next().is_some_and(|c| c.is_alphabetic() || c == '_');
    if !starts_well || !chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.')) {
        return Err(TreeError::xml(
            offset,
            format!("{name:?} is not a valid XML name"),
        ));
    }
    Ok(())
}

/// Refuses characters that a character reference produced but XML does
/// not allow (WFC: Legal Character).
fn check_unescaped(value: &str, offset: usize) -> Result<(), TreeError> {
    match value.chars().find(|c| !is_xml_char(*c)) {
        Some(c) => Err(TreeError::xml(
            offset,
            format!(
                "character reference to U+{:04X} is not allowed in XML",
                u32::from(c)
            ),
        )),
        None => Ok(()),
    }
}

/// Resolves `&name;` or `&#n;`: only the five predefined entities and
/// character references exist without a DTD.
fn resolve_reference(
    reference: &quick_xml::events::BytesRef<'_>,
    offset: usize,
) -> Result<char, TreeError> {
    if reference.is_char_ref() {
        let c = reference
            .resolve_char_ref()
            .map_err(|err| TreeError::xml(offset, err.to_string()))?
            .ok_or_else(|| TreeError::xml(offset, "malformed character reference"))?;
        if !is_xml_char(c) {
            return Err(TreeError::xml(
                offset,
                format!(
                    "character reference to U+{:04X} is not allowed in XML",
                    u32::from(c)
                ),
            ));
        }
        return Ok(c);
    }
    let name: &[u8] = reference;
    match name {
        b"lt" => Ok('<'),
        b"gt" => Ok('>'),
        b"amp" => Ok('&'),
        b"apos" => Ok('\''),
        b"quot" => Ok('"'),
        other => Err(TreeError::xml(
            offset,
            format!(
                "entity &{};  is not defined: only &lt; &gt; &amp; &apos; &quot; and character references are allowed",
                String::from_utf8_lossy(other)
            ),
        )),
    }
}

/// Pushes a newly opened element, enforcing the depth and count limits and
/// the single root.
fn open(
    stack: &mut Vec<Element>,
    root: &Option<Element>,
    element: Element,
) -> Result<(), TreeError> {
    if root.is_some() {
        return Err(TreeError::xml(
            element.offset,
            "only one root element is allowed",
        ));
    }
    if stack.len() == MAX_DEPTH {
        return Err(TreeError::limits(
            element.offset,
            format!("elements are nested more than {MAX_DEPTH} deep"),
        ));
    }
    if let Some(parent) = stack.last() {
        for (name, limit) in COUNT_LIMITS {
            if element.name == name
                && parent
                    .children
                    .iter()
                    .filter(|child| child.name == name)
                    .count()
                    == limit
            {
                return Err(TreeError::limits(
                    element.offset,
                    format!("<{}> has more than {limit} <{name}> elements", parent.name),
                ));
            }
        }
    }
    stack.push(element);
    Ok(())
}

/// Closes the innermost element and attaches it to its parent.
fn close(stack: &mut Vec<Element>, root: &mut Option<Element>) -> Result<(), TreeError> {
    let element = stack
        .pop()
        .ok_or_else(|| TreeError::xml(0, "an end tag without a start tag"))?;
    match stack.last_mut() {
        Some(parent) => parent.children.push(element),
        None => *root = Some(element),
    }
    Ok(())
}

/// Adds character data to the open element; outside the root only white
/// space is allowed.
fn add_text(stack: &mut [Element], content: &str, offset: usize) -> Result<(), TreeError> {
    match stack.last_mut() {
        Some(element) => {
            if element.text.len() + content.len() > MAX_TEXT {
                return Err(TreeError::limits(
                    offset,
                    format!(
                        "the text of <{}> is longer than {MAX_TEXT} bytes",
                        element.name
                    ),
                ));
            }
            element.text.push_str(content);
            Ok(())
        }
        None if content.chars().all(is_xml_space) => Ok(()),
        None => Err(TreeError::xml(
            offset,
            "text is not allowed outside the root element",
        )),
    }
}

/// Returns whether the character is XML white space (#x20, #x9, #xD, #xA).
pub(crate) fn is_xml_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(input: &str) -> TreeError {
        read_tree(input.as_bytes()).expect_err("the input was accepted")
    }

    #[test]
    fn reads_quotes_entities_cdata_and_comments() {
        let root = read_tree(
            b"\xEF\xBB\xBF<?xml version='1.0' encoding='utf-8'?><!-- c --><a x='1' y=\"&amp;&#65;\"><b><![CDATA[<t>]]>&lt;</b><?pi x?></a>\n",
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attribute("y"), Some("&A"));
        assert_eq!(root.children[0].text, "<t><");
    }

    #[test]
    fn refuses_doctype_and_unknown_entities() {
        assert_eq!(
            error("<!DOCTYPE a [<!ENTITY e 'x'>]><a>&e;</a>").code,
            CheckCode::ParseXml
        );
        assert!(error("<a>&e;</a>").message.contains("not defined"));
        assert!(error("<a>&#0;</a>").code == CheckCode::ParseXml);
    }

    #[test]
    fn refuses_namespaces_and_second_roots() {
        assert!(error("<x:a/>").message.contains("namespace"));
        assert!(error("<a xmlns='u'/>").message.contains("namespace"));
        assert!(error("<a/><b/>").message.contains("one root"));
        assert!(error("<a/>text").message.contains("outside"));
    }

    #[test]
    fn limits_depth_attributes_and_text() {
        let deep = format!("{}{}", "<a>".repeat(9), "</a>".repeat(9));
        assert_eq!(error(&deep).code, CheckCode::ParseLimits);
        let nine = "<a a1='' a2='' a3='' a4='' a5='' a6='' a7='' a8='' a9=''/>";
        assert_eq!(error(nine).code, CheckCode::ParseLimits);
        let long = format!("<a x='{}'/>", "v".repeat(1025));
        assert_eq!(error(&long).code, CheckCode::ParseLimits);
        let text = format!("<a>{}</a>", "v".repeat(65_537));
        assert_eq!(error(&text).code, CheckCode::ParseLimits);
    }

    #[test]
    fn the_attribute_limit_counts_the_value_not_its_escaping() {
        let quotes = "\"".repeat(1000);
        let single = format!("<a x='{quotes}'/>");
        let escaped = format!("<a x=\"{}\"/>", "&quot;".repeat(1000));
        assert_eq!(
            read_tree(single.as_bytes()).unwrap().attribute("x"),
            Some(quotes.as_str())
        );
        assert_eq!(
            read_tree(escaped.as_bytes()).unwrap().attribute("x"),
            Some(quotes.as_str())
        );
    }

    #[test]
    fn positions_count_lines_and_characters() {
        let input = "<a>\n  <b>é</b>\n  <c x='1'x='2'/></a>";
        let err = error(input);
        let position = Locator::new(input.as_bytes()).position(err.offset);
        assert_eq!(position.line, 3, "{}", err.message);
        let locator = Locator::new("é\néé<".as_bytes());
        assert_eq!(locator.position(6), Position { line: 2, column: 3 });
    }

    #[test]
    fn refuses_bad_encodings_and_controls() {
        assert!(error("<a>\u{1}</a>").message.contains("U+0001"));
        assert!(
            read_tree(b"<a>\xFF</a>")
                .unwrap_err()
                .message
                .contains("UTF-8")
        );
        assert!(
            error("<?xml version='1.0' encoding='latin1'?><a/>")
                .message
                .contains("encoding")
        );
        assert!(error("<a/><?xml version='1.0'?>").message.contains("first"));
        assert!(error("<a><b></a>").code == CheckCode::ParseXml);
        assert!(error("<a>").message.contains("not closed"));
        assert!(error("").message.contains("no root"));
    }
}
