//! `nacos-raft-node`: see `nacos-raft-node --help`.

fn main() -> std::process::ExitCode {
    nacos_raft_node::cli::main()
}
