//! What a block device wrote, from its counters in `/sys/class/block/DEV/stat`: the cost of a
//! storage layout in bytes and requests, beside its fsync rounds (`make bench-vs-etcd`).

use std::path::{Path, PathBuf};

/// A block device's write counters: completed write requests and 512-byte sectors written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DiskCounters {
    /// Write requests completed.
    pub writes: u64,
    /// Sectors written (512 bytes each, whatever the device's own sector size).
    pub sectors: u64,
}

impl DiskCounters {
    /// Parses a block device's `stat` file (the kernel's Documentation/block/stat.rst: the
    /// 5th field is write requests, the 7th sectors written). `None` for anything else.
    pub fn parse(stat: &str) -> Option<DiskCounters> {
        let fields: Vec<u64> = stat
            .split_whitespace()
            .map(|x| x.parse().ok())
            .collect::<Option<_>>()?;
        Some(DiskCounters {
            writes: *fields.get(4)?,
            sectors: *fields.get(6)?,
        })
    }

    /// Reads the counters from a `stat` file.
    pub fn read(stat_file: &Path) -> Option<DiskCounters> {
        DiskCounters::parse(&std::fs::read_to_string(stat_file).ok()?)
    }

    /// KiB written and write requests between `before` and `after`, per one of `ops`
    /// operations; `None` without operations or when a counter went back (another device).
    pub fn per_op(before: DiskCounters, after: DiskCounters, ops: u64) -> Option<(f64, f64)> {
        let writes = after.writes.checked_sub(before.writes)?;
        let sectors = after.sectors.checked_sub(before.sectors)?;
        (ops > 0).then(|| {
            (
                sectors as f64 * 512.0 / 1024.0 / ops as f64,
                writes as f64 / ops as f64,
            )
        })
    }
}

/// One column of `findmnt` for the mount that holds `dir` (`SOURCE`, `FSTYPE`, ...); `None`
/// when `findmnt` is missing or says nothing.
pub fn mount_field(dir: &Path, column: &str) -> Option<String> {
    let out = std::process::Command::new("findmnt")
        .args(["-n", "-o", column, "--target"])
        .arg(dir)
        .output()
        .ok()?;
    let value = String::from_utf8_lossy(&out.stdout).trim().to_string();
    (!value.is_empty()).then_some(value)
}

/// The `stat` file of the block device that holds `dir`, if it is on one: `findmnt` names the
/// mount's source (`/dev/vda`, `/dev/mapper/x` → `/sys/class/block/dm-0` is not followed);
/// overlay, tmpfs or a missing `findmnt` give `None`.
pub fn stat_file(dir: &Path) -> Option<PathBuf> {
    let source = mount_field(dir, "SOURCE")?;
    let dev = source.strip_prefix("/dev/")?;
    let path = PathBuf::from(format!("/sys/class/block/{dev}/stat"));
    DiskCounters::read(&path).map(|_| path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line of `/sys/block/vda/stat` (17 fields, Linux 5.5+) and an older 11-field one.
    #[test]
    fn the_write_counters_are_the_fifth_and_seventh_fields() {
        let line = " 4802035  1059611 108601370  6654228 131983178 120994386 2539711200 43976144        0  9786692 57164321 92295233     5073 1515520256  5182419 32462198  1351529\n";
        assert_eq!(
            DiskCounters::parse(line),
            Some(DiskCounters {
                writes: 131983178,
                sectors: 2539711200
            })
        );
        assert_eq!(
            DiskCounters::parse("1 2 3 4 5 6 7 8 9 10 11"),
            Some(DiskCounters {
                writes: 5,
                sectors: 7
            })
        );
        assert_eq!(DiskCounters::parse("1 2 3 4 5 6"), None);
        assert_eq!(DiskCounters::parse("1 2 3 4 x 6 7"), None);
        assert_eq!(DiskCounters::parse(""), None);
    }

    #[test]
    fn per_op_divides_the_differences_and_refuses_what_cannot_be() {
        let at = |writes, sectors| DiskCounters { writes, sectors };
        // 4,000 requests and 80,000 sectors (40,000 KiB) over 1,000 writes.
        assert_eq!(
            DiskCounters::per_op(at(10, 100), at(4010, 80_100), 1000),
            Some((40.0, 4.0))
        );
        assert_eq!(
            DiskCounters::per_op(at(10, 100), at(10, 100), 5),
            Some((0.0, 0.0))
        );
        assert_eq!(DiskCounters::per_op(at(10, 100), at(20, 200), 0), None);
        assert_eq!(DiskCounters::per_op(at(10, 100), at(9, 200), 5), None);
        assert_eq!(DiskCounters::per_op(at(10, 100), at(20, 99), 5), None);
    }

    /// Where `findmnt` says the root is on a device node, its counters are found and read;
    /// elsewhere (a container's overlay) there is nothing to find.
    #[test]
    fn the_root_device_s_counters_are_found_when_it_has_one() {
        let source = mount_field(Path::new("/"), "SOURCE").unwrap_or_default();
        let on_device = source.starts_with("/dev/")
            && Path::new(&format!("/sys/class/block/{}", &source[5..])).exists();
        let found = stat_file(Path::new("/"));
        assert_eq!(
            found.is_some(),
            on_device,
            "root on {source:?}, found {found:?}"
        );
    }
}
