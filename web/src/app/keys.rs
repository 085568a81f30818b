//! The keyboard and the speed notches: which key does what (and how the help lists it), and the
//! playback speeds that `+`, `−` and the slider step through. Pure, tested on the host.

use crate::i18n::Tr;

/// What a key asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    /// Play or pause.
    TogglePlay,
    /// Step to the next moment something happens.
    Step,
    /// Back to the previous one.
    StepBack,
    /// The next speed notch up.
    Faster,
    /// The next speed notch down.
    Slower,
    /// Slow motion on or off.
    ToggleSlowmo,
    /// The next (true) or previous mark of the timeline.
    Mark(bool),
    /// Show or hide the help.
    Help,
    /// The other language.
    Lang,
    /// Close the help, or deselect.
    Escape,
    /// Crash the selected node, or restart it if it is down.
    CrashOrRestart,
    /// Make the selected node's leader due run out.
    TimeoutNow,
    /// Select node `i` (keys 1 … 9, then 0 for the tenth).
    Node(usize),
}

/// The keymap: the `KeyboardEvent.key` values of each command (digits select nodes).
const KEYMAP: [(&[&str], Command); 13] = [
    (&[" ", "k"], Command::TogglePlay),
    (&[".", "ArrowRight"], Command::Step),
    (&[",", "ArrowLeft"], Command::StepBack),
    (&["+", "="], Command::Faster),
    (&["-", "_"], Command::Slower),
    (&["s"], Command::ToggleSlowmo),
    (&["["], Command::Mark(false)),
    (&["]"], Command::Mark(true)),
    (&["?", "h"], Command::Help),
    (&["l"], Command::Lang),
    (&["Escape"], Command::Escape),
    (&["c"], Command::CrashOrRestart),
    (&["t"], Command::TimeoutNow),
];

/// The command of a key (`KeyboardEvent.key`), if it has one. The caller leaves out keys typed
/// into a text field or held with Ctrl, Alt or Meta.
pub fn command(key: &str) -> Option<Command> {
    if let [d] = key.as_bytes() {
        if d.is_ascii_digit() {
            let n = usize::from(d - b'0');
            return Some(Command::Node(if n == 0 { 9 } else { n - 1 }));
        }
    }
    KEYMAP
        .iter()
        .find(|(keys, _)| keys.contains(&key))
        .map(|(_, c)| *c)
}

/// The keys as the help lists them, with what they do.
pub fn legend(tr: &Tr) -> [(&'static str, &'static str); 12] {
    [
        ("Space / K", tr.key_play),
        (". / →", tr.key_step),
        (", / ←", tr.key_back),
        ("[ / ]", tr.key_marks),
        ("− / +", tr.key_speed),
        ("S", tr.key_slowmo),
        ("1 … 9, 0", tr.key_nodes),
        ("C", tr.crash),
        ("T", tr.timeout_now),
        ("L", tr.key_lang),
        ("? / H", tr.key_help),
        ("Esc", tr.key_esc),
    ]
}

/// Where a key on the focused timeline moves the playhead (`span`: the timeline's length).
pub fn timeline_key(key: &str, now: u64, span: u64) -> Option<u64> {
    let step = span / 100;
    match key {
        "PageUp" => Some(now.saturating_sub(step)),
        "PageDown" => Some(now + step),
        "Home" => Some(0),
        _ => None,
    }
}

/// The speed notches, virtual ms per real ms (a log scale from 0.1× to 1000×).
pub const SPEEDS: [f64; 13] = [
    0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 200.0, 500.0, 1000.0,
];

/// The notch above `speed` (the top one at most).
pub fn faster(speed: f64) -> f64 {
    SPEEDS
        .iter()
        .copied()
        .find(|s| *s > speed * 1.001)
        .unwrap_or(SPEEDS[SPEEDS.len() - 1])
}

/// The notch below `speed` (the bottom one at least).
pub fn slower(speed: f64) -> f64 {
    SPEEDS
        .iter()
        .rev()
        .copied()
        .find(|s| *s < speed * 0.999)
        .unwrap_or(SPEEDS[0])
}

