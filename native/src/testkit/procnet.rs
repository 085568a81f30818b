//! The TCP sockets a process holds, from Linux's `/proc`: a check that a process a benchmark
//! started (etcd, which has no `--loopback-only`) listens and connects on loopback only.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// One TCP socket: local and remote address (the remote is `0.0.0.0:0` or `[::]:0` for a
/// listener).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TcpSocket {
    /// The local end.
    pub local: SocketAddr,
    /// The remote end.
    pub remote: SocketAddr,
}

/// Every TCP socket (IPv4 and IPv6) process `pid` has open.
pub fn tcp_sockets(pid: u32) -> std::io::Result<Vec<TcpSocket>> {
    let mut inodes = Vec::new();
    for fd in std::fs::read_dir(format!("/proc/{pid}/fd"))? {
        // An fd can close between the listing and the readlink.
        let Ok(target) = std::fs::read_link(fd?.path()) else {
            continue;
        };
        if let Some(n) = target
            .to_string_lossy()
            .strip_prefix("socket:[")
            .and_then(|s| s.strip_suffix(']'))
        {
            inodes.push(n.to_string());
        }
    }
    let mut out = Vec::new();
    for table in ["tcp", "tcp6"] {
        // The process's network namespace, which is the one its sockets live in.
        let text = std::fs::read_to_string(format!("/proc/{pid}/net/{table}"))?;
        out.extend(
            parse_table(&text)
                .into_iter()
                .filter(|(inode, _)| inodes.contains(inode))
                .map(|(_, s)| s),
        );
    }
    Ok(out)
}

/// The sockets of `pid` with an end outside 127.0.0.0/8 (IPv6 `::1` and IPv4-mapped loopback
/// count as loopback; a wildcard listener does not).
pub fn non_loopback(pid: u32) -> std::io::Result<Vec<TcpSocket>> {
    Ok(tcp_sockets(pid)?
        .into_iter()
        .filter(|s| !on_loopback(s))
        .collect())
}

/// Whether both ends of `s` are loopback (a listener's unspecified remote end counts).
fn on_loopback(s: &TcpSocket) -> bool {
    let listener = s.remote.port() == 0 && s.remote.ip().is_unspecified();
    is_loopback(&s.local) && (listener || is_loopback(&s.remote))
}

fn is_loopback(a: &SocketAddr) -> bool {
    match a.ip() {
        IpAddr::V4(v4) => v4.is_loopback(),
        IpAddr::V6(v6) => {
            v6.is_loopback() || v6.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback())
        }
    }
}

/// `(inode, socket)` of every row of a `/proc/net/tcp` or `/proc/net/tcp6` table.
fn parse_table(text: &str) -> Vec<(String, TcpSocket)> {
    text.lines()
        .skip(1)
        .filter_map(|line| {
            let f: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode …
            let local = parse_addr(f.get(1)?)?;
            let remote = parse_addr(f.get(2)?)?;
            Some((f.get(9)?.to_string(), TcpSocket { local, remote }))
        })
        .collect()
}

/// `0100007F:1F90` (IPv4) or 32 hex digits `:port` (IPv6): the address as four 32-bit words in
/// host byte order (little-endian here), the port in big-endian hex.
fn parse_addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let words: Vec<u32> = (0..ip.len() / 8)
        .map(|i| u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok())
        .collect::<Option<_>>()?;
    let bytes: Vec<u8> = words.iter().flat_map(|w| w.to_le_bytes()).collect();
    let ip = match bytes.len() {
        4 => IpAddr::V4(Ipv4Addr::new(bytes[0], bytes[1], bytes[2], bytes[3])),
        16 => IpAddr::V6(Ipv6Addr::from(<[u8; 16]>::try_from(bytes.as_slice()).ok()?)),
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TCP: &str = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:5DC1 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1111 1 0000000000000000 100 0 0 10 0
   1: 0100007F:5DC1 0100007F:A2B4 01 00000000:00000000 00:00000000 00000000     0        0 2222 1 0000000000000000 20 4 30 10 -1
   2: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 3333 1 0000000000000000 100 0 0 10 0
   3: 0F02000A:D431 08080808:01BB 01 00000000:00000000 00:00000000 00000000     0        0 4444 1 0000000000000000 20 4 30 10 -1
";
    const TCP6: &str = "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5555 1 0000000000000000 100 0 0 10 0
   1: 0000000000000000FFFF00000100007F:0050 0000000000000000FFFF00000100007F:C000 01 00000000:00000000 00:00000000 00000000     0        0 6666 1 0000000000000000 100 0 0 10 0
";

    #[test]
    fn proc_net_tcp_rows_are_decoded() {
        let rows = parse_table(TCP);
        let addr = |s: &str| s.parse::<SocketAddr>().unwrap();
        assert_eq!(rows.len(), 4);
        assert_eq!(rows[0].0, "1111");
        assert_eq!(rows[0].1.local, addr("127.0.0.1:24001"));
        assert_eq!(rows[1].1.remote, addr("127.0.0.1:41652"));
        assert_eq!(rows[2].1.local, addr("0.0.0.0:8080"));
        assert_eq!(rows[3].1.local, addr("10.0.2.15:54321"));
        assert_eq!(rows[3].1.remote, addr("8.8.8.8:443"));
        let rows6 = parse_table(TCP6);
        assert_eq!(rows6[0].1.local, addr("[::1]:80"));
        assert_eq!(rows6[1].1.local, addr("[::ffff:127.0.0.1]:80"));
    }

    #[test]
    fn only_loopback_ends_pass() {
        let verdicts: Vec<bool> = parse_table(TCP)
            .iter()
            .chain(parse_table(TCP6).iter())
            .map(|(_, s)| on_loopback(s))
            .collect();
        assert_eq!(verdicts, [true, true, false, false, true, true]);
    }

    #[test]
    fn this_process_sockets_are_listed() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let mine = tcp_sockets(std::process::id()).unwrap();
        assert!(
            mine.iter()
                .any(|s| s.local.port() == port && s.local.ip().is_loopback()),
            "{mine:?}"
        );
        assert!(non_loopback(std::process::id())
            .unwrap()
            .iter()
            .all(|s| s.local.port() != port));
    }
}
