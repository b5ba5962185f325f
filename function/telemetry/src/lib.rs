//! `tickets-telemetry`: the log lines of the stack's functions. One JSON object per line
//! on stdout, the shape Lambda's JSON log format and CloudWatch Logs Insights read: `timestamp`, `level`, `target`, `message`, then the event's fields
//! and those of the spans it happened in (the request id and trace id of the request).

use serde_json::{Map, Number, Value};
use std::fmt::{self, Write as _};
use std::io::Write as _;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer};
use tracing_subscriber::registry::LookupSpan;

/// The member CloudWatch reads the embedded metric format's directive from; a field of
/// this name holds the directive's JSON text.
pub const EMF_MEMBER: &str = "_aws";

/// Writes every event it sees as one JSON line to its sink (stdout in the function).
#[derive(Debug, Clone)]
pub struct JsonLines<F = fn(&[u8])> {
    sink: F,
}

impl JsonLines {
    /// Lines on stdout, which Lambda sends to CloudWatch Logs.
    pub fn stdout() -> Self {
        JsonLines {
            sink: write_to_stdout,
        }
    }
}

impl<F: Fn(&[u8])> JsonLines<F> {
    /// Lines handed to `sink`, one complete line (newline included) per call.
    pub fn to_sink(sink: F) -> Self {
        JsonLines { sink }
    }
}

/// One write per line, so concurrent lines never interleave.
fn write_to_stdout(line: &[u8]) {
    let _ = std::io::stdout().lock().write_all(line);
}

/// The fields a span was created or updated with.
struct SpanFields(Map<String, Value>);

impl<S, F> Layer<S> for JsonLines<F>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    F: Fn(&[u8]) + Send + Sync + 'static,
{
    fn on_new_span(&self, attributes: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Map::new();
        attributes.record(&mut Fields(&mut fields));
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(SpanFields(fields));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        if let Some(span) = ctx.span(id)
            && let Some(SpanFields(fields)) = span.extensions_mut().get_mut::<SpanFields>()
        {
            values.record(&mut Fields(fields));
        }
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        let metadata = event.metadata();
        let mut fields = Map::new();
        if let Some(scope) = ctx.event_scope(event) {
            for span in scope.from_root() {
                if let Some(SpanFields(span_fields)) = span.extensions().get::<SpanFields>() {
                    fields.extend(span_fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
            }
        }
        event.record(&mut Fields(&mut fields));
        let message = fields.remove("message").unwrap_or(Value::Null);
        let timestamp = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let mut line = String::with_capacity(256);
        line.push('{');
        push_member(&mut line, "timestamp", &Value::String(timestamp));
        line.push(',');
        push_member(
            &mut line,
            "level",
            &Value::String(metadata.level().to_string()),
        );
        line.push(',');
        push_member(
            &mut line,
            "target",
            &Value::String(metadata.target().into()),
        );
        line.push(',');
        push_member(&mut line, "message", &message);
        for (name, value) in &fields {
            line.push(',');
            push_member(&mut line, name, value);
        }
        line.push_str("}\n");
        (self.sink)(line.as_bytes());
    }
}

fn push_member(line: &mut String, name: &str, value: &Value) {
    let _ = write!(line, "{}:{}", Value::String(name.to_owned()), value);
}

/// Records fields into a JSON object: numbers and booleans as such, the rest as text.
struct Fields<'a>(&'a mut Map<String, Value>);

impl Visit for Fields<'_> {
    fn record_f64(&mut self, field: &Field, value: f64) {
        let value = Number::from_f64(value).map_or(Value::Null, Value::Number);
        self.0.insert(field.name().to_owned(), value);
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        self.0.insert(field.name().to_owned(), value.into());
    }

    fn record_str(&mut self, field: &Field, value: &str) {
        // The embedded metric format's directive is an object, not a string.
        let value = match field.name() {
            EMF_MEMBER => serde_json::from_str(value).unwrap_or_else(|_| value.into()),
            _ => value.into(),
        };
        self.0.insert(field.name().to_owned(), value);
    }

    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        // The whole cause chain, outermost first: `a: b: c`.
        let mut text = value.to_string();
        let mut source = value.source();
        while let Some(cause) = source {
            text.push_str(": ");
            text.push_str(&cause.to_string());
            source = cause.source();
        }
        self.0.insert(field.name().to_owned(), text.into());
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.0
            .insert(field.name().to_owned(), format!("{value:?}").into());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::layer::SubscriberExt;

    fn lines_of(emit: impl FnOnce()) -> Vec<Value> {
        let lines = Arc::new(Mutex::new(Vec::<u8>::new()));
        let sink = {
            let lines = lines.clone();
            move |line: &[u8]| lines.lock().unwrap().extend_from_slice(line)
        };
        let subscriber = tracing_subscriber::registry().with(JsonLines::to_sink(sink));
        tracing::subscriber::with_default(subscriber, emit);
        let text = String::from_utf8(lines.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    #[test]
    fn writes_one_object_per_event_with_its_spans_fields() {
        let lines = lines_of(|| {
            let span = tracing::info_span!("request", requestId = "r-1");
            let _entered = span.enter();
            tracing::info!(status = 200u16, latencyMs = 1.5, ok = true, "request");
        });
        assert_eq!(lines.len(), 1);
        let line = &lines[0];
        assert_eq!(line["level"], "INFO");
        assert_eq!(line["message"], "request");
        assert_eq!(line["requestId"], "r-1");
        assert_eq!(line["status"], 200);
        assert_eq!(line["latencyMs"], 1.5);
        assert_eq!(line["ok"], true);
        assert!(
            line["target"]
                .as_str()
                .unwrap()
                .starts_with("tickets_telemetry")
        );
        assert!(line["timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn writes_an_errors_whole_cause_chain() {
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl fmt::Display for Outer {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("the call failed")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let err = Outer(std::io::Error::other("connection refused"));
        let lines = lines_of(|| {
            tracing::error!(error = &err as &(dyn std::error::Error + 'static), "failed");
        });
        assert_eq!(lines[0]["error"], "the call failed: connection refused");
    }
}
