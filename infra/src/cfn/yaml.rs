//! YAML that YAML 1.1 readers take as written.

/// Quotes the plain scalars a YAML 1.1 reader would not read as strings.
///
/// serde_norway writes YAML 1.2, where `2012-10-17` and `on` are strings, but CloudFormation
/// documents YAML 1.1 and PyYAML (moto, most Python tools) reads them as a date and a
/// boolean: an IAM policy `Version` then arrives as a date.
pub(super) fn quote_yaml11_ambiguities(yaml: &str) -> String {
    let mut out = String::with_capacity(yaml.len() + 32);
    // Indentation of the line that opened a block scalar, while inside one.
    let mut block_parent: Option<usize> = None;
    for line in yaml.lines() {
        let indent = line.len() - line.trim_start().len();
        if let Some(parent) = block_parent {
            if line.trim().is_empty() || indent > parent {
                out.push_str(line);
                out.push('\n');
                continue;
            }
            block_parent = None;
        }
        let value_at = scalar_start(line);
        let value = &line[value_at..];
        if value.starts_with('|') || value.starts_with('>') {
            block_parent = Some(indent);
            out.push_str(line);
        } else if is_yaml11_non_string(value) {
            out.push_str(&line[..value_at]);
            out.push('\'');
            out.push_str(value);
            out.push('\'');
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// Where the scalar value of a `key: value` or `- value` line starts (the line's end when
/// there is none, or when the key is quoted).
fn scalar_start(line: &str) -> usize {
    let mut at = line.len() - line.trim_start().len();
    while line[at..].starts_with("- ") {
        at += 2;
    }
    let rest = &line[at..];
    if rest.starts_with(['\'', '"']) {
        return if rest.contains(": ") { line.len() } else { at };
    }
    match rest.find(": ") {
        Some(colon) => at + colon + 2,
        None if rest.ends_with(':') => line.len(),
        None => at,
    }
}

/// YAML 1.1 booleans, timestamps and base-60 numbers, written plain.
fn is_yaml11_non_string(value: &str) -> bool {
    const BOOLEANS: &[&str] = &[
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "on", "On", "ON", "off", "Off",
        "OFF",
    ];
    let digits = |part: &str, min: usize, max: usize| {
        (min..=max).contains(&part.len()) && part.bytes().all(|b| b.is_ascii_digit())
    };
    let date = value.get(..10).unwrap_or(value);
    let mut parts = date.splitn(3, '-');
    let is_date = matches!(
        (parts.next(), parts.next(), parts.next()),
        (Some(y), Some(m), Some(d)) if digits(y, 4, 4) && digits(m, 1, 2) && digits(d.split(['T', 't', ' ']).next().unwrap_or(d), 1, 2)
    );
    let is_base60 = value.contains(':')
        && value.split(':').enumerate().all(|(i, part)| {
            if i == 0 {
                digits(part, 1, 20)
            } else {
                digits(part, 1, 2)
            }
        });
    BOOLEANS.contains(&value) || is_date || is_base60
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_what_yaml_1_1_would_not_read_as_a_string() {
        let text = "a: 2012-10-17\nb:\n- on\n- x: 1:30\nc: |-\n  d: 2012-10-17\n  no\ne: 'no'\nf: 2012-10-17T10:00:00Z\n";
        assert_eq!(
            quote_yaml11_ambiguities(text),
            "a: '2012-10-17'\nb:\n- 'on'\n- x: '1:30'\nc: |-\n  d: 2012-10-17\n  no\ne: 'no'\nf: '2012-10-17T10:00:00Z'\n"
        );
        assert_eq!(quote_yaml11_ambiguities("k: v\n- 2\n"), "k: v\n- 2\n");
    }
}
