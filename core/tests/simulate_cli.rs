//! The `simulate` command line as a user runs it (`cargo run -p nacos-raft-core --example
//! simulate -- …`): the README's example to the byte, page links replayed with `--url` under
//! either rule set, and bad arguments refused with exit code 2.
use std::process::Command;

/// Runs `simulate` with `args`: (exit code, stdout, stderr).
fn simulate(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO"))
        .args([
            "run",
            "-q",
            "-p",
            "nacos-raft-core",
            "--example",
            "simulate",
            "--",
        ])
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("cargo runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// The one JSON line of a successful run.
fn summary(args: &[&str]) -> serde_json::Value {
    let (code, out, err) = simulate(args);
    assert_eq!(code, 0, "{args:?}: {err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    serde_json::from_str(&out).unwrap()
}

fn kinds(s: &serde_json::Value) -> Vec<String> {
    s["violations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["kind"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn the_readme_example_prints_what_the_readme_shows() {
    let (code, out, _) = simulate(&[
        "--nodes",
        "5",
        "--seed",
        "7",
        "--datums",
        "200",
        "--crash-leader-at-ms",
        "40000",
        "--duration-ms",
        "120000",
    ]);
    assert_eq!(code, 0);
    assert_eq!(
        out.trim_end(),
        r#"{"seed":7,"nodes":5,"duration_ms":120000,"leader":"127.0.0.1:8850","term":19902,"first_leader_ms":671,"leader_changes":2,"messages_sent":1816,"messages_dropped":54,"violations":[],"datums_at_leader":200,"datums_min_follower":200,"converged":true,"trace_hash":"11621fbf26ee3bb9","rules":"nacos"}"#
    );
}

#[test]
fn a_page_link_is_the_same_run_as_its_flags() {
    let link = "http://127.0.0.1:8080/#seed=7&nodes=5&timings=fast&speed=10&actions=1200:crash:2,5300:timeout:1";
    let by_link = summary(&["--url", link]);
    // The page's defaults a link leaves out: latency 10-40 ms; 60 s when nothing says how long.
    let by_flags = summary(&[
        "--seed",
        "7",
        "--nodes",
        "5",
        "--timings",
        "fast",
        "--latency-ms",
        "10..40",
        "--actions",
        "1200:crash:2,5300:timeout:1",
        "--duration-ms",
        "60000",
    ]);
    assert_eq!(by_link, by_flags);
    let hardened = summary(&["--url", link, "--rules", "hardened"]);
    assert_eq!(hardened["rules"], "hardened");
    assert_ne!(hardened["trace_hash"], by_link["trace_hash"]);
}

#[test]
fn a_compare_link_replays_each_side_and_the_loss_is_on_the_left_only() {
    let link = "#scenario=dead-key-loss&rules=compare";
    let left = summary(&["--url", link, "--rules", "nacos"]);
    let right = summary(&["--url", link, "--rules", "hardened"]);
    assert!(
        kinds(&left).iter().any(|k| k == "lost_acked_write"),
        "{left}"
    );
    assert_eq!(kinds(&right), Vec::<String>::new(), "{right}");
    // The preset's own length, as the page tells the story.
    assert_eq!(left["duration_ms"], right["duration_ms"]);
    let (code, _, err) = simulate(&["--url", link]);
    assert_eq!(code, 2);
    assert!(err.contains("--rules nacos"), "{err}");
}

#[test]
fn the_issue_action_syntax_runs_under_both_rule_sets() {
    // `put:N:KEY:VALUE` takes a datum value, which is JSON, percent-encoded in the text (a bare
    // word is taken as a JSON string, below).
    let actions = "12000:part:00111,30000:put:0:KEY:%7B%22v%22%3A1%7D,60000:healall";
    for rules in ["nacos", "hardened"] {
        let s = summary(&[
            "--nodes",
            "5",
            "--rules",
            rules,
            "--actions",
            actions,
            "--duration-ms",
            "90000",
        ]);
        assert_eq!(s["rules"], rules);
    }
    // A write the nodes refuse changes nothing in the summary; stderr says why.
    let (code, _, err) = simulate(&["--nodes", "5", "--actions", actions]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("note: put KEY through node 0 at 30000 ms failed at 30000 ms: 400 unknown type publish key: KEY"),
        "{err}"
    );
    // The syntax's own example, a bare word for the value, runs: the word is a JSON string.
    let (code, out, err) = simulate(&[
        "--nodes",
        "5",
        "--rules",
        "hardened",
        "--actions",
        "12000:part:00111,30000:put:0:KEY:VALUE,60000:healall",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains(r#""rules":"hardened""#) || out.contains(r#""rules": "hardened""#),
        "{out}"
    );
    assert!(
        err.contains("note: put KEY through node 0 at 30000 ms failed"),
        "{err}"
    );
    // Every fix but one: echoed as the list of the others.
    let s = summary(&["--rules", "hardened-split-vote", "--duration-ms", "5000"]);
    let rules = s["rules"].as_str().unwrap();
    assert!(
        rules.starts_with("stale-votes+") && !rules.contains("split-vote"),
        "{rules}"
    );
    // Broken JSON is not taken for a word: refused, with the parser's reason and the encoding.
    let (code, _, err) = simulate(&["--nodes", "5", "--actions", "30000:put:0:KEY:%7B%22v%22"]);
    assert_eq!(code, 2);
    assert!(err.contains("percent-encoded JSON"), "{err}");
}

#[test]
fn refused_actions_stop_a_command_line_run_but_a_link_skips_them_as_the_page_does() {
    let (code, _, err) = simulate(&["--nodes", "5", "--actions", "3500:restart:1"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is running"), "{err}");
    let (code, out, err) = simulate(&["--url", "#seed=7&nodes=5&actions=3500:restart:1"]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("skipped"), "{err}");
    assert_eq!(out.lines().count(), 1);
}

#[test]
fn bad_arguments_exit_2_with_a_message() {
    for args in [
        &["--url", "#nodes=5"][..],
        &["--url", "#seed=1&latency=9-3"],
        &["--url", "#seed=1&rules=bogus"],
        &["--url", "#scenario=nope"],
        &["--url", "#seed=1", "--nodes", "3"],
        &["--rules", "bogus"],
        &["--nodes", "65"],
        &["--actions", "12:explode"],
    ] {
        let (code, out, err) = simulate(args);
        assert_eq!(code, 2, "{args:?}: {out}");
        assert!(out.is_empty(), "{args:?}: {out}");
        assert!(
            !err.trim().is_empty() && !err.contains("panicked"),
            "{args:?}: {err}"
        );
    }
}
