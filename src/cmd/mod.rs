//! One file per subcommand; each is a short orchestration of the layers below.

pub mod ack;
pub mod check;
pub mod completions;
pub mod healthcheck;
pub mod init;
pub mod notify;
pub mod run;
pub mod schema;
pub mod simulate;
pub mod status;
pub mod validate;
