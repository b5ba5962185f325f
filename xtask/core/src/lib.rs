//! What every xtask tool shares, and nothing heavy: building and packing the function
//! ([`lambda`]), running cargo, Python tools and moto and knowing where things are
//! ([`tools`]), the function's log lines as a person reads them ([`function_logs`]), the
//! smoke scenario ([`smoke`]), the exit codes ([`outcome`]) and how numbers are shown
//! ([`figures`]).

pub mod figures;
pub mod function_logs;
pub mod lambda;
pub mod outcome;
pub mod smoke;
pub mod stack_name;
pub mod tools;
