//! `cargo xtask synth`: placeholder until the infra crate lands.

/// Arguments of `synth`.
#[derive(clap::Args)]
pub struct Args {}

/// Renders the template.
pub fn run(_args: Args) -> anyhow::Result<()> {
    anyhow::bail!("synth is not implemented yet")
}
