//! The AWS query protocol as CloudFormation speaks it: form-encoded requests, XML answers.

use super::Reply;
use std::collections::BTreeMap;

/// A request's form parameters (`Action`, `StackName`, `Parameters.member.1.ParameterKey`...).
pub type Params = BTreeMap<String, String>;

/// Parses a form-encoded body.
pub fn parse(body: &[u8]) -> Params {
    form_urlencoded::parse(body).into_owned().collect()
}

/// Encodes parameters back into a body.
pub fn encode(params: &Params) -> Vec<u8> {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish()
        .into_bytes()
}

/// `prefix.member.N.<field>` entries, in N order, as maps of their fields.
pub fn members(params: &Params, prefix: &str) -> Vec<BTreeMap<String, String>> {
    let mut found: BTreeMap<u32, BTreeMap<String, String>> = BTreeMap::new();
    let head = format!("{prefix}.member.");
    for (key, value) in params {
        let Some(rest) = key.strip_prefix(&head) else {
            continue;
        };
        let (index, field) = rest.split_once('.').unwrap_or((rest, ""));
        if let Ok(index) = index.parse() {
            found
                .entry(index)
                .or_default()
                .insert(field.to_owned(), value.clone());
        }
    }
    found.into_values().collect()
}

/// `Parameters.member.N.ParameterKey/ParameterValue` as a map.
pub fn parameters(params: &Params) -> BTreeMap<String, String> {
    members(params, "Parameters")
        .into_iter()
        .filter_map(|m| {
            Some((
                m.get("ParameterKey")?.clone(),
                m.get("ParameterValue")?.clone(),
            ))
        })
        .collect()
}

/// Escapes text for XML.
pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn unescape(text: &str) -> String {
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#34;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// `<name>text</name>`.
pub fn element(name: &str, text: &str) -> String {
    format!("<{name}>{}</{name}>", escape(text))
}

/// `<name>text</name>` when there is a text.
pub fn optional(name: &str, text: Option<&str>) -> String {
    text.map(|t| element(name, t)).unwrap_or_default()
}

/// The text of the first `<tag>` in `xml`.
pub fn first(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(unescape(&xml[start..end]))
}

/// `xml` with the text of every `<tag>` replaced.
pub fn replace_all(xml: &str, tag: &str, text: &str) -> String {
    let (open, close) = (format!("<{tag}>"), format!("</{tag}>"));
    let mut out = String::with_capacity(xml.len());
    let mut rest = xml;
    while let Some(start) = rest.find(&open) {
        let after = start + open.len();
        let Some(end) = rest[after..].find(&close) else {
            break;
        };
        out.push_str(&rest[..after]);
        out.push_str(&escape(text));
        rest = &rest[after + end..];
    }
    out.push_str(rest);
    out
}

const NAMESPACE: &str = "http://cloudformation.amazonaws.com/doc/2010-05-15/";

/// A successful answer to `action` with `result` inside its `<ActionResult>`.
pub fn answer(action: &str, result: &str) -> Reply {
    Reply::xml(
        200,
        format!(
            "<{action}Response xmlns=\"{NAMESPACE}\"><{action}Result>{result}</{action}Result>\
             <ResponseMetadata><RequestId>{}</RequestId></ResponseMetadata></{action}Response>",
            uuid::Uuid::new_v4()
        ),
    )
}

/// A query-protocol error.
pub fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{NAMESPACE}\"><Error><Type>Sender</Type>{}{}</Error>\
             <RequestId>{}</RequestId></ErrorResponse>",
            element("Code", code),
            element("Message", message),
            uuid::Uuid::new_v4()
        ),
    )
}

/// The current time as CloudFormation writes it, `offset_ms` later.
pub fn timestamp(offset_ms: i64) -> String {
    let now = time::OffsetDateTime::now_utc() + time::Duration::milliseconds(offset_ms);
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn members_come_back_in_order_with_their_fields() {
        let params = parse(
            b"Parameters.member.2.ParameterKey=B&Parameters.member.1.ParameterKey=A&Parameters.member.1.ParameterValue=1&Parameters.member.2.ParameterValue=2",
        );
        assert_eq!(
            parameters(&params),
            BTreeMap::from([("A".into(), "1".into()), ("B".into(), "2".into())])
        );
    }

    #[test]
    fn replaces_and_reads_elements() {
        let xml = "<a><S>x</S><S>y &amp; z</S></a>";
        assert_eq!(first(xml, "S").unwrap(), "x");
        assert_eq!(replace_all(xml, "S", "<"), "<a><S>&lt;</S><S>&lt;</S></a>");
    }
}
