//! The instruction sets Lambda runs, by their Rust, Lambda and ELF names.

use object::elf;
use tickets_infra::environment::Architecture;

/// A Lambda instruction set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Arch {
    /// Intel/AMD 64-bit.
    X86_64,
    /// Graviton (aarch64).
    Arm64,
}

impl Arch {
    /// The Rust target triple.
    pub fn triple(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64-unknown-linux-gnu",
            Arch::Arm64 => "aarch64-unknown-linux-gnu",
        }
    }

    /// Whether this machine builds it without a cross target (Linux, glibc, same instruction set).
    pub fn is_native(self) -> bool {
        match self {
            Arch::X86_64 => cfg!(all(
                target_arch = "x86_64",
                target_os = "linux",
                target_env = "gnu"
            )),
            Arch::Arm64 => cfg!(all(
                target_arch = "aarch64",
                target_os = "linux",
                target_env = "gnu"
            )),
        }
    }

    /// The name Lambda gives it (`x86_64`, `arm64`).
    pub fn lambda_name(self) -> &'static str {
        match self {
            Arch::X86_64 => "x86_64",
            Arch::Arm64 => "arm64",
        }
    }

    /// The ELF machine of its binaries.
    pub fn elf_machine(self) -> elf::Machine {
        match self {
            Arch::X86_64 => elf::EM_X86_64,
            Arch::Arm64 => elf::EM_AARCH64,
        }
    }
}

impl From<Architecture> for Arch {
    /// The instruction set an environment's function runs on.
    fn from(architecture: Architecture) -> Self {
        match architecture {
            Architecture::X86_64 => Arch::X86_64,
            Architecture::Arm64 => Arch::Arm64,
        }
    }
}
