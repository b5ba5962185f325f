//! The dashboard: one graph per signal. Each graph is its alarm's (metric, threshold and
//! state): CloudWatch draws it from the alarm, so the figures are declared once, in the
//! alarm, and the template stays small.

use super::{Signal, alarm_arn_prefix};
use crate::cfn::cloudwatch::{Alarm, Dashboard};
use crate::cfn::{Expr, Pseudo, Ref, Resource, Template};
use crate::environment::Environment;
use serde_json::{Value, json};

/// Logical id of the dashboard.
pub const DASHBOARD: &str = "Dashboard";

/// Graphs per row (CloudWatch's grid is 24 units wide).
const PER_ROW: u32 = 3;
const WIDTH: u32 = 24 / PER_ROW;
const HEIGHT: u32 = 6;

/// Declares the dashboard, named after the stack (unique per account and region).
pub(super) fn declare(
    template: &mut Template,
    environment: &Environment,
    signals: &[Signal],
    alarms: &[Ref<Alarm>],
) -> Ref<Dashboard> {
    let mut body = Body::default();
    let region = body.hole(Pseudo::Region.into());
    let alarm_arns: Vec<Value> = alarms
        .iter()
        // The ARNs' common prefix is a named `Fn::Sub` value, written once for every alarm:
        // the template is near `TemplateBody`'s 51,200 bytes.
        .map(|alarm| {
            body.hole(crate::sub!(
                Expr::named("AlarmArnPrefix", alarm_arn_prefix()),
                alarm
            ))
        })
        .collect();
    // No alarm-status grid above the graphs: each graph shows its alarm's state, and the
    // grid would repeat every ARN in a template near `TemplateBody`'s 51,200 bytes.
    let mut widgets = vec![json!({
        "type": "text",
        "x": 0, "y": 0, "width": 24, "height": 1,
        "properties": {"markdown": format!("## Tickets ({}): every alarm, with its threshold", environment.name)},
    })];
    for ((index, signal), arn) in (0u32..).zip(signals).zip(&alarm_arns) {
        widgets.push(json!({
            "type": "metric",
            "x": (index % PER_ROW) * WIDTH,
            "y": 1 + (index / PER_ROW) * HEIGHT,
            "width": WIDTH,
            "height": HEIGHT,
            "properties": {
                "title": signal.title,
                "region": region,
                "annotations": {"alarms": [arn]},
            },
        }));
    }
    let text = canonical(&json!({ "widgets": widgets }));
    template.add(Resource::new(
        DASHBOARD,
        Dashboard {
            dashboard_name: Some(Pseudo::StackName.into()),
            dashboard_body: body.fill(&text),
        },
    ))
}

/// Compact JSON with the keys of every object sorted: `json!` keeps insertion order or
/// sorts depending on serde_json's features (a test-only dependency turns
/// `preserve_order` on), and the template must be the same bytes in every build.
fn canonical(value: &Value) -> String {
    struct Sorted<'a>(&'a Value);

    impl serde::Serialize for Sorted<'_> {
        fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            use serde::ser::{SerializeMap, SerializeSeq};
            match self.0 {
                Value::Object(map) => {
                    let mut entries: Vec<_> = map.iter().collect();
                    entries.sort_by(|a, b| a.0.cmp(b.0));
                    let mut out = serializer.serialize_map(Some(entries.len()))?;
                    for (key, value) in entries {
                        out.serialize_entry(key, &Sorted(value))?;
                    }
                    out.end()
                }
                Value::Array(items) => {
                    let mut out = serializer.serialize_seq(Some(items.len()))?;
                    for item in items {
                        out.serialize_element(&Sorted(item))?;
                    }
                    out.end()
                }
                other => other.serialize(serializer),
            }
        }
    }

    serde_json::to_string(&Sorted(value)).expect("JSON values always serialize")
}

/// The body's JSON text with holes for values CloudFormation resolves (names, ARNs, the
/// region), filled by `Fn::Sub`.
#[derive(Default)]
struct Body {
    holes: Vec<Expr>,
}

/// Marks a hole in the JSON text; no name, title or expression of the body contains it.
const MARK: &str = "@@";

impl Body {
    /// A JSON string standing for `value`: the literal itself, or a numbered hole.
    fn hole(&mut self, value: Expr) -> Value {
        if let Some(literal) = value.as_literal() {
            return Value::String(literal.to_owned());
        }
        self.holes.push(value);
        Value::String(format!("{MARK}{}{MARK}", self.holes.len() - 1))
    }

    /// `text` with its holes filled: literal pieces and expressions, joined by `Fn::Sub`.
    /// A hole may appear more than once (the region is in every graph).
    fn fill(self, text: &str) -> Expr {
        let parts = text.split(MARK).enumerate().map(|(index, piece)| {
            if index % 2 == 0 {
                Expr::literal(piece)
            } else {
                let hole: usize = piece.parse().expect("a hole is numbered");
                self.holes[hole].clone()
            }
        });
        Expr::sub(parts.collect::<Vec<_>>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fills_holes_with_their_expressions() {
        let mut body = Body::default();
        let region = body.hole(Pseudo::Region.into());
        let literal = body.hole(Expr::literal("prod"));
        let text = serde_json::to_string(&json!({"r": region, "s": literal})).unwrap();
        assert_eq!(
            serde_json::to_value(body.fill(&text)).unwrap(),
            json!({"Fn::Sub": "{\"r\":\"${AWS::Region}\",\"s\":\"prod\"}"})
        );
    }
}
