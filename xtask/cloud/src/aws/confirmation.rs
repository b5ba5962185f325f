//! Asking before production changes: once for the changes, and again for skipping the canary.

use super::rollback;
use super::target::{Context, Safety};
use anyhow::Result;
use std::io::{BufRead, IsTerminal, Write};
use xtask_core::outcome::refused;

/// Production asks before changing anything; without a terminal it needs `--yes`.
pub fn confirm(ctx: &Context, safety: &Safety) -> Result<()> {
    confirm_production(ctx, safety.yes, "Apply these changes to")
}

/// Production asks `<question> production stack <name>?` before changing anything
/// (`yes`: asked already); without a terminal it needs `--yes`.
pub fn confirm_production(ctx: &Context, yes: bool, question: &str) -> Result<()> {
    if !ctx.env.is_production() || yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(refused(format!(
            "refusing to change production stack {} without confirmation: pass --yes (in CI, after an approval step)",
            ctx.stack
        )));
    }
    ask(&format!(
        "{question} production stack {}? [y/N] ",
        ctx.stack
    ))
}

/// Skipping the canary in production is asked about on its own, even after the changes
/// were confirmed; without a terminal, `--yes` with `--skip-canary` is the confirmation.
pub fn confirm_skip_canary(ctx: &Context, safety: &Safety) -> Result<()> {
    eprintln!(
        "xtask: --skip-canary: every request goes to the new version at once, and no alarm \
         stops or rolls back this update; the stack's tag {} records it",
        rollback::SKIP_CANARY_TAG
    );
    if !ctx.env.is_production() || (safety.yes && !std::io::stdin().is_terminal()) {
        return Ok(());
    }
    ask(&format!(
        "Skip the canary of production stack {}, with no alarm able to stop it? [y/N] ",
        ctx.stack
    ))
}

/// Asks a yes/no question on the terminal; anything but yes refuses.
fn ask(question: &str) -> Result<()> {
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer)?;
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        Ok(())
    } else {
        Err(refused("not confirmed; nothing was changed"))
    }
}
