//! `cargo xtask synth`: render an environment's CloudFormation template.

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};
use tickets_infra::Format;
use xtask_core::tools::workspace::root;

/// Arguments of `synth`.
#[derive(clap::Args)]
pub struct Args {
    /// Environment to render: the name of a file in environments/ (local, dev, staging, prod).
    #[arg(long)]
    pub env: String,
    /// Output format [default: from the --out extension, else yaml].
    #[arg(long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Write the template to this file (directories are created) instead of stdout.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

/// Formats `synth` renders.
#[derive(Clone, Copy, clap::ValueEnum)]
pub enum OutputFormat {
    /// Pretty JSON.
    Json,
    /// YAML.
    Yaml,
}

/// Renders the template to stdout or to `--out`.
pub fn run(args: Args) -> Result<()> {
    let template = tickets_infra::synth(&root(), &args.env)
        .with_context(|| format!("synthesizing environment {}", args.env))?;
    let format = match (args.format, &args.out) {
        (Some(OutputFormat::Json), _) => Format::Json,
        (Some(OutputFormat::Yaml), _) => Format::Yaml,
        (None, Some(path)) if has_extension(path, "json") => Format::Json,
        (None, _) => Format::Yaml,
    };
    let text = template.render(format);
    match args.out {
        None => print!("{text}"),
        Some(path) => {
            if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            std::fs::write(&path, &text).with_context(|| format!("writing {}", path.display()))?;
            eprintln!(
                "xtask: wrote the {} template to {} ({} bytes)",
                args.env,
                path.display(),
                text.len()
            );
        }
    }
    Ok(())
}

fn has_extension(path: &Path, extension: &str) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case(extension))
}
