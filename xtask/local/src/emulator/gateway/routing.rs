//! How a request path finds its API resource: path segments, matched the way API Gateway
//! does (a literal beats a parameter beats a greedy parameter), with parameters decoded.

use std::collections::BTreeMap;

/// One path segment of a resource.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(super) enum Segment {
    // Declared in matching priority: a literal beats a parameter beats a greedy parameter.
    Literal(String),
    Param(String),
    Greedy(String),
}

/// The segments of a resource path such as `/v1/tickets/{id}` or `/files/{key+}`.
pub(super) fn segments(path: &str) -> Vec<Segment> {
    path.split('/')
        .filter(|p| !p.is_empty())
        .map(
            |part| match part.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                Some(name) => match name.strip_suffix('+') {
                    Some(name) => Segment::Greedy(name.to_owned()),
                    None => Segment::Param(name.to_owned()),
                },
                None => Segment::Literal(part.to_owned()),
            },
        )
        .collect()
}

/// The path parameters when the request path's `parts` match `segments`.
pub(super) fn match_segments(
    segments: &[Segment],
    parts: &[&str],
) -> Option<BTreeMap<String, String>> {
    let mut params = BTreeMap::new();
    for (i, segment) in segments.iter().enumerate() {
        match segment {
            Segment::Greedy(name) => {
                if i >= parts.len() {
                    return None;
                }
                let rest: Vec<String> = parts[i..].iter().map(|p| percent_decode(p)).collect();
                params.insert(name.clone(), rest.join("/"));
                return Some(params);
            }
            Segment::Literal(literal) => {
                if parts.get(i).map(|p| percent_decode(p)) != Some(literal.clone()) {
                    return None;
                }
            }
            Segment::Param(name) => {
                params.insert(name.clone(), percent_decode(parts.get(i)?));
            }
        }
    }
    (segments.len() == parts.len()).then_some(params)
}

pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push((high * 16 + low) as u8);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
