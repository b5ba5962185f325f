//! The cargo profiles a function is built with: `release` for everything that may reach
//! staging or production, and `dev` for the inner loop, where a one-line change rebuilds in
//! seconds instead of the release profile's fat LTO minute.

use serde::{Deserialize, Serialize};

/// A build profile, recorded with every artifact (S3 object metadata `build-profile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Small and quick to start: what staging and production run.
    Release,
    /// Incremental, no LTO, shared with the workspace's own debug builds: for personal stacks.
    Dev,
}

impl Profile {
    /// The name cargo and the artifact metadata use.
    pub fn name(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Dev => "dev",
        }
    }

    /// The folder cargo writes it to.
    pub fn dir(self) -> &'static str {
        match self {
            Profile::Release => "release",
            Profile::Dev => "debug",
        }
    }

    /// Reads a recorded name; artifacts recorded before profiles were were all release builds.
    pub fn parse(recorded: Option<&str>) -> Option<Profile> {
        match recorded {
            None | Some("release") => Some(Profile::Release),
            Some("dev") => Some(Profile::Dev),
            Some(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_artifact_without_a_recorded_profile_is_a_release_build() {
        assert_eq!(Profile::parse(None), Some(Profile::Release));
        assert_eq!(Profile::parse(Some("dev")), Some(Profile::Dev));
        assert_eq!(Profile::parse(Some("fast")), None);
    }
}
