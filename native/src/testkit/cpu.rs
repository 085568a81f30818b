//! How busy the machine's cores were, from the kernel's counters in `/proc/stat`: whether a
//! side-by-side cell was limited by the cores (both systems share them with the load generator),
//! and what one operation cost in CPU time (`make bench-vs-etcd`).

/// The machine's CPU time so far, summed over every core, in the kernel's clock ticks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CpuTimes {
    /// Time spent running something: user, nice, system, interrupts and time stolen by the
    /// hypervisor (guest time is already inside user).
    pub busy: u64,
    /// Time with nothing to run: idle and waiting for I/O.
    pub idle: u64,
}

/// Where the counters are.
pub const PROC_STAT: &str = "/proc/stat";

impl CpuTimes {
    /// Parses the first line of `/proc/stat` (`cpu  user nice system idle iowait irq softirq
    /// steal guest guest_nice`; kernels before 2.6.11 stop after `softirq`). `None` for anything
    /// else.
    pub fn parse(stat: &str) -> Option<CpuTimes> {
        let mut words = stat.lines().next()?.split_whitespace();
        if words.next()? != "cpu" {
            return None;
        }
        let f: Vec<u64> = words.map(|x| x.parse().ok()).collect::<Option<_>>()?;
        if f.len() < 7 {
            return None;
        }
        let steal = f.get(7).copied().unwrap_or(0);
        Some(CpuTimes {
            busy: f[0] + f[1] + f[2] + f[5] + f[6] + steal,
            idle: f[3] + f[4],
        })
    }

    /// Reads the counters from [`PROC_STAT`]; `None` where there is no such file (not Linux).
    pub fn read() -> Option<CpuTimes> {
        CpuTimes::parse(&std::fs::read_to_string(PROC_STAT).ok()?)
    }

    /// The share of the cores' time that was busy between `before` and `after` (0 to 1), and
    /// the busy CPU time per one of `ops` operations in ms, given the counters' `ticks_per_s`;
    /// `None` when no time passed, a counter went back, or there were no operations.
    pub fn busy(
        before: CpuTimes,
        after: CpuTimes,
        ops: u64,
        ticks_per_s: u64,
    ) -> Option<(f64, f64)> {
        let busy = after.busy.checked_sub(before.busy)?;
        let idle = after.idle.checked_sub(before.idle)?;
        (busy + idle > 0 && ops > 0 && ticks_per_s > 0).then(|| {
            (
                busy as f64 / (busy + idle) as f64,
                busy as f64 * 1000.0 / ticks_per_s as f64 / ops as f64,
            )
        })
    }
}

/// The unit of `/proc/stat`'s counters (`USER_HZ`, 100 on Linux), from `sysconf(_SC_CLK_TCK)`.
pub fn ticks_per_second() -> u64 {
    #[cfg(target_os = "linux")]
    return rustix::param::clock_ticks_per_second();
    #[cfg(not(target_os = "linux"))]
    100
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `/proc/stat` of this VM (2 cores) and an old kernel's line without steal time.
    #[test]
    fn busy_is_everything_but_idle_and_iowait() {
        let stat = "cpu  1084296 1532 1019383 13251937 396214 0 19513 0 0 0\ncpu0 540111 760 510028 6626262 197712 0 16291 0 0 0\nintr 1 2 3\n";
        assert_eq!(
            CpuTimes::parse(stat),
            Some(CpuTimes {
                busy: 1084296 + 1532 + 1019383 + 19513,
                idle: 13251937 + 396214
            })
        );
        assert_eq!(
            CpuTimes::parse("cpu 10 1 5 100 7 2 3\n"),
            Some(CpuTimes {
                busy: 10 + 1 + 5 + 2 + 3,
                idle: 107
            })
        );
        assert_eq!(
            CpuTimes::parse("cpu 10 1 5 100 7 2 3 4 9 0"),
            Some(CpuTimes {
                busy: 10 + 1 + 5 + 2 + 3 + 4,
                idle: 107
            })
        );
    }

    #[test]
    fn other_text_is_refused() {
        assert_eq!(CpuTimes::parse(""), None);
        assert_eq!(CpuTimes::parse("cpu0 1 2 3 4 5 6 7"), None);
        assert_eq!(CpuTimes::parse("cpu 1 2 3 4 5 6"), None);
        assert_eq!(CpuTimes::parse("cpu 1 2 x 4 5 6 7"), None);
        assert_eq!(
            CpuTimes::parse("intr 1 2 3 4 5 6 7\ncpu 1 2 3 4 5 6 7"),
            None
        );
    }

    #[test]
    fn busy_divides_the_differences_and_refuses_what_cannot_be() {
        let at = |busy, idle| CpuTimes { busy, idle };
        // 2 cores for 10 s at 100 ticks/s: 2,000 ticks, 1,500 busy, over 3,000 writes.
        assert_eq!(
            CpuTimes::busy(at(100, 200), at(1600, 700), 3000, 100),
            Some((0.75, 5.0))
        );
        assert_eq!(CpuTimes::busy(at(100, 200), at(100, 200), 5, 100), None);
        assert_eq!(CpuTimes::busy(at(100, 200), at(200, 300), 0, 100), None);
        assert_eq!(CpuTimes::busy(at(100, 200), at(99, 300), 5, 100), None);
        assert_eq!(CpuTimes::busy(at(100, 200), at(200, 199), 5, 100), None);
    }

    /// On Linux the counters are there and move forward.
    #[test]
    fn the_machine_s_counters_are_read() {
        if !std::path::Path::new(PROC_STAT).exists() {
            return;
        }
        let a = CpuTimes::read().expect("/proc/stat parses");
        std::thread::sleep(std::time::Duration::from_millis(30));
        let b = CpuTimes::read().expect("/proc/stat parses");
        assert!(b.busy >= a.busy && b.idle >= a.idle);
        assert!(ticks_per_second() > 0);
    }
}
