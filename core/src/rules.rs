//! Which protocol rules a node follows: Nacos 1.4.1's, flaws included, or a hardened set of fixes
//! that keeps the wire (issue #13, `docs/hardened/`).
//!
//! Every fix is named after the flaw it fixes and can be switched on alone, so the simulator and
//! the page can show what each one changes. [`Rules::Nacos141`] is the default everywhere.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;
use core::str::FromStr;

/// One fix of the hardened rule set, named after the flaw it removes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Fix {
    /// Stale vote counting: `decideLeader` counts every peer's last `voteFor`, even votes cast in
    /// an older term. Fixed: only votes granted for the candidate's current term count.
    StaleVotes,
    /// The +100 term rule and terms moved by sync: every write adds 100 to the leader's term and
    /// followers copy terms from publishes and beats. Fixed: terms move only by elections.
    TermBump,
    /// A candidate with stale data wins (alibaba/nacos#785). Fixed: a voter refuses a candidate
    /// whose log position (the leader's write numbers, acked by followers in order) is below its
    /// own, or, at the same position, whose data is older.
    StaleCandidate,
    /// The dead-key rule deletes acknowledged writes (alibaba/nacos#3652). Fixed: a follower
    /// never deletes a key it holds newer than the leader's view.
    DeadKey,
    /// Two leaders at once: a leader never steps down on its own. Fixed: a leader that has not
    /// heard from a majority for a leader timeout steps down.
    TwoLeaders,
    /// Slow failover: the new leader's first beat comes a heartbeat interval after it wins, so its
    /// first publish is refused as "not leader". Fixed: it beats at once.
    FirstBeat,
    /// The global `OPERATE_LOCK`: one write at a time in the whole cluster. Fixed: writes to
    /// different keys run in parallel, one key's writes stay in order.
    GlobalLock,
    /// The term lost on restart. Fixed: the term (and the vote) are persisted on every change and
    /// reloaded.
    TermOnRestart,
    /// Writes left waiting on a deposed leader: a follower that forwarded a write keeps waiting
    /// for that leader's answer after it has stopped following it (Java's forward has no read
    /// timeout), so a client stays stuck on a leader cut off from the cluster. Fixed: a follower
    /// that stops following a leader fails the writes it forwarded there at once, and the client
    /// retries at a live one.
    StaleForward,
    /// A split vote costs a whole leader due: two members that campaign in the same term each
    /// vote for themselves and refuse the other, and both wait `LEADER_TIMEOUT + RANDOM` (15-20 s)
    /// before they try again, where they may split again. Fixed: of two candidates that split,
    /// the one the other would vote for (log position, data version, then the lower address)
    /// tries again at the next tick, and the other grants it that higher term.
    SplitVote,
}

impl Fix {
    /// Every fix, in a fixed order (the order of [`Fixes`]' bits and of the docs).
    pub const ALL: [Fix; 10] = [
        Fix::StaleVotes,
        Fix::TermBump,
        Fix::StaleCandidate,
        Fix::DeadKey,
        Fix::TwoLeaders,
        Fix::FirstBeat,
        Fix::GlobalLock,
        Fix::TermOnRestart,
        Fix::StaleForward,
        Fix::SplitVote,
    ];

    /// The fix's name in CLIs and URLs (`stale-votes`, `term-bump`, ...).
    pub fn name(self) -> &'static str {
        match self {
            Fix::StaleVotes => "stale-votes",
            Fix::TermBump => "term-bump",
            Fix::StaleCandidate => "stale-candidate",
            Fix::DeadKey => "dead-key",
            Fix::TwoLeaders => "two-leaders",
            Fix::FirstBeat => "first-beat",
            Fix::GlobalLock => "global-lock",
            Fix::TermOnRestart => "term-on-restart",
            Fix::StaleForward => "stale-forward",
            Fix::SplitVote => "split-vote",
        }
    }

    fn bit(self) -> u16 {
        1 << (self as u16)
    }
}

impl fmt::Display for Fix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A set of [`Fix`]es.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Fixes(u16);

impl Fixes {
    /// No fix: Nacos 1.4.1.
    pub const NONE: Fixes = Fixes(0);
    /// Every fix.
    pub const ALL: Fixes = Fixes((1 << Fix::ALL.len()) - 1);

    /// Whether `fix` is in the set.
    pub fn has(self, fix: Fix) -> bool {
        self.0 & fix.bit() != 0
    }

    /// The set with `fix` switched on or off.
    #[must_use]
    pub fn with(self, fix: Fix, on: bool) -> Fixes {
        if on {
            Fixes(self.0 | fix.bit())
        } else {
            Fixes(self.0 & !fix.bit())
        }
    }

    /// The fixes in the set, in [`Fix::ALL`] order.
    pub fn iter(self) -> impl Iterator<Item = Fix> {
        Fix::ALL.into_iter().filter(move |f| self.has(*f))
    }
}

/// The rule set of a node (or of every node of a simulation).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Rules {
    /// Nacos 1.4.1, flaws included.
    #[default]
    Nacos141,
    /// Every fix.
    Hardened,
    /// Nacos 1.4.1 with some fixes (the page's per-fix switches).
    Custom(Fixes),
}

impl Rules {
    /// The fixes this rule set applies.
    pub fn fixes(self) -> Fixes {
        match self {
            Rules::Nacos141 => Fixes::NONE,
            Rules::Hardened => Fixes::ALL,
            Rules::Custom(f) => f,
        }
    }