/// The slider position of `speed`: a speed between notches (from a link) shows at the next one up.
pub fn notch(speed: f64) -> usize {
    SPEEDS
        .iter()
        .position(|s| *s >= speed * 0.999)
        .unwrap_or(SPEEDS.len() - 1)
}

/// The speed of slider position `i` (past the end: the top notch).
pub fn notch_speed(i: usize) -> f64 {
    SPEEDS[i.min(SPEEDS.len() - 1)]
}

/// The speed a story of `end_ms` plays at: a long one (an hour of elections) faster, so that it
/// is told in a minute or two, and never slower than `at_least`.
pub fn story_speed(end_ms: u64, at_least: f64) -> f64 {
    let want = end_ms as f64 / 20_000.0;
    SPEEDS
        .iter()
        .copied()
        .find(|s| *s >= want)
        .unwrap_or(SPEEDS[SPEEDS.len() - 1])
        .max(at_least)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::i18n::{Lang, Texts};

    #[test]
    fn every_key_of_the_help_does_something() {
        let cases = [
            (" ", Command::TogglePlay),
            ("k", Command::TogglePlay),
            (".", Command::Step),
            ("ArrowRight", Command::Step),
            (",", Command::StepBack),
            ("ArrowLeft", Command::StepBack),
            ("[", Command::Mark(false)),
            ("]", Command::Mark(true)),
            ("-", Command::Slower),
            ("+", Command::Faster),
            ("=", Command::Faster),
            ("s", Command::ToggleSlowmo),
            ("1", Command::Node(0)),
            ("9", Command::Node(8)),
            ("0", Command::Node(9)),
            ("c", Command::CrashOrRestart),
            ("t", Command::TimeoutNow),
            ("l", Command::Lang),
            ("?", Command::Help),
            ("h", Command::Help),
            ("Escape", Command::Escape),
        ];
        for (k, c) in cases {
            assert_eq!(command(k), Some(c), "{k:?}");
        }
        for k in ["x", "S", "Enter", "10", "", "Tab", "PageUp"] {
            assert_eq!(command(k), None, "{k:?}");
        }
        // One line of help per command kind (the digits share one).
        for lang in Lang::ALL {
            let l = legend(lang.tr());
            assert_eq!(l.len(), KEYMAP.len() - 1, "[ and ] share a line");
            assert!(l.iter().all(|(k, v)| !k.is_empty() && !v.is_empty()));
        }
    }

    #[test]
    fn the_timeline_moves_by_a_hundredth() {
        assert_eq!(timeline_key("PageUp", 5_000, 100_000), Some(4_000));
        assert_eq!(timeline_key("PageUp", 500, 100_000), Some(0));
        assert_eq!(timeline_key("PageDown", 5_000, 100_000), Some(6_000));
        assert_eq!(timeline_key("Home", 5_000, 100_000), Some(0));
        assert_eq!(timeline_key("End", 5_000, 100_000), None);
    }

    #[test]
    fn speeds_step_through_the_notches_and_stop_at_the_ends() {
        assert_eq!(faster(10.0), 20.0);
        assert_eq!(slower(10.0), 5.0);
        assert_eq!(faster(1000.0), 1000.0);
        assert_eq!(slower(0.1), 0.1);
        // Between notches (a link's speed=7): to the nearest notch in that direction.
        assert_eq!(faster(7.0), 10.0);
        assert_eq!(slower(7.0), 5.0);
        let mut s = 0.1;
        for _ in 0..SPEEDS.len() - 1 {
            s = faster(s);
        }
        assert_eq!(s, 1000.0);
        for (i, s) in SPEEDS.iter().enumerate() {
            assert_eq!(notch(*s), i);
            assert_eq!(notch_speed(i), *s);
        }
        assert_eq!(notch(7.0), 6);
        assert_eq!(notch(5000.0), SPEEDS.len() - 1);
        assert_eq!(notch_speed(99), 1000.0);
    }

    #[test]
    fn long_stories_play_faster() {
        assert_eq!(story_speed(60_000, 10.0), 10.0);
        assert_eq!(story_speed(3_600_000, 10.0), 200.0);
        assert_eq!(story_speed(3_600_000, 500.0), 500.0);
        assert_eq!(story_speed(u64::MAX, 1.0), 1000.0);
    }
}
