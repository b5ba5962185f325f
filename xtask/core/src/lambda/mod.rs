//! The Lambda's code as AWS runs it: `bootstrap` built in release mode for an instruction
//! set ([`arch`]), checked for what `provided.al2023` can run ([`elf`]) and packed into a
//! deterministic zip ([`zip_archive`]); [`artifact`] does all three.

pub mod arch;
pub mod artifact;
pub mod elf;
pub mod profile;
pub mod zip_archive;