    /// Whether `fix` applies.
    pub fn has(self, fix: Fix) -> bool {
        self.fixes().has(fix)
    }

    /// The same fixes, named `Nacos141` or `Hardened` when they are none or all.
    #[must_use]
    pub fn normalized(self) -> Rules {
        match self.fixes() {
            Fixes::NONE => Rules::Nacos141,
            Fixes::ALL => Rules::Hardened,
            f => Rules::Custom(f),
        }
    }
}

/// Text that names no rule set, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RulesError(pub String);

impl fmt::Display for RulesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(feature = "std")]
impl std::error::Error for RulesError {}

/// `nacos`, `hardened`, fixes joined by `+` (`stale-votes+two-leaders`), or `hardened-` and the
/// fixes to leave out (`hardened-split-vote`, `hardened-split-vote+first-beat`: every fix but
/// these, the experiment "what does this one fix buy"): the form of `--rules` and of the page's
/// `rules=` field. [`fmt::Display`] writes the first three forms back (a set without a few
/// fixes as the `+` list of the others).
impl FromStr for Rules {
    type Err = RulesError;

    fn from_str(s: &str) -> Result<Rules, RulesError> {
        match s {
            "nacos" => return Ok(Rules::Nacos141),
            "hardened" => return Ok(Rules::Hardened),
            "" => {
                return Err(RulesError(
                    "the rule set is empty: nacos or hardened".into(),
                ))
            }
            _ => {}
        }
        // "hardened" is no fix's name, so the prefix cannot be read as the start of one.
        let (start, list, on) = match s.strip_prefix("hardened-") {
            Some(left_out) => (Fixes::ALL, left_out, false),
            None => (Fixes::NONE, s, true),
        };
        let mut fixes = start;
        for name in list.split('+') {
            let fix = Fix::ALL
                .into_iter()
                .find(|f| f.name() == name)
                .ok_or_else(|| {
                    let names: Vec<&str> = Fix::ALL.iter().map(|f| f.name()).collect();
                    RulesError(alloc::format!(
                        "{name:?} is not a rule set: nacos, hardened, or fixes joined by + \
                         ({}); hardened-FIX+FIX is every fix but those",
                        names.join(", ")
                    ))
                })?;
            fixes = fixes.with(fix, on);
        }
        Ok(Rules::Custom(fixes).normalized())
    }
}

impl fmt::Display for Rules {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.normalized() {
            Rules::Nacos141 => f.write_str("nacos"),
            Rules::Hardened => f.write_str("hardened"),
            Rules::Custom(fixes) => {
                for (i, fix) in fixes.iter().enumerate() {
                    if i > 0 {
                        f.write_str("+")?;
                    }
                    f.write_str(fix.name())?;
                }
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    #[test]
    fn names_round_trip() {
        for s in [
            "nacos",
            "hardened",
            "stale-votes",
            "term-bump+two-leaders+term-on-restart",
        ] {
            assert_eq!(s.parse::<Rules>().unwrap().to_string(), s);
        }
        let every = Fix::ALL.map(Fix::name).join("+");
        assert_eq!(every.parse::<Rules>().unwrap(), Rules::Hardened);
        assert_eq!(Rules::Custom(Fixes::NONE).to_string(), "nacos");
    }

    #[test]
    fn bad_names_say_what_is_allowed() {
        let e = "raft".parse::<Rules>().unwrap_err().0;
        assert!(
            e.starts_with("\"raft\" is not a rule set: nacos, hardened"),
            "{e}"
        );
        assert!(e.contains("stale-votes, term-bump"), "{e}");
        assert!("".parse::<Rules>().is_err());
        assert!("stale-votes+".parse::<Rules>().is_err());
        let e = "hardened-raft".parse::<Rules>().unwrap_err().0;
        assert!(e.starts_with("\"raft\" is not a rule set"), "{e}");
        assert!("hardened-".parse::<Rules>().is_err());
        assert!("hardened-split-vote+".parse::<Rules>().is_err());
    }

    #[test]
    fn hardened_less_some_fixes() {
        let r: Rules = "hardened-split-vote".parse().unwrap();
        assert!(!r.has(Fix::SplitVote));
        assert_eq!(r.fixes(), Fixes::ALL.with(Fix::SplitVote, false));
        // Written back as the list of the fixes that are on.
        let others: Vec<&str> = Fix::ALL
            .into_iter()
            .filter(|f| *f != Fix::SplitVote)
            .map(Fix::name)
            .collect();
        assert_eq!(r.to_string(), others.join("+"));
        assert_eq!(r.to_string().parse::<Rules>().unwrap(), r);
        let two: Rules = "hardened-split-vote+first-beat".parse().unwrap();
        assert_eq!(
            two.fixes(),
            Fixes::ALL
                .with(Fix::SplitVote, false)
                .with(Fix::FirstBeat, false)
        );
        let every = Fix::ALL.map(Fix::name).join("+");
        assert_eq!(
            alloc::format!("hardened-{every}").parse::<Rules>().unwrap(),
            Rules::Nacos141
        );
    }

    #[test]
    fn fixes_switch_alone() {
        let r = Rules::Custom(Fixes::NONE.with(Fix::DeadKey, true));
        assert!(r.has(Fix::DeadKey) && !r.has(Fix::StaleVotes));
        assert!(Rules::Hardened.has(Fix::GlobalLock) && !Rules::Nacos141.has(Fix::GlobalLock));
        assert_eq!(
            Fixes::ALL.with(Fix::DeadKey, false).iter().count(),
            Fix::ALL.len() - 1
        );
    }
}
