//! Start-up configuration, read from the environment variables the manifest declares.

use crate::telemetry::LogSettings;
use tickets_manifest::config::{
    ALLOWED_ORIGINS, FUNCTION_NAME, LOG_DIRECTIVES, LOG_LEVEL, TABLE_NAME,
};
use tickets_manifest::cors::{self, Origin};
use tracing::Level;

/// Everything the function needs to start.
#[derive(Debug, Clone)]
pub struct Config {
    /// DynamoDB table name.
    pub table_name: String,
    /// CORS origins: `[Origin::Any]`, or exact origins.
    pub allowed_origins: Vec<Origin>,
    /// What to log.
    pub log: LogSettings,
}

/// A configuration value that is missing or unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    /// A required variable is not set.
    #[error("{var} is not set: {hint}")]
    Missing {
        /// Variable name.
        var: &'static str,
        /// How to fix it.
        hint: &'static str,
    },
    /// A variable is set to something unusable.
    #[error("{var}={value:?} is invalid: {reason}")]
    Invalid {
        /// Variable name.
        var: &'static str,
        /// The value found.
        value: String,
        /// What is wrong and what is accepted.
        reason: String,
    },
}

impl Config {
    /// Reads the process environment.
    pub fn from_env() -> Result<Self, ConfigError> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads configuration through `lookup`, which returns a variable's value if set.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let table_name =
            lookup(TABLE_NAME)
                .filter(|v| !v.trim().is_empty())
                .ok_or(ConfigError::Missing {
                    var: TABLE_NAME,
                    hint: "set it to the DynamoDB table's name (deployed stacks set it for you)",
                })?;
        let origins = lookup(ALLOWED_ORIGINS).ok_or(ConfigError::Missing {
            var: ALLOWED_ORIGINS,
            hint: "set it to a comma-separated list of origins such as https://app.example.com, or * for any",
        })?;
        let allowed_origins = cors::parse_list(&origins).map_err(|err| ConfigError::Invalid {
            var: ALLOWED_ORIGINS,
            value: origins.clone(),
            reason: err.to_string(),
        })?;
        let level = match lookup(LOG_LEVEL) {
            None => Level::INFO,
            Some(value) => parse_level(&value).ok_or_else(|| ConfigError::Invalid {
                var: LOG_LEVEL,
                value,
                reason: "use one of TRACE, DEBUG, INFO, WARN, ERROR, FATAL (set it with the function's LoggingConfig)".into(),
            })?,
        };
        let directives = match lookup(LOG_DIRECTIVES) {
            None => Default::default(),
            Some(value) => value.parse().map_err(|_| ConfigError::Invalid {
                var: LOG_DIRECTIVES,
                value,
                reason: "write target=level directives separated by commas, e.g. aws_smithy_runtime=debug,hyper_util=debug".into(),
            })?,
        };
        Ok(Config {
            table_name,
            allowed_origins,
            log: LogSettings {
                level,
                directives,
                service: lookup(FUNCTION_NAME)
                    .unwrap_or_else(|| tickets_manifest::FUNCTION_NAME.to_owned())
                    .into(),
            },
        })
    }
}

/// Lambda's level names, in any case; `FATAL` is logged as `ERROR`.
fn parse_level(text: &str) -> Option<Level> {
    match text.trim().to_ascii_uppercase().as_str() {
        "TRACE" => Some(Level::TRACE),
        "DEBUG" => Some(Level::DEBUG),
        "INFO" => Some(Level::INFO),
        "WARN" => Some(Level::WARN),
        "ERROR" | "FATAL" => Some(Level::ERROR),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn config(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| vars.get(name).cloned())
    }

    #[test]
    fn reads_a_complete_environment() {
        let c = config(&[
            ("TABLE_NAME", "tickets-dev"),
            (
                "ALLOWED_ORIGINS",
                "https://a.example, http://localhost:5173",
            ),
            ("AWS_LAMBDA_LOG_LEVEL", "DEBUG"),
            ("RUST_LOG", "aws_smithy_runtime=debug"),
        ])
        .unwrap();
        assert_eq!(c.table_name, "tickets-dev");
        assert_eq!(
            c.allowed_origins,
            vec![
                Origin::Exact("https://a.example".into()),
                Origin::Exact("http://localhost:5173".into())
            ]
        );
        assert_eq!(c.log.level, Level::DEBUG);
        let filter = c.log.filter();
        assert!(filter.would_enable("manage_tickets::store", &Level::DEBUG));
        assert!(filter.would_enable("aws_smithy_runtime::client", &Level::DEBUG));
        assert!(!filter.would_enable("hyper_util::client", &Level::INFO));
        assert!(filter.would_enable("hyper_util::client", &Level::WARN));
    }

    #[test]
    fn missing_table_name_says_how_to_fix_it() {
        let err = config(&[("ALLOWED_ORIGINS", "*")]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("TABLE_NAME is not set: set it to")
        );
    }

    #[test]
    fn wildcard_is_any_and_cannot_be_mixed() {
        assert_eq!(
            config(&[("TABLE_NAME", "t"), ("ALLOWED_ORIGINS", "*")])
                .unwrap()
                .allowed_origins,
            vec![Origin::Any]
        );
        assert!(
            config(&[
                ("TABLE_NAME", "t"),
                ("ALLOWED_ORIGINS", "*,https://a.example")
            ])
            .is_err()
        );
    }

    #[test]
    fn rejects_origins_with_paths_or_no_scheme() {
        for bad in [
            "https://a.example/",
            "a.example",
            "ftp://a.example",
            "https://a.example/app",
            "",
        ] {
            assert!(
                config(&[("TABLE_NAME", "t"), ("ALLOWED_ORIGINS", bad)]).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn rejects_unknown_log_level() {
        let err = config(&[
            ("TABLE_NAME", "t"),
            ("ALLOWED_ORIGINS", "*"),
            ("AWS_LAMBDA_LOG_LEVEL", "loud"),
        ])
        .unwrap_err();
        assert!(
            err.to_string()
                .contains("TRACE, DEBUG, INFO, WARN, ERROR, FATAL")
        );
        let err = config(&[
            ("TABLE_NAME", "t"),
            ("ALLOWED_ORIGINS", "*"),
            ("RUST_LOG", "=="),
        ])
        .unwrap_err();
        assert!(err.to_string().contains("target=level"));
    }
}
