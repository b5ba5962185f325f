//! How a command ends, beyond success: the exit codes the README documents.

use std::fmt;

/// A command's unsuccessful end, with the exit code CI can branch on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// `3`: refused for safety (data loss, wrong account, production without confirmation).
    Refused,
    /// `4`: the deployment ran and failed (CloudFormation rolled back).
    DeployFailed,
    /// `130`: interrupted with Ctrl-C; CloudFormation keeps going.
    Interrupted,
}

impl Exit {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Exit::Refused => 3,
            Exit::DeployFailed => 4,
            Exit::Interrupted => 130,
        }
    }
}

/// An error that carries its exit code.
#[derive(Debug)]
pub struct Failure {
    /// The exit code's meaning.
    pub exit: Exit,
    /// What happened and what to do.
    pub message: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Refused for safety (exit 3).
pub fn refused(message: impl Into<String>) -> anyhow::Error {
    Failure {
        exit: Exit::Refused,
        message: message.into(),
    }
    .into()
}

/// The deployment failed (exit 4).
pub fn deploy_failed(message: impl Into<String>) -> anyhow::Error {
    Failure {
        exit: Exit::DeployFailed,
        message: message.into(),
    }
    .into()
}

/// Interrupted (exit 130).
pub fn interrupted(message: impl Into<String>) -> anyhow::Error {
    Failure {
        exit: Exit::Interrupted,
        message: message.into(),
    }
    .into()
}

/// The exit code for an error: its [`Failure`]'s, or `1`.
pub fn exit_code(err: &anyhow::Error) -> u8 {
    err.downcast_ref::<Failure>().map_or(1, |f| f.exit.code())
}

/// Prints an error's whole chain (`error: …`) and turns the result into the exit code.
pub fn report(result: anyhow::Result<()>) -> std::process::ExitCode {
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            std::process::ExitCode::from(exit_code(&err))
        }
    }
}
