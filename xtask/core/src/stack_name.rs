//! Stack names and the outputs a deployment leaves behind.

use crate::tools::workspace::state_dir;
use anyhow::{Context, Result, bail};
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;

/// A CloudFormation stack name: `tickets-<env>` or a personal `tickets-<env>-<owner>`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StackName(String);

/// The prefix of every stack this project deploys.
pub const PROJECT: &str = "tickets";

impl StackName {
    /// The stack for `env`, personal when `owner` is given, or exactly `explicit`.
    pub fn resolve(env: &str, owner: Option<&str>, explicit: Option<&str>) -> Result<Self> {
        let name = match (owner, explicit) {
            (Some(_), Some(_)) => bail!("give either --owner or --stack-name, not both"),
            (None, Some(name)) => name.to_owned(),
            (Some(owner), None) => {
                if owner.is_empty() || !owner.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
                {
                    bail!(
                        "--owner {owner:?} must be letters, digits and hyphens, e.g. --owner alice"
                    );
                }
                format!("{PROJECT}-{env}-{}", owner.to_ascii_lowercase())
            }
            (None, None) => format!("{PROJECT}-{env}"),
        };
        Self::new(name)
    }

    /// Checks CloudFormation's rules: a letter first, then letters, digits and hyphens, at
    /// most 128 characters. Physical names derive from it, so keep it short (≤ 40).
    pub fn new(name: String) -> Result<Self> {
        let valid = name.len() <= 40
            && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !valid {
            bail!(
                "stack name {name:?} is invalid: start with a letter, use letters, digits and hyphens, at most 40 characters"
            );
        }
        Ok(StackName(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Where `deploy` writes this stack's outputs: `.tickets/stacks/<stack>.json`, which
    /// `cargo clean` leaves alone.
    pub fn outputs_path(&self) -> PathBuf {
        state_dir().join("stacks").join(format!("{}.json", self.0))
    }

    /// The outputs of the last deployment from this machine.
    pub fn read_outputs(&self) -> Result<Outputs> {
        let path = self.outputs_path();
        let text = std::fs::read_to_string(&path).with_context(|| {
            format!(
                "no outputs for stack {self} at {}: deploy it first (`cargo xtask deploy`) or fetch them with `cargo xtask outputs`",
                path.display()
            )
        })?;
        serde_json::from_str(&text).with_context(|| format!("reading {}", path.display()))
    }

    /// Writes the outputs file.
    pub fn write_outputs(&self, outputs: &Outputs) -> Result<()> {
        let path = self.outputs_path();
        std::fs::create_dir_all(path.parent().expect("outputs live in a folder"))?;
        std::fs::write(&path, serde_json::to_string_pretty(outputs)? + "\n")?;
        Ok(())
    }
}

impl fmt::Display for StackName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A stack's outputs: `OutputKey` to `OutputValue`.
pub type Outputs = BTreeMap<String, String>;

/// Prints `Key  Value` lines on stdout.
pub fn print_outputs(outputs: &Outputs) {
    let width = outputs.keys().map(String::len).max().unwrap_or(0);
    for (key, value) in outputs {
        println!("{key:<width$}  {value}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_default_and_personal_stacks() {
        assert_eq!(
            StackName::resolve("dev", None, None).unwrap().as_str(),
            "tickets-dev"
        );
        assert_eq!(
            StackName::resolve("dev", Some("Alice"), None)
                .unwrap()
                .as_str(),
            "tickets-dev-alice"
        );
        assert_eq!(
            StackName::resolve("dev", None, Some("mine"))
                .unwrap()
                .as_str(),
            "mine"
        );
    }

    #[test]
    fn rejects_unusable_names() {
        assert!(StackName::resolve("dev", Some("a b"), None).is_err());
        assert!(StackName::resolve("dev", Some("x"), Some("y")).is_err());
        assert!(StackName::new("1abc".into()).is_err());
        assert!(StackName::new("a".repeat(41)).is_err());
    }
}
