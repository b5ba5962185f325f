//! What commands use to run processes and tests: cargo ([`cargo`]) and where things are
//! ([`workspace`]), the Python test tools ([`python`]) and the moto server ([`moto`]), an
//! HTTP client ([`http_client`]), SHA-256 digests ([`digest`]), saves ([`source_watch`]) and
//! scratch copies of the workspace ([`workspace_copy`]).

pub mod binary;
pub mod cargo;
pub mod digest;
pub mod http_client;
pub mod moto;
pub mod python;
pub mod source_watch;
pub mod workspace;
pub mod workspace_copy;
