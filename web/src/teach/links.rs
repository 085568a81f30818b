//! Links from the page's words to their sources: the Nacos issues the stories reproduce, and
//! the Java methods the sentences are named after, at their line in the Nacos 1.4.1 sources.

/// This project's repository, when the build knows where it is published: the Pages workflow
/// sets `NACOS_RAFT_REPOSITORY` to the repository it builds. A local build links to nothing it
/// cannot vouch for.
pub const REPOSITORY: Option<&str> = option_env!("NACOS_RAFT_REPOSITORY");

/// The protocol primer written for this project, in `lang`: in the repository when it is known,
/// else the copy Trunk puts beside the page (`docs/` in `dist/`, see index.html).
pub fn primer(lang: crate::i18n::Lang) -> String {
    let file = match lang {
        crate::i18n::Lang::En => "primer.md",
        crate::i18n::Lang::Zh => "primer.zh.md",
    };
    match REPOSITORY {
        Some(repository) => format!("{repository}/blob/main/docs/{file}"),
        None => format!("docs/{file}"),
    }
}

/// The folder of the naming Raft in the Nacos 1.4.1 sources on GitHub.
const RAFT: &str = "https://github.com/alibaba/nacos/blob/1.4.1/naming/src/main/java/com/alibaba/nacos/naming/consistency/persistent/raft/";

/// Words that link somewhere, longest first where one contains another: (word, file or URL,
/// line). Lines checked against /work/nacos-1.4.1 (tag 1.4.1).
const TARGETS: &[(&str, &str, u32)] = &[
    ("#3652", "https://github.com/alibaba/nacos/issues/3652", 0),
    ("#785", "https://github.com/alibaba/nacos/issues/785", 0),
    ("MasterElection", "RaftCore.java", 471),
    ("sendVote", "RaftCore.java", 501),
    ("receivedVote", "RaftCore.java", 557),
    ("decideLeader", "RaftPeerSet.java", 184),
    ("makeLeader", "RaftPeerSet.java", 222),
    ("HeartBeat", "RaftCore.java", 588),
    ("sendBeat", "RaftCore.java", 615),
    ("receivedBeat", "RaftCore.java", 721),
    ("signalPublish", "RaftCore.java", 205),
    ("signalDelete", "RaftCore.java", 293),
    ("onPublish", "RaftCore.java", 356),
    ("onDelete", "RaftCore.java", 412),
    ("OPERATE_LOCK", "RaftCore.java", 106),
];

/// The link of a target.
fn url(file: &str, line: u32) -> String {
    if file.starts_with("https://") {
        file.to_string()
    } else {
        format!("{RAFT}{file}#L{line}")
    }
}

/// `text` cut into pieces, each with the URL it links to, if any. A word links only where it
/// stands alone (not inside a longer identifier).
pub fn segments(text: &str) -> Vec<(&str, Option<String>)> {
    let mut out = Vec::new();
    let mut rest = text;
    let mut start = 0;
    let bytes = text.as_bytes();
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    'scan: while !rest.is_empty() {
        let base = text.len() - rest.len();
        let mut best: Option<(usize, &str, String)> = None;
        for (word, file, line) in TARGETS {
            let mut from = 0;
            while let Some(pos) = rest[from..].find(word) {
                let at = base + from + pos;
                let end = at + word.len();
                let alone = (at == 0 || !ident(bytes[at - 1]) || word.starts_with('#'))
                    && (end == text.len() || !ident(bytes[end]));
                if alone {
                    if best.as_ref().is_none_or(|b| at < b.0) {
                        best = Some((at, word, url(file, *line)));
                    }
                    break;
                }
                from += pos + word.len();
            }
        }
        match best {
            Some((at, word, link)) => {
                if at > start {
                    out.push((&text[start..at], None));
                }
                out.push((&text[at..at + word.len()], Some(link)));
                start = at + word.len();
                rest = &text[start..];
            }
            None => break 'scan,
        }
    }
    if start < text.len() {
        out.push((&text[start..], None));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_names_and_issues_link_to_their_source() {
        let s = segments("B decideLeader: A has 3 votes → HeartBeat.sendBeat (Nacos #3652)");
        let linked: Vec<(&str, &str)> = s
            .iter()
            .filter_map(|(t, u)| u.as_deref().map(|u| (*t, u)))
            .collect();
        assert_eq!(linked.len(), 4, "{s:?}");
        assert_eq!(linked[0].0, "decideLeader");
        assert!(linked[0].1.ends_with("/raft/RaftPeerSet.java#L184"));
        assert!(linked[0].1.contains("/blob/1.4.1/"));
        assert_eq!((linked[1].0, linked[2].0), ("HeartBeat", "sendBeat"));
        assert_eq!(
            linked[3],
            ("#3652", "https://github.com/alibaba/nacos/issues/3652")
        );
        let joined: String = s.iter().map(|p| p.0).collect();
        assert_eq!(
            joined,
            "B decideLeader: A has 3 votes → HeartBeat.sendBeat (Nacos #3652)"
        );
        // Inside a longer identifier, no link.
        assert_eq!(
            segments("xsendVote and receivedVoteX"),
            vec![("xsendVote and receivedVoteX", None)]
        );
        assert_eq!(segments(""), vec![]);
    }

    #[test]
    fn the_primer_is_in_the_repository_or_beside_the_page() {
        let zh = primer(crate::i18n::Lang::Zh);
        match REPOSITORY {
            Some(r) => assert_eq!(zh, format!("{r}/blob/main/docs/primer.zh.md")),
            None => assert_eq!(zh, "docs/primer.zh.md"),
        }
    }

    #[test]
    fn the_lines_are_those_of_the_1_4_1_sources() {
        // Where the sources are unpacked (the lead's machine), each line holds its name.
        let dir = "/work/nacos-1.4.1/naming/src/main/java/com/alibaba/nacos/naming/consistency/persistent/raft/";
        let Ok(core) = std::fs::read_to_string(format!("{dir}RaftCore.java")) else {
            return;
        };
        let peers = std::fs::read_to_string(format!("{dir}RaftPeerSet.java")).unwrap();
        for (word, file, line) in TARGETS.iter().filter(|t| t.1.ends_with(".java")) {
            let src = if *file == "RaftCore.java" {
                &core
            } else {
                &peers
            };
            let l = src.lines().nth(*line as usize - 1).unwrap();
            assert!(l.contains(word), "{file}:{line} is {l:?}, not {word}");
        }
    }
}
