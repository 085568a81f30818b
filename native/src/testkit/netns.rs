//! Real network faults between node processes, for the partition test and the chaos campaign's
//! cut rounds: a network namespace of the caller's own (`unshare -n`, gone when its last process
//! exits), nodes on 127.0.0.x addresses inside it, and nftables drop rules in one table of that
//! namespace. The host's namespace and its rules are never touched: [`enter`] refuses to run
//! [`Firewall`] anywhere but in a namespace other than init's.

use std::process::{Command, Stdio};

/// The table and chain every rule goes into (`inet chaos out`, an output hook: on loopback every
/// packet passes it exactly once).
const TABLE: &str = "chaos";

/// Runs `cmd args` (stdin piped from `stdin`), an error with its stderr if it fails.
pub fn run(cmd: &str, args: &[&str], stdin: Option<&str>) -> Result<(), String> {
    use std::io::Write;
    let mut c = Command::new(cmd)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if let Some(s) = stdin {
        c.stdin
            .take()
            .expect("piped stdin")
            .write_all(s.as_bytes())
            .map_err(|e| format!("{cmd}: {e}"))?;
    }
    let out = c.wait_with_output().map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "{cmd} {args:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The `unshare` flags that give this process a network namespace with nftables in it: `-n` for
/// root, `-r -n` (a user namespace too) for anyone else where the kernel allows it. An error
/// that says what is missing otherwise.
pub fn unshare_flags() -> Result<&'static [&'static str], String> {
    let quiet = |cmd: &mut Command| {
        cmd.stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if !quiet(Command::new("nft").arg("--version")) {
        return Err("no nft (Debian package nftables; make tools installs it)".into());
    }
    [&["-n"][..], &["-r", "-n"][..]]
        .into_iter()
        .find(|flags| {
            quiet(
                Command::new("unshare")
                    .args(*flags)
                    .args(["nft", "list", "tables"]),
            )
        })
        .ok_or_else(|| {
            "this machine cannot create a network namespace with nftables in it (unshare -n and \
             unshare -rn failed)"
                .into()
        })
}

/// Checks that this process is in a network namespace other than the host's (pid 1's) and
/// brings its loopback up (a new namespace starts with `lo` down).
pub fn enter() -> Result<(), String> {
    let here =
        std::fs::read_link("/proc/self/ns/net").map_err(|e| format!("/proc/self/ns/net: {e}"))?;
    if std::fs::read_link("/proc/1/ns/net").ok().as_ref() == Some(&here) {
        return Err("not inside a network namespace of its own: refusing to add nft rules".into());
    }
    run("ip", &["link", "set", "lo", "up"], None)
}

/// The drop rules between the nodes at `ips`, all listening on `port`. Call [`enter`] first.
pub struct Firewall {
    ips: Vec<String>,
    port: String,
}

impl Firewall {
    /// Creates the table (or empties the one an earlier story left).
    pub fn new(ips: &[&str], port: u16) -> Result<Firewall, String> {
        run(
            "nft",
            &["-f", "-"],
            Some(&format!(
                "table inet {TABLE} {{\n chain out {{\n  type filter hook output priority 0; policy accept;\n }}\n}}\n"
            )),
        )?;
        let fw = Firewall {
            ips: ips.iter().map(|s| s.to_string()).collect(),
            port: port.to_string(),
        };
        fw.heal()?;
        Ok(fw)
    }

    fn add(&self, rule: &[&str]) -> Result<(), String> {
        let mut args = vec!["add", "rule", "inet", TABLE, "out"];
        args.extend_from_slice(rule);
        run("nft", &args, None)
    }

    /// One way: drops node `from`'s requests to node `to` (packets from `from`'s address to
    /// `to`'s address and listening port). Dropping every packet of that address pair would cut
    /// TCP both ways (the answers to `to`'s own connections go the same way); like this, `to`'s
    /// requests to `from` and their answers still pass.
    pub fn cut(&self, from: usize, to: usize) -> Result<(), String> {
        let (f, t) = (&self.ips[from], &self.ips[to]);
        self.add(&[
            "ip", "saddr", f, "ip", "daddr", t, "tcp", "dport", &self.port, "drop",
        ])
    }

    /// Both ways between `a` and `b`: every packet, whatever the port.
    pub fn sever(&self, a: usize, b: usize) -> Result<(), String> {
        for (x, y) in [(a, b), (b, a)] {
            let (x, y) = (&self.ips[x], &self.ips[y]);
            self.add(&["ip", "saddr", x, "ip", "daddr", y, "drop"])?;
        }
        Ok(())
    }

    /// Two ways: every packet between `node` and every other node.
    pub fn isolate(&self, node: usize) -> Result<(), String> {
        for o in (0..self.ips.len()).filter(|o| *o != node) {
            self.sever(node, o)?;
        }
        Ok(())
    }

    /// Drops `percent` % of the packets between any two nodes, each packet on its own.
    pub fn lossy(&self, percent: u32) -> Result<(), String> {
        let set = format!("{{ {} }}", self.ips.join(", "));
        let p = percent.min(100).to_string();
        self.add(&[
            "ip", "saddr", &set, "ip", "daddr", &set, "numgen", "random", "mod", "100", "<", &p,
            "drop",
        ])
    }

    /// Removes every rule.
    pub fn heal(&self) -> Result<(), String> {
        run("nft", &["flush", "chain", "inet", TABLE, "out"], None)
    }
}
