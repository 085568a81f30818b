//! The binary's front: parse the command line ([`options`](crate::options)), then either run a
//! node ([`run`]) or a client command ([`client`]), and turn the outcome into an exit code.
//!
//! Exit codes: 0 done; [`EXIT_CONFIG`] (2) bad options or configuration, as clap uses for its
//! own usage errors; [`EXIT_ENV`] (1) the environment refused (data directory, port, runtime) or
//! the server of a client command failed or answered an error; and two fail-stop exits of a
//! running node: [`EXIT_ACTOR`] (70) when the task owning the protocol state died and
//! [`EXIT_IO_ERROR`](crate::writer::EXIT_IO_ERROR) (74) when the disk refused a write.

use crate::client;
use crate::options::Cli;
use crate::run;
use clap::Parser;
use std::fmt;
use std::process::ExitCode;

/// Exit code for bad options or configuration (as clap uses for usage errors).
pub const EXIT_CONFIG: u8 = 2;
/// Exit code when the environment refuses (port in use, data directory unusable).
pub const EXIT_ENV: u8 = 1;
/// Exit code when the task owning the protocol state died (`EX_SOFTWARE`).
pub const EXIT_ACTOR: i32 = 70;

/// Why the binary stops with an error: the message printed on stderr (after
/// `nacos-raft-node: `) and, by its kind, the exit code.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CliError {
    /// Bad options or configuration, found before anything started: exit [`EXIT_CONFIG`].
    Config(String),
    /// The environment refused (runtime, data directory, port), or the node a client command
    /// talks to failed or answered an error: exit [`EXIT_ENV`].
    Env(String),
}

impl CliError {
    /// The process exit code of this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Config(_) => EXIT_CONFIG,
            CliError::Env(_) => EXIT_ENV,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Config(m) | CliError::Env(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for CliError {}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("nacos-raft-node: {e}");
            ExitCode::from(e.exit_code())
        }
    }
}

/// Runs what the command line asks for.
fn dispatch(cli: Cli) -> Result<(), CliError> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_name("nacos-raft")
        .build()
        .map_err(|e| CliError::Env(format!("cannot start the runtime: {e}")))?;
    match cli.command {
        Some(cmd) => {
            // The client commands talk to the raft endpoints: they carry the identity too.
            let identity = cli.node.identity().map_err(CliError::Config)?;
            rt.block_on(client::run_client(cmd, identity))
        }
        None => {
            let settings = cli.node.settings().map_err(CliError::Config)?;
            rt.block_on(run::run_node(settings))
        }
    }
}

fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_kind_of_error_has_its_exit_code_and_prints_its_message() {
        let config = CliError::Config("--addr: empty member address".into());
        let env = CliError::Env("cannot listen on 127.0.0.1:1: denied".into());
        assert_eq!((config.exit_code(), env.exit_code()), (2, 1));
        assert_eq!(config.to_string(), "--addr: empty member address");
        assert_eq!(env.to_string(), "cannot listen on 127.0.0.1:1: denied");
    }
}
