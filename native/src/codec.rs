//! The bytes on the wire (`docs/nacos-protocol.md` §2.1, §2.2, §12): how each endpoint's
//! request is decoded the way a Java 1.3/1.4 node decodes it, how this node encodes its own
//! requests so a Java node decodes them exactly, and how answers are read back.
//!
//! Decoding rules, in short:
//! - gzip is recognised by its magic bytes `1f 8b`, never by `Content-Encoding` (1.3 senders put
//!   that header on plain commit bodies, 1.4 senders leave it off gzip beats);
//! - Java URL-decodes raw JSON bodies (beat and delete commit twice, commit and forwarded publish
//!   once) although Java senders never encode them, which turns `+` into a space. This node does
//!   the same, exactly as `java.net.URLDecoder` would, the endpoint's number of times, so that
//!   every member of a mixed cluster holds the same value (a lossless reading here would keep
//!   `a+b` where the Java members hold `a b`, under the same timestamp, forever);
//! - form parameters come from the query string or an `x-www-form-urlencoded` body.
//!
//! Encoding rule: what this node sends decodes, through Java's decoder applied the endpoint's
//! number of times, to exactly the JSON it means. Only `%` and `+` (the two characters the
//! decoder changes) and the leading `{` are escaped, which keeps bodies nearly raw and cheap to
//! produce.

use crate::beat_list::{Delta, HeldLists, ListId, NOT_HELD};
use bytes::Bytes;
use nacos_raft_core::wire::{self, CommitBody, ForwardBody};
use nacos_raft_core::{
    BeatDatum, BeatPacket, Datum, Failure, JsonValue, RaftError, RaftPeer, Request, Response,
};
use std::io::{Read, Write};
use std::sync::Arc;

/// What Java nodes put in `User-Agent`; Nacos' filters let such requests through.
pub const USER_AGENT: &str = "Nacos-Server:1.4.1";
/// Content type of every answer this node gives.
pub const JSON_UTF8: &str = "application/json; charset=UTF-8";
/// Content type Java 1.4 puts on its JSON request bodies.
pub const JSON_REQUEST: &str = "application/json;charset=UTF-8";
/// Content type Java 1.4 puts on its form requests.
pub const FORM_REQUEST: &str = "application/x-www-form-urlencoded;charset=UTF-8";
/// The servlet context path plus the controller mapping.
pub const RAFT_BASE: &str = "/nacos/v1/ns/raft";

/// HTTP status for a body or an inflated body over its cap.
pub const TOO_LARGE: u16 = 413;

/// Size caps applied to request bodies.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Largest request body accepted, in bytes.
    pub max_body: usize,
    /// Largest output of gunzip, in bytes (a gzip bomb stops here).
    pub max_gunzip: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_body: 16 << 20,
            max_gunzip: 256 << 20,
        }
    }
}

// ---- primitives ------------------------------------------------------------------------

/// Whether `b` starts with the gzip magic bytes.
pub fn is_gzip(b: &[u8]) -> bool {
    b.len() >= 2 && b[0] == 0x1f && b[1] == 0x8b
}

/// Inflates gzip (several members allowed, as `GZIPInputStream` reads them), refusing to produce
/// more than `cap` bytes.
pub fn gunzip_capped(b: &[u8], cap: usize) -> Result<Vec<u8>, RaftError> {
    let mut out = Vec::new();
    gunzip_into(b, cap, &mut out)?;
    Ok(out)
}

/// [`gunzip_capped`] into `out` (cleared first), whose capacity a caller may keep from one body
/// to the next.
fn gunzip_into(b: &[u8], cap: usize, out: &mut Vec<u8>) -> Result<(), RaftError> {
    // A gzip member ends with its inflated size (mod 2^32). Trusted only as a capacity, and
    // only as far as deflate can inflate (1,032:1): a 7 MB beat is read without regrowing, a
    // small body that lies about its size reserves little.
    let claimed = match b.len().checked_sub(4).map(|at| &b[at..]) {
        Some(&[a, b0, c, d]) => u32::from_le_bytes([a, b0, c, d]) as usize,
        _ => 0,
    };
    let hint = claimed.min(b.len().saturating_mul(1032));
    out.clear();
    out.reserve(hint.max(b.len().saturating_mul(4)).min(cap) + 1);
    let dec = flate2::read::MultiGzDecoder::new(b);
    dec.take(cap as u64 + 1)
        .read_to_end(out)
        .map_err(|e| RaftError::server(format!("cannot gunzip the body: {e}")))?;
    if out.len() > cap {
        return Err(RaftError {
            status: TOO_LARGE,
            message: format!("gzip body inflates beyond the limit of {cap} bytes"),
        });
    }
    Ok(())
}

/// Gzip at `level` (0-9).
pub fn gzip(b: &[u8], level: u32) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(b.len() / 8 + 64),
        flate2::Compression::new(level.min(9)),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(b);
    enc.finish().unwrap_or_default()
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// `java.net.URLDecoder.decode(s, "UTF-8")`: `+` becomes a space, `%XX` a byte, everything
/// else passes through. Errors carry the texts of Java's `IllegalArgumentException`s.
pub fn java_url_decode(s: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::with_capacity(s.len());
    let mut last = 0;
    let mut i = 0;
    while let Some(off) = s[i..].iter().position(|&c| c == b'%' || c == b'+') {
        let at = i + off;
        out.extend_from_slice(&s[last..at]);
        if s[at] == b'+' {
            out.push(b' ');
            i = at + 1;
        } else {
            if at + 2 >= s.len() {
                return Err("URLDecoder: Incomplete trailing escape (%) pattern".into());
            }
            match (hex_val(s[at + 1]), hex_val(s[at + 2])) {
                (Some(h), Some(l)) => out.push(h * 16 + l),
                _ => {
                    return Err(format!(
                        "URLDecoder: Illegal hex characters in escape (%) pattern - For input string: \"{}\"",
                        String::from_utf8_lossy(&s[at + 1..at + 3])
                    ))
                }
            }
            i = at + 3;
        }
        last = i;
    }
    out.extend_from_slice(&s[last..]);
    Ok(out)
}

/// `java.net.URLEncoder.encode(s, "UTF-8")`: letters, digits and `.-*_` stay, a space becomes
/// `+`, every other byte `%XX` (upper-case hex).
pub fn java_url_encode(s: &str) -> String {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(s.len() + s.len() / 2);
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => {
                out.push('%');
                out.push(HEX[(b >> 4) as usize] as char);
                out.push(HEX[(b & 15) as usize] as char);
            }
        }
    }
    out
}

/// Escapes `text` so that Java's URL decoder applied `times` times gives `text` back exactly.
/// Only `%`, `+` and a leading `{` are escaped (see the module docs).
pub fn escape_for_java_decoder(text: &str, times: u32) -> String {
    let mut cur = text.to_string();
    for _ in 0..times {
        cur = escape_once(&cur);
    }
    cur
}

fn escape_once(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = String::with_capacity(s.len() + 16);
    let mut last = 0;
    if b.first() == Some(&b'{') {
        out.push_str("%7B");
        last = 1;
    }
    // The three escaped characters are ASCII, so slicing at them stays on char boundaries.
    for (i, &c) in b.iter().enumerate().skip(last) {
        let rep = match c {
            b'%' => "%25",
            b'+' => "%2B",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        out.push_str(rep);
        last = i + 1;
    }
    out.push_str(&s[last..]);
    out
}

/// A body as text the way the endpoint reads it: Java's URL decoder applied `times` times, raw
/// JSON included (400 with Java's text on a bad escape). A `+` in a raw body becomes a space as
/// on every Java member, so a mixed cluster holds one value (issue #10 item 6); this node's own
/// bodies are escaped ([`escape_for_java_decoder`]) and decode to exactly what it means.
pub fn body_text(raw: &[u8], times: u32) -> Result<String, RaftError> {
    let mut cur = raw.to_vec();
    for _ in 0..times {
        cur = java_url_decode(&cur).map_err(RaftError::bad_request)?;
    }
    Ok(String::from_utf8_lossy(&cur).into_owned())
}

/// A body that may be gzip (recognised by magic), inflated under the cap.
fn maybe_gunzip<'a>(
    raw: &'a [u8],
    limits: &Limits,
) -> Result<std::borrow::Cow<'a, [u8]>, RaftError> {
    if is_gzip(raw) {
        Ok(gunzip_capped(raw, limits.max_gunzip)?.into())
    } else {
        Ok(raw.into())
    }
}

/// Looks a form parameter up as a servlet's `getParameter` does: the query string first, then an
/// `x-www-form-urlencoded` body (decoded once, `+` as space).
pub fn param(query: Option<&str>, body: &[u8], name: &str) -> Option<String> {
    let from = |bytes: &[u8]| {
        form_urlencoded::parse(bytes)
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    if let Some(v) = query.and_then(|q| from(q.as_bytes())) {
        return Some(v);
    }
    if body.is_empty() || is_gzip(body) || body.first() == Some(&b'{') {
        return None;
    }
    from(body)
}

/// `WebUtils.required`: a missing or blank parameter is a 400 with Nacos' text.
pub fn required(query: Option<&str>, body: &[u8], name: &str) -> Result<String, RaftError> {
    match param(query, body, name) {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err(RaftError::bad_request(format!(
            "Param '{name}' is required."
        ))),
    }
}

fn json_error(what: &str, e: impl std::fmt::Display) -> RaftError {
    RaftError::server(format!("cannot parse {what}: {e}"))
}

// ---- requests received -----------------------------------------------------------------

/// Endpoint 1: `vote` from the query string (1.3) or a form body (1.4), trimmed, parsed
/// leniently.
pub fn decode_vote(query: Option<&str>, body: &[u8]) -> Result<RaftPeer, RaftError> {
    let v = required(query, body, "vote")?;
    wire::peer_from_json(v.trim()).map_err(|e| json_error("vote", e))
}

/// Endpoint 2: gunzip (required, as in Java), URL-decode twice unless raw JSON, then the outer
/// `{"beat":"..."}` and the strict inner packet. Through one process-wide [`BeatDecoder`]: a
/// follower gets the same key list from its leader beat after beat.
pub fn decode_beat(body: &[u8], limits: &Limits) -> Result<BeatPacket, RaftError> {
    beat_decoder().decode(body, limits)
}

/// [`decode_beat`] for a member that takes named lists and their differences (the hardened
/// rules, [`beat_list`]): the packet, and the name of its list when the leader named it. A
/// difference whose base this process does not hold is refused with 409 ([`NOT_HELD`]).
pub fn decode_beat_named(
    body: &[u8],
    limits: &Limits,
) -> Result<(BeatPacket, Option<ListId>), RaftError> {
    beat_decoder().decode_named(body, limits)
}

fn beat_decoder() -> std::sync::MutexGuard<'static, BeatDecoder> {
    static LAST: std::sync::Mutex<BeatDecoder> = std::sync::Mutex::new(BeatDecoder::new());
    LAST.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Decodes beats, remembering the last key list it parsed: a beat whose `datums` text is byte
/// for byte the last one's gets that list again (shared), and only its small `peer` part is
/// parsed. At 100,000 keys that skips unescaping and parsing 6.5 MB and 100,000 allocations per
/// beat while the leader's keys do not change (issue 14). Parsing is a pure function of the
/// bytes, so the packet is the one a full decode gives; any other form takes the full decode.
pub struct BeatDecoder {
    /// The inflated body; its capacity is kept from beat to beat (a fresh 6.5 MB buffer costs
    /// a page fault per 4 KiB page).
    plain: Vec<u8>,
    /// The escaped `datums` text of the last beat decoded in full, and its list.
    last: Option<(Vec<u8>, Arc<Vec<BeatDatum>>)>,
    /// The list before `last`. The actor's core keeps the last list it synced against until
    /// the next beat's pass; holding it one beat longer here makes that pass's drop of it a
    /// count decrement, and frees its 100,000 keys here, off the actor, at the next decode.
    older: Option<Arc<Vec<BeatDatum>>>,
    /// The named lists received last (differences apply to them).
    held: HeldLists,
}

/// A buffer kept between beats above this capacity is given back (a body near the gunzip cap
/// must not pin 256 MB).
const KEEP_BUFFER: usize = 64 << 20;

impl BeatDecoder {
    /// A decoder that remembers nothing yet.
    pub const fn new() -> BeatDecoder {
        BeatDecoder {
            plain: Vec::new(),
            last: None,
            older: None,
            held: HeldLists::new(),
        }
    }

    /// [`decode_beat`] with this decoder's memory.
    pub fn decode(&mut self, body: &[u8], limits: &Limits) -> Result<BeatPacket, RaftError> {
        self.inflated(body, limits, Self::decode_plain)
    }

    /// [`decode_beat_named`] with this decoder's memory.
    pub fn decode_named(
        &mut self,
        body: &[u8],
        limits: &Limits,
    ) -> Result<(BeatPacket, Option<ListId>), RaftError> {
        self.inflated(body, limits, Self::decode_plain_named)
    }

    /// `read` of the gunzipped body (Nacos gunzips every beat), keeping the buffer for the next.
    fn inflated<T>(
        &mut self,
        body: &[u8],
        limits: &Limits,
        read: fn(&mut Self) -> Result<T, RaftError>,
    ) -> Result<T, RaftError> {
        if !is_gzip(body) {
            return Err(RaftError::server(
                "beat body is not gzip (Nacos gunzips every beat)",
            ));
        }
        let inflated = gunzip_into(body, limits.max_gunzip, &mut self.plain);
        let packet = inflated.and_then(|()| read(self));
        if self.plain.capacity() > KEEP_BUFFER {
            self.plain = Vec::new();
        }
        packet
    }

    fn decode_plain_named(&mut self) -> Result<(BeatPacket, Option<ListId>), RaftError> {
        let mid = beat_mid(&self.plain);
        let id = mid.and_then(list_name);
        let delta = mid
            .filter(|m| memchr::memmem::find(m, DELTA_MARK).is_some() && split_packet(m).is_none());
        if let (Some(id), Some(mid)) = (id, delta) {
            let inner = match unescape_fast(mid) {
                Some(inner) => inner,
                None => inner_packet(&self.plain)?,
            };
            return self.decode_delta(&inner, id).map(|p| (p, Some(id)));
        }
        let packet = self.decode_plain()?;
        if let Some(id) = id {
            self.held.keep(id, packet.datums.clone());
        }
        Ok((packet, id))
    }

    /// A beat that carries a difference: the peer checked as in a full beat first, then the
    /// list rebuilt from the held base (nothing is kept when either fails).
    fn decode_delta(&mut self, inner: &str, id: ListId) -> Result<BeatPacket, RaftError> {
        #[derive(serde::Deserialize)]
        struct DeltaPacket {
            peer: serde_json::Value,
            delta: Delta,
        }
        let p: DeltaPacket = serde_json::from_str(inner).map_err(|e| json_error("beat", e))?;
        let mut packet = BeatPacket::from_json(&format!("{{\"peer\":{},\"datums\":[]}}", p.peer))
            .map_err(|e| {
            if e.is_unknown_state() {
                RaftError::bad_request(e.0)
            } else {
                json_error("beat", e)
            }
        })?;
        packet.datums = self.held.rebuild(id, &p.delta).map_err(|e| RaftError {
            status: if e.starts_with(NOT_HELD) { 409 } else { 400 },
            message: e,
        })?;
        Ok(packet)
    }

    fn decode_plain(&mut self) -> Result<BeatPacket, RaftError> {
        let plain = &self.plain;
        let Some(mid) = beat_mid(plain) else {
            return decode_beat_general(plain);
        };
        let split = split_packet(mid);
        if let (Some((peer, datums)), Some((last, list))) = (&split, &self.last) {
            if datums == last {
                let text = format!("{{\"peer\":{peer},\"datums\":[]}}");
                if let Ok(mut packet) = BeatPacket::from_json(&text) {
                    packet.datums = list.clone();
                    return Ok(packet);
                }
            }
        }
        let Some(inner) = unescape_fast(mid) else {
            return decode_beat_general(plain);
        };
        let packet = BeatPacket::from_json(&inner).map_err(|e| json_error("beat", e))?;
        if let Some((_, datums)) = split {
            let (keep, older) = self.last.take().unzip();
            self.older = older;
            let mut keep = keep.unwrap_or_default();
            keep.clear();
            keep.extend_from_slice(datums);
            self.last = Some((keep, packet.datums.clone()));
        }
        Ok(packet)
    }
}

impl Default for BeatDecoder {
    fn default() -> Self {
        BeatDecoder::new()
    }
}

/// The inner packet of an escaped beat ([`beat_mid`]) as `{"peer":X,"datums":D}`: X unescaped,
/// and D still escaped. Only when X unescapes in the fast form and is one whole JSON value: then
/// the packet's parse is X's parse and D's, each independent of the other, and D's can be reused.
fn split_packet(mid: &[u8]) -> Option<(String, &[u8])> {
    const PEER: &[u8] = b"{\\\"peer\\\":";
    // `,` is never part of an escape: the match starts on a token boundary.
    const DATUMS: &[u8] = b",\\\"datums\\\":";
    let rest = mid.strip_prefix(PEER)?;
    let at = memchr::memmem::find(rest, DATUMS)?;
    let datums = rest[at + DATUMS.len()..].strip_suffix(b"}")?;
    let peer = unescape_fast(&rest[..at])?;
    serde_json::from_str::<serde::de::IgnoredAny>(&peer).ok()?;
    Some((peer, datums))
}

/// The packet JSON of any form of beat body (Java's two URL decodes, then the outer JSON).
fn inner_packet(plain: &[u8]) -> Result<String, RaftError> {
    #[derive(serde::Deserialize)]
    struct Outer {
        beat: String,
    }
    let text = body_text(plain, 2)?;
    let outer: Outer = serde_json::from_str(&text).map_err(|e| json_error("beat", e))?;
    Ok(outer.beat)
}

/// A named list's field at the end of an escaped packet ([`beat_mid`]), as
/// [`beat_body_named`] writes it.
const LIST_MARK: &[u8] = b",\\\"list\\\":\\\"";
/// The difference's field of a packet that carries one.
const DELTA_MARK: &[u8] = b",\\\"delta\\\":{";

/// The name of the list an escaped packet ends with, if any. `,` never starts an escape and a
/// quote inside a string is written `\\\"`, so the mark matches only the packet's own field.
fn list_name(mid: &[u8]) -> Option<ListId> {
    let body = mid.strip_suffix(b"\\\"}")?;
    let at = memchr::memmem::rfind(body, LIST_MARK)?;
    ListId::parse(std::str::from_utf8(&body[at + LIST_MARK.len()..]).ok()?)
}

/// Java's two URL decodes, then the outer JSON and the packet: any form of beat.
fn decode_beat_general(plain: &[u8]) -> Result<BeatPacket, RaftError> {
    let text = body_text(plain, 2)?;
    BeatPacket::from_body(&text).map_err(|e| {
        if e.is_unknown_state() {
            // Java's IllegalArgumentException: 400 with the bare text.
            RaftError::bad_request(e.0)
        } else {
            json_error("beat", e)
        }
    })
}

/// The outer body as [`beat_text`] writes it, up to the packet JSON.
const BEAT_HEAD: &[u8] = b"%257B\"beat\":\"";
/// ... and after it.
const BEAT_TAIL: &[u8] = b"\"}";

/// The inner packet JSON of a beat body in exactly the form [`beat_text`] writes, in one pass:
/// what two rounds of Java's URL decoder and the outer JSON string would give, without the three
/// intermediate copies. `None` for any other form (a Java sender's raw JSON, other escapes, a
/// stray quote or control character, bad UTF-8): the caller then takes the general path, which
/// decides (and fails) exactly as before.
#[cfg(test)]
fn beat_inner_fast(plain: &[u8]) -> Option<String> {
    unescape_fast(beat_mid(plain)?)
}

/// A beat body in [`beat_text`]'s form without its head and tail: the packet JSON, escaped.
fn beat_mid(plain: &[u8]) -> Option<&[u8]> {
    plain.strip_prefix(BEAT_HEAD)?.strip_suffix(BEAT_TAIL)
}

/// What the escaped packet text (or a piece of it that starts and ends on a token boundary)
/// stands for, or `None` for any other escape.
fn unescape_fast(mid: &[u8]) -> Option<String> {
    // One branch-free sweep (it vectorizes) for bytes this form never holds; a quote is only
    // allowed as the second byte of `\"`, which the loop below checks.
    let stray = mid
        .iter()
        .fold(false, |acc, &c| acc | (c == b'+') | (c < 0x20));
    if stray {
        return None;
    }
    let mut out = Vec::with_capacity(mid.len());
    let mut i = 0;
    for at in memchr::memchr3_iter(b'\\', b'%', b'"', mid) {
        if at < i {
            // The second byte of an escape just taken (`\"` or `\\`).
            continue;
        }
        out.extend_from_slice(&mid[i..at]);
        let rest = &mid[at..];
        let (byte, len) = if rest.starts_with(b"\\\"") {
            (b'"', 2)
        } else if rest.starts_with(b"\\\\") {
            (b'\\', 2)
        } else if rest.starts_with(b"%2525") {
            (b'%', 5)
        } else if rest.starts_with(b"%252B") {
            (b'+', 5)
        } else {
            return None;
        };
        out.push(byte);
        i = at + len;
    }
    out.extend_from_slice(&mid[i..]);
    String::from_utf8(out).ok()
}

/// Endpoint 9: `{"datum":..,"source":..}`, URL-decoded once unless raw.
pub fn decode_commit(body: &[u8], limits: &Limits) -> Result<(Datum, RaftPeer), RaftError> {
    let raw = maybe_gunzip(body, limits)?;
    let text = body_text(&raw, 1)?;
    let c = CommitBody::from_json(&text).map_err(|e| json_error("commit", e))?;
    Ok((c.datum, c.source))
}

/// The header by which a member says it takes batches of commits, on its commit answers (`1`,
/// or the number of commits a batch's answer holds). Only hardened members of this project send
/// it, and not while a page watches them or a fault is set; a leader batches its commits to a
/// member only while the member's last commit answer carried it (issue 13: one HTTP exchange per
/// group commit instead of one per write). Java ignores it.
pub const BATCH_HEADER: &str = "nacos-raft-batch";

/// Largest number of commits in one batch.
pub const MAX_BATCH: usize = 64;
/// A batch stops growing at this many bytes of commit JSON (a commit above it goes alone).
pub const MAX_BATCH_BYTES: usize = 1 << 20;

/// A commit body with the batch's further commits: `{"datum":..,"source":..,"batch":[{"datum":
/// ..,"source":..},..]}`. The first commit stays where Java reads it, so a member that does not
/// know batches applies the first and ignores the rest (which the leader then sends alone).
#[derive(serde::Serialize, serde::Deserialize)]
struct CommitBatch {
    datum: Datum,
    source: RaftPeer,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    batch: Vec<CommitBody>,
}

/// Endpoint 9 at a member that takes batches: the commit and the batch's further commits, in
/// order (one element for a plain commit).
pub fn decode_commits(body: &[u8], limits: &Limits) -> Result<Vec<(Datum, RaftPeer)>, RaftError> {
    let raw = maybe_gunzip(body, limits)?;
    let text = body_text(&raw, 1)?;
    let c: CommitBatch = serde_json::from_str(&text).map_err(|e| json_error("commit", e))?;
    let mut all = Vec::with_capacity(1 + c.batch.len());
    all.push((c.datum, c.source));
    all.extend(c.batch.into_iter().map(|b| (b.datum, b.source)));
    Ok(all)
}

/// The request carrying `commits` (each a [`Request::Commit`]) as one batch: the first as a
/// plain commit, the rest in `batch`.
pub fn encode_commit_batch(commits: &[Request]) -> Outbound {
    let mut items = commits.iter().filter_map(|r| match r {
        Request::Commit { datum, source } => Some(CommitBody {
            datum: datum.clone(),
            source: source.clone(),
        }),
        _ => None,
    });
    let first = items.next().unwrap_or_else(|| CommitBody {
        datum: Datum {
            key: String::new(),
            value: None,
            timestamp: 0,
        },
        source: RaftPeer::default(),
    });
    let key = first.datum.key.clone();
    let body = CommitBatch {
        datum: first.datum,
        source: first.source,
        batch: items.collect(),
    };
    let json = serde_json::to_string(&body).unwrap_or_default();
    Outbound {
        method: "POST",
        path_and_query: format!("{RAFT_BASE}/datum/commit"),
        headers: with_key(vec![("content-type", JSON_REQUEST.into())], &key),
        body: Bytes::from(escape_for_java_decoder(&json, 1).into_bytes()),
    }
}

/// The body of a batch's answer: each commit's status and answer text, in order.
pub fn encode_batch_answer(answers: &[(u16, String)]) -> String {
    serde_json::to_string(answers).unwrap_or_default()
}

/// Reads a batch's answer of `n` commits; `None` when it is not one (the member answered the
/// first commit alone).
pub fn decode_batch_answer(body: &[u8], n: usize) -> Option<Vec<(u16, String)>> {
    let answers: Vec<(u16, String)> = serde_json::from_slice(body).ok()?;
    (answers.len() == n).then_some(answers)
}

/// Endpoint 10: like a commit, URL-decoded twice unless raw; only the datum's key counts.
pub fn decode_delete_commit(body: &[u8], limits: &Limits) -> Result<(String, RaftPeer), RaftError> {
    let raw = maybe_gunzip(body, limits)?;
    let text = body_text(&raw, 2)?;
    let c = CommitBody::from_json(&text).map_err(|e| json_error("delete commit", e))?;
    Ok((c.datum.key, c.source))
}

/// Endpoint 5: `{"key":..,"value":{..}}`, URL-decoded once unless raw. The value must be a JSON
/// object: Java types it as `Instances`, `Service` or `SwitchDomain` and fails otherwise.
pub fn decode_forward(body: &[u8], limits: &Limits) -> Result<(String, JsonValue), RaftError> {
    decode_publish(body, limits).map(|f| (f.key, f.value))
}

/// Endpoint 5 as the server reads it: the forward body and, in a hardened follower's repair,
/// the datum's `timestamp` (`Request::Repair`), in a hardened follower's forward the addressed
/// `leaderTerm` (Java ignores both fields).
pub fn decode_publish(body: &[u8], limits: &Limits) -> Result<ForwardBody, RaftError> {
    let raw = maybe_gunzip(body, limits)?;
    let text = body_text(&raw, 1)?;
    let f = ForwardBody::from_json(&text).map_err(|e| json_error("publish", e))?;
    if !f.value.as_str().trim_start().starts_with('{') {
        return Err(RaftError::server(format!(
            "the value of {} must be a JSON object, got {}",
            f.key,
            truncate(f.value.as_str(), 80)
        )));
    }
    Ok(f)
}

/// The request a decoded endpoint-5 body makes: a repair when it names a timestamp, else a
/// forwarded write.
pub fn publish_request(f: ForwardBody) -> Request {
    match f.timestamp {
        None => Request::Forward {
            key: f.key,
            value: f.value,
            leader_term: f.leader_term,
        },
        Some(timestamp) => Request::Repair {
            key: f.key,
            value: f.value,
            timestamp,
        },
    }
}

/// Endpoint 6's optional `leaderTerm` (a hardened follower's addressed leader term).
pub fn decode_leader_term(query: Option<&str>, body: &[u8]) -> Result<Option<u64>, RaftError> {
    param(query, body, "leaderTerm")
        .map(|v| {
            v.parse()
                .map_err(|_| RaftError::bad_request(format!("leaderTerm is not a term: {v:?}")))
        })
        .transpose()
}

/// Endpoint 7: `keys`, decoded by the servlet and once more by the controller, split on `,`.
pub fn decode_keys(query: Option<&str>, body: &[u8]) -> Result<Vec<String>, RaftError> {
    let v = required(query, body, "keys")?;
    let decoded = java_url_decode(v.as_bytes()).map_err(RaftError::bad_request)?;
    Ok(java_split(&String::from_utf8_lossy(&decoded), ','))
}

/// Java's `String.split` with a one-character separator: trailing empty strings are dropped
/// (`"a,b,"` gives `a`, `b`; `",,"` gives nothing), but an empty text gives one empty string.
pub fn java_split(s: &str, sep: char) -> Vec<String> {
    if s.is_empty() {
        return vec![String::new()];
    }
    let mut parts: Vec<String> = s.split(sep).map(String::from).collect();
    while parts.last().is_some_and(String::is_empty) {
        parts.pop();
    }
    parts
}

/// Endpoints 4 and 6: `key`, decoded by the servlet and once more on the delete path.
pub fn decode_key(query: Option<&str>, body: &[u8]) -> Result<String, RaftError> {
    let v = required(query, body, "key")?;
    let decoded = java_url_decode(v.as_bytes()).map_err(RaftError::bad_request)?;
    Ok(String::from_utf8_lossy(&decoded).into_owned())
}

fn truncate(s: &str, n: usize) -> &str {
    match s.char_indices().nth(n) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

// ---- answers given ---------------------------------------------------------------------

/// The body of a 200 answer.
pub fn response_body(r: &Response) -> String {
    r.wire_json()
}

// ---- requests sent ---------------------------------------------------------------------

/// One HTTP request to a member, as a Java 1.4.1 node would send it.
#[derive(Clone, Debug)]
pub struct Outbound {
    /// `GET`, `POST`, `PUT` or `DELETE`.
    pub method: &'static str,
    /// Path and query after `http://host:port`.
    pub path_and_query: String,
    /// Headers besides `User-Agent` and `Host`.
    pub headers: Vec<(&'static str, String)>,
    /// The body.
    pub body: Bytes,
}

/// The 1.4 form of a double-encoded key list, as in `?keys=..&encoding=UTF-8&nofix=1`.
pub fn keys_query(keys: &[String]) -> String {
    format!(
        "keys={}&encoding=UTF-8&nofix=1",
        java_url_encode(&java_url_encode(&keys.join(",")))
    )
}

/// The gzip body of a beat: the outer `{"beat":"..."}`, escaped for Java's double decode.
pub fn beat_body(packet: &BeatPacket, level: u32) -> Bytes {
    Bytes::from(gzip(&beat_text(packet), level))
}

/// [`beat_body`] with the list named `id` (an extra field after `datums`, which Java's
/// `receivedBeat` does not read).
pub fn beat_body_named(packet: &BeatPacket, id: ListId, level: u32) -> Bytes {
    #[derive(serde::Serialize)]
    struct Named<'a> {
        peer: &'a RaftPeer,
        datums: &'a [BeatDatum],
        list: String,
    }
    let named = Named {
        peer: &packet.peer,
        datums: &packet.datums,
        list: id.to_string(),
    };
    Bytes::from(gzip(&escaped_beat(&named, packet.datums.len()), level))
}

/// A beat carrying the list named `id` as `delta` from a list the receiver holds: no `datums`.
pub fn delta_beat_body(packet: &BeatPacket, id: ListId, delta: &Delta, level: u32) -> Bytes {
    #[derive(serde::Serialize)]
    struct Diff<'a> {
        peer: &'a RaftPeer,
        delta: &'a Delta,
        list: String,
    }
    let diff = Diff {
        peer: &packet.peer,
        delta,
        list: id.to_string(),
    };
    let entries = delta.put.len() + delta.del.len();
    Bytes::from(gzip(&escaped_beat(&diff, entries), level))
}

/// A beat answer (the peer JSON) with the name of the list the member now holds, for the
/// leader to send it differences (`beatList`, which Java's Jackson ignores).
pub fn with_list_name(answer: String, id: ListId) -> String {
    match answer.strip_suffix('}') {
        Some(head) if head.trim_end().ends_with('{') => format!("{head}\"beatList\":\"{id}\"}}"),
        Some(head) => format!("{head},\"beatList\":\"{id}\"}}"),
        None => answer,
    }
}

/// The list a member's beat answer says it holds.
pub fn list_named_in_answer(body: &[u8]) -> Option<ListId> {
    #[derive(serde::Deserialize)]
    struct Answer {
        #[serde(rename = "beatList")]
        beat_list: Option<String>,
    }
    let a: Answer = serde_json::from_slice(body).ok()?;
    ListId::parse(&a.beat_list?)
}

/// A beat body before gzip: byte for byte `escape_for_java_decoder(&packet.to_body(), 2)`, written
/// by one serialization of the packet instead of four passes (JSON, string escape, two URL
/// escapes): [`BeatEscaper`] writes each JSON token already escaped.
pub fn beat_text(packet: &BeatPacket) -> Vec<u8> {
    escaped_beat(packet, packet.datums.len())
}

/// `{"beat":"<packet>"}` escaped as [`beat_text`] does, for any packet shape of `entries` entries.
fn escaped_beat(packet: &impl serde::Serialize, entries: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(entries * 72 + 256);
    out.extend_from_slice(BEAT_HEAD);
    let mut ser = serde_json::Serializer::with_formatter(&mut out, BeatEscaper);
    // Serializing into a Vec fails only for types whose Serialize fails; the packets' do not.
    let _ = serde::Serialize::serialize(packet, &mut ser);
    out.extend_from_slice(BEAT_TAIL);
    out
}

/// serde_json's compact output, with every byte as it reads once put inside the outer JSON
/// string (`"` → `\"`, `\` → `\\`) and escaped for Java's two URL decodes (`%` → `%2525`,
/// `+` → `%252B`). Outside strings compact JSON holds none of these bytes (numbers are integers).
struct BeatEscaper;

impl serde_json::ser::Formatter for BeatEscaper {
    fn begin_string<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\\\"")
    }

    fn end_string<W: ?Sized + Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b"\\\"")
    }

    fn write_string_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        write_url_escaped(w, fragment.as_bytes())
    }

    fn write_char_escape<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        escape: serde_json::ser::CharEscape,
    ) -> std::io::Result<()> {
        // serde's escape is `\` + a letter (or `\u00XX`); its backslash gets escaped once more.
        let mut plain = Vec::with_capacity(6);
        serde_json::ser::CompactFormatter.write_char_escape(&mut plain, escape)?;
        write_string_escaped(w, &plain)
    }

    fn write_raw_fragment<W: ?Sized + Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        // A raw JSON fragment goes inside the outer string as serde would escape any text.
        let quoted = serde_json::to_string(fragment).unwrap_or_default();
        let inner = quoted
            .strip_prefix('"')
            .and_then(|q| q.strip_suffix('"'))
            .unwrap_or_default();
        write_url_escaped(w, inner.as_bytes())
    }
}

/// JSON-string escape of text that holds no control character, then [`write_url_escaped`].
fn write_string_escaped<W: ?Sized + Write>(w: &mut W, b: &[u8]) -> std::io::Result<()> {
    let mut last = 0;
    for (i, &c) in b.iter().enumerate() {
        let rep: &[u8] = match c {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            _ => continue,
        };
        write_url_escaped(w, &b[last..i])?;
        w.write_all(rep)?;
        last = i + 1;
    }
    write_url_escaped(w, &b[last..])
}

/// `%` → `%2525`, `+` → `%252B` (two rounds of [`escape_for_java_decoder`] inside the text).
fn write_url_escaped<W: ?Sized + Write>(w: &mut W, b: &[u8]) -> std::io::Result<()> {
    let mut last = 0;
    while let Some(off) = b[last..].iter().position(|&c| c == b'%' || c == b'+') {
        let at = last + off;
        w.write_all(&b[last..at])?;
        w.write_all(if b[at] == b'%' { b"%2525" } else { b"%252B" })?;
        last = at + 1;
    }
    w.write_all(&b[last..])
}

/// Builds the HTTP request for `req`. `beat` is the already encoded body of a beat request
/// (encoded once and shared between all receivers of one beat).
pub fn encode_request(req: &Request, beat: Option<Bytes>) -> Outbound {
    let path = |op: &str| format!("{RAFT_BASE}{op}");
    let json = |s: String| Bytes::from(s.into_bytes());
    match req {
        Request::Vote(me) => Outbound {
            method: "POST",
            path_and_query: path("/vote"),
            headers: vec![("content-type", FORM_REQUEST.into())],
            body: Bytes::from(format!("vote={}", java_url_encode(&me.to_json()))),
        },
        Request::Beat(packet) => Outbound {
            method: "POST",
            path_and_query: path("/beat"),
            headers: vec![
                ("content-type", JSON_REQUEST.into()),
                ("accept-charset", "UTF-8".into()),
                ("accept-encoding", "gzip".into()),
            ],
            body: beat.unwrap_or_else(|| beat_body(packet, 1)),
        },
        Request::GetPeer => Outbound {
            method: "GET",
            path_and_query: path("/peer?encoding=UTF-8&nofix=1"),
            headers: vec![],
            body: Bytes::new(),
        },
        Request::GetDatums(keys) => Outbound {
            method: "GET",
            path_and_query: format!("{}?{}", path("/datum"), keys_query(keys)),
            headers: vec![],
            body: Bytes::new(),
        },
        Request::Commit { datum, source } => {
            let body = CommitBody {
                datum: datum.clone(),
                source: source.clone(),
            };
            Outbound {
                method: "POST",
                path_and_query: path("/datum/commit"),
                headers: with_key(vec![("content-type", JSON_REQUEST.into())], &datum.key),
                body: json(escape_for_java_decoder(&body.to_json(), 1)),
            }
        }
        Request::DeleteCommit { key, source } => {
            let body = CommitBody {
                datum: Datum {
                    key: key.clone(),
                    value: None,
                    timestamp: 0,
                },
                source: source.clone(),
            };
            Outbound {
                method: "DELETE",
                path_and_query: path("/datum/commit"),
                headers: vec![("content-type", JSON_REQUEST.into())],
                body: json(escape_for_java_decoder(&body.to_json(), 2)),
            }
        }
        Request::Forward { key, .. } | Request::Repair { key, .. } => Outbound {
            method: "POST",
            path_and_query: path("/datum"),
            headers: with_key(vec![("content-type", JSON_REQUEST.into())], key),
            // The core writes the body (a repair adds its timestamp).
            body: json(escape_for_java_decoder(&req.wire_json(), 1)),
        },
        Request::ForwardDelete { key, leader_term } => Outbound {
            method: "DELETE",
            path_and_query: format!(
                "{}?key={}&encoding=UTF-8&nofix=1{}",
                path("/datum"),
                java_url_encode(&java_url_encode(key)),
                leader_term.map_or_else(String::new, |t| format!("&leaderTerm={t}"))
            ),
            headers: vec![("content-type", FORM_REQUEST.into())],
            body: Bytes::new(),
        },
    }
}

/// Java adds the key as a header on commits and forwards (receivers ignore it); only sent when it
/// is a valid header value.
fn with_key(mut h: Vec<(&'static str, String)>, key: &str) -> Vec<(&'static str, String)> {
    if !key.is_empty() && key.bytes().all(|b| b.is_ascii_graphic()) {
        h.push(("key", key.to_string()));
    }
    h
}

/// Reads the answer to `req`: 200 is success (the body parsed for vote, beat, peer and datum
/// fetches), anything else a failure with the peer's error text. A gzip answer is inflated up
/// to the default gunzip cap; see [`decode_answer_capped`].
pub fn decode_answer(req: &Request, status: u16, body: &[u8]) -> Result<Response, Failure> {
    decode_answer_capped(req, status, body, Limits::default().max_gunzip)
}

/// [`decode_answer`] with a gzip answer inflated to at most `max_gunzip` bytes (beyond: a
/// malformed answer), the cap this node applies to request bodies.
pub fn decode_answer_capped(
    req: &Request,
    status: u16,
    body: &[u8],
    max_gunzip: usize,
) -> Result<Response, Failure> {
    let body: std::borrow::Cow<'_, [u8]> = if is_gzip(body) {
        match gunzip_capped(body, max_gunzip) {
            Ok(b) => b.into(),
            Err(e) => return Err(Failure::Malformed(e.message)),
        }
    } else {
        body.into()
    };
    let text = String::from_utf8_lossy(&body);
    if status != 200 {
        return Err(Failure::Status(RaftError {
            status,
            message: unwrap_caused(status, &text),
        }));
    }
    match req {
        Request::Vote(_) | Request::Beat(_) | Request::GetPeer => wire::peer_from_json(&text)
            .map(Response::Peer)
            .map_err(|e| Failure::Malformed(format!("peer answer: {e}"))),
        Request::GetDatums(_) => wire::datums_from_json(&text)
            .map(Response::Datums)
            .map_err(|e| Failure::Malformed(format!("datum answer: {e}"))),
        _ => Ok(Response::Ok),
    }
}

/// Turns Nacos' `caused: <msg>;` body back into the message, so it is not wrapped twice.
pub fn unwrap_caused(status: u16, body: &str) -> String {
    let b = body.trim();
    if status != 400 {
        if let Some(inner) = b.strip_prefix("caused: ").and_then(|r| r.strip_suffix(';')) {
            return inner.to_string();
        }
    }
    b.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_decoder_semantics() {
        assert_eq!(java_url_decode(b"a+b%2B%25").unwrap(), b"a b+%");
        assert_eq!(java_url_decode(b"{\"a\":1}").unwrap(), b"{\"a\":1}");
        assert_eq!(
            java_url_decode(b"%E4%B8%AD").unwrap(),
            "\u{4e2d}".as_bytes()
        );
        assert!(java_url_decode(b"100%")
            .unwrap_err()
            .contains("Incomplete trailing escape"));
        assert!(java_url_decode(b"%4")
            .unwrap_err()
            .contains("Incomplete trailing escape"));
        assert!(java_url_decode(b"%zz1")
            .unwrap_err()
            .contains("Illegal hex characters"));
    }

    fn odd_packet() -> BeatPacket {
        use nacos_raft_core::{BeatDatum, PeerState};
        let keys = [
            "iplist.public##DEFAULT_GROUP@@plain",
            "iplist.public##DEFAULT_GROUP@@a+b%25c",
            "meta.public##g@@quote\"back\\slash",
            "iplist.public##g@@\u{4e2d}\u{1F600}",
            "iplist.public##g@@ctl\n\t\u{1}",
            "meta.public##g@@%2525%252B+",
        ];
        BeatPacket {
            peer: RaftPeer {
                ip: "127.0.0.1:8848".into(),
                vote_for: Some("null".into()),
                term: 7,
                leader_due_ms: 15_000,
                heartbeat_due_ms: 5_000,
                state: PeerState::Leader,
                data_version: None,
                position: None,
            },
            datums: keys
                .iter()
                .enumerate()
                .map(|(i, k)| BeatDatum {
                    key: k.to_string(),
                    timestamp: i as u64 + 1,
                })
                .collect::<Vec<_>>()
                .into(),
        }
    }

    #[test]
    fn one_pass_beat_text_is_the_four_pass_text() {
        for packet in [
            odd_packet(),
            BeatPacket {
                datums: Default::default(),
                ..odd_packet()
            },
        ] {
            let reference = escape_for_java_decoder(&packet.to_body(), 2);
            assert_eq!(String::from_utf8(beat_text(&packet)).unwrap(), reference);
            // What Java's two decodes and the outer JSON give back, and this node's fast path.
            let plain = beat_text(&packet);
            let general = BeatPacket::from_body(&body_text(&plain, 2).unwrap()).unwrap();
            assert_eq!(general, packet);
            assert_eq!(beat_inner_fast(&plain).unwrap(), packet.to_json());
            let limits = Limits::default();
            assert_eq!(
                decode_beat(&beat_body(&packet, 1), &limits).unwrap(),
                packet
            );
        }
    }

    /// `odd_packet`'s list in a leader's order, as differences need it.
    fn ordered_packet() -> BeatPacket {
        let mut list = (*odd_packet().datums).clone();
        list.sort_by(|a, b| crate::beat_list::order(&a.key, &b.key).unwrap());
        BeatPacket {
            datums: Arc::new(list),
            ..odd_packet()
        }
    }

    #[test]
    fn a_named_list_rides_where_java_does_not_look() {
        let packet = odd_packet();
        let id = ListId {
            epoch: 0xabc,
            seq: 4,
        };
        let body = beat_body_named(&packet, id, 1);
        let plain = gunzip_capped(&body, 1 << 20).unwrap();
        // Java's reading: two URL decodes, the outer JSON, then `peer` and `datums` by name.
        let inner: serde_json::Value =
            serde_json::from_str(&inner_packet(&plain).unwrap()).unwrap();
        assert_eq!(inner["list"], "abc.4");
        let text = body_text(&plain, 2).unwrap();
        assert_eq!(BeatPacket::from_body(&text).unwrap(), packet);
        // A member under Nacos' rules reads the packet alone; a hardened one the name too.
        let limits = Limits::default();
        assert_eq!(decode_beat(&body, &limits).unwrap(), packet);
        let (got, named) = BeatDecoder::new().decode_named(&body, &limits).unwrap();
        assert_eq!((got, named), (packet.clone(), Some(id)));
        // Unnamed beats (a Java leader's) stay unnamed.
        let (_, named) = BeatDecoder::new()
            .decode_named(&beat_body(&packet, 1), &limits)
            .unwrap();
        assert_eq!(named, None);
    }

    #[test]
    fn a_difference_rebuilds_the_leaders_list_or_is_refused_with_nothing_changed() {
        use crate::beat_list::LeaderLists;
        let limits = Limits::default();
        let a = ordered_packet();
        let mut leader = LeaderLists::with_epoch(0x5eed);
        let mut follower = BeatDecoder::new();
        let na = leader.name(&a.datums);
        let (_, held) = follower
            .decode_named(&beat_body_named(&a, na.id, 1), &limits)
            .unwrap();
        assert_eq!(held, Some(na.id));

        // Keys that need escapes (quotes, %, +, control characters, non-ASCII) in a difference.
        let mut list = (*a.datums).clone();
        list[0].timestamp += 10;
        let gone = list.remove(2);
        list.push(BeatDatum {
            key: "iplist.public##g@@new\"one%+".into(),
            timestamp: 99,
        });
        list.sort_by(|x, y| crate::beat_list::order(&x.key, &y.key).unwrap());
        let b = BeatPacket {
            peer: RaftPeer {
                term: 8,
                ..a.peer.clone()
            },
            datums: Arc::new(list),
        };
        let nb = leader.name(&b.datums);
        let delta = nb.delta_for(held).unwrap();
        assert_eq!(delta.del, vec![gone.key]);
        let body = delta_beat_body(&b, nb.id, &delta, 1);
        assert!(body.len() < beat_body(&b, 1).len());
        let (got, named) = follower.decode_named(&body, &limits).unwrap();
        assert_eq!((got, named), (b.clone(), Some(nb.id)));

        // A member without the base: 409 and the reason, and it keeps nothing.
        let mut fresh = BeatDecoder::new();
        let e = fresh.decode_named(&body, &limits).unwrap_err();
        assert_eq!(e.status, 409);
        assert!(e.message.starts_with(NOT_HELD), "{}", e.message);
        assert!(fresh.held.get(nb.id).is_none());
        // A difference that does not give the leader's list: 400, and nothing kept.
        let nc = leader.name(&a.datums);
        let mut back = (*nc.delta_for(Some(nb.id)).unwrap()).clone();
        back.crc ^= 1;
        let e = follower
            .decode_named(&delta_beat_body(&a, nc.id, &back, 1), &limits)
            .unwrap_err();
        assert_eq!(e.status, 400, "{e:?}");
        assert!(e.message.contains("CRC"), "{}", e.message);
        assert!(follower.held.get(nc.id).is_none());
        assert!(follower.held.get(nb.id).is_some());
        // Under Nacos' rules (and in Java) a difference has no `datums`: refused, as Java's
        // `receivedBeat` fails on it before it reads any key.
        let e = decode_beat(&body, &limits).unwrap_err();
        assert!(e.message.contains("no datums"), "{}", e.message);
    }

    #[test]
    fn a_beat_answer_names_the_list_beside_the_peer_fields() {
        let peer = odd_packet().peer;
        let answer = response_body(&Response::Peer(peer.clone()));
        let id = ListId { epoch: 1, seq: 2 };
        let named = with_list_name(answer.clone(), id);
        assert_eq!(list_named_in_answer(named.as_bytes()), Some(id));
        // The leader's core reads the same peer (the name is a field it does not know).
        assert_eq!(wire::peer_from_json(&named).unwrap(), peer);
        assert_eq!(list_named_in_answer(answer.as_bytes()), None);
        assert_eq!(with_list_name("{}".into(), id), "{\"beatList\":\"1.2\"}");
        assert_eq!(list_named_in_answer(b"{\"beatList\":\"zz.1\"}"), None);
    }

    #[test]
    fn other_beat_forms_leave_the_fast_path() {
        let packet = odd_packet();
        let ours = String::from_utf8(beat_text(&packet)).unwrap();
        let inner_at = BEAT_HEAD.len();
        let variants = [
            // Java's raw JSON, a once-encoded body, lower-case hex, a raw `+` (a space for
            // Java), a stray quote, a JSON escape other than \" and \\, a control character.
            packet.to_body(),
            java_url_encode(&packet.to_body()),
            ours.replacen("%252B", "%252b", 1),
            format!("{}+{}", &ours[..inner_at], &ours[inner_at..]),
            format!("{}\"{}", &ours[..inner_at], &ours[inner_at..]),
            format!("{}\\n{}", &ours[..inner_at], &ours[inner_at..]),
            format!("{}\u{1}{}", &ours[..inner_at], &ours[inner_at..]),
            format!("{ours} "),
        ];
        let limits = Limits::default();
        for v in variants {
            assert_eq!(beat_inner_fast(v.as_bytes()), None, "{v}");
            // Whatever the general path decides stands: the same answer as before this path.
            let general = body_text(v.as_bytes(), 2)
                .map_err(|e| e.message)
                .and_then(|t| BeatPacket::from_body(&t).map_err(|e| e.0));
            let got = decode_beat(&gzip(v.as_bytes(), 1), &limits);
            assert_eq!(got.is_ok(), general.is_ok(), "{v}");
        }
        // Invalid UTF-8 inside our own form: the general path's lossy reading applies.
        let mut bad = beat_text(&packet);
        bad.insert(inner_at + 3, 0xff);
        assert_eq!(beat_inner_fast(&bad), None);
    }

    #[test]
    fn a_repeated_key_list_is_reused_and_decodes_as_a_fresh_decoder_would() {
        let limits = Limits::default();
        let packet = odd_packet();
        let mut decoder = BeatDecoder::new();
        let first = decoder.decode(&beat_body(&packet, 1), &limits).unwrap();
        assert_eq!(first, packet);
        // The next beat: another peer record, the same list. Shared, not parsed again.
        let mut next = packet.clone();
        next.peer.term = 8;
        next.peer.ip = "127.0.0.2:8848".into();
        next.peer.vote_for = Some("q\"uote,\"datums\":[%+".into());
        let second = decoder.decode(&beat_body(&next, 1), &limits).unwrap();
        assert_eq!(second, next);
        assert!(Arc::ptr_eq(&second.datums, &first.datums));
        // A changed list is parsed again and remembered in its place.
        let mut changed = next.clone();
        changed.datums = vec![BeatDatum {
            key: "meta.public##g@@x".into(),
            timestamp: 9,
        }]
        .into();
        assert_eq!(
            decoder.decode(&beat_body(&changed, 1), &limits).unwrap(),
            changed
        );
        decoder.decode(&beat_body(&packet, 1), &limits).unwrap();
        // Bodies built around the remembered list text that are not a plain packet: each
        // decodes exactly as with a decoder that remembers nothing.
        let ours = String::from_utf8(beat_text(&packet)).unwrap();
        let at = ours.find(",\\\"datums\\\":").unwrap();
        let (head, tail) = ours.split_at(at);
        let variants = [
            // A peer that is not one whole value, so the list text is no longer the list.
            format!("{}[{tail}", &head[..head.len() - 1]),
            format!("{head},\\\"x\\\":[1{tail}"),
            format!("{head}{{{tail}"),
            // A second `datums` before the list, a peer missing fields, an unknown state.
            format!("{head}{tail}").replacen("{\\\"peer", "{\\\"datums\\\":[],\\\"peer", 1),
            format!("{}\\\"peer\\\":{{}}{tail}", "%257B\"beat\":\"{"),
            ours.replacen("LEADER", "BOSS", 1),
            ours.replacen("LEADER", "FOLLOWER", 1),
            // Whitespace around the peer, a `+` in it (a space for Java).
            format!("{} {tail}", head),
            ours.replacen("127.0.0.1", "127.0.0.1+", 1),
        ];
        for v in variants {
            let body = gzip(v.as_bytes(), 1);
            let fresh = BeatDecoder::new().decode(&body, &limits);
            decoder.decode(&beat_body(&packet, 1), &limits).unwrap();
            assert_eq!(decoder.decode(&body, &limits), fresh, "{v}");
        }
    }

    #[test]
    fn java_encoder_semantics() {
        assert_eq!(java_url_encode("a b+c*d.e-f_g~"), "a+b%2Bc*d.e-f_g%7E");
        assert_eq!(
            java_url_encode("com.x##DEFAULT_GROUP@@s:1"),
            "com.x%23%23DEFAULT_GROUP%40%40s%3A1"
        );
        assert_eq!(java_url_encode("\u{4e2d}"), "%E4%B8%AD");
    }

    #[test]
    fn escaping_survives_the_matching_number_of_java_decodes() {
        for text in [
            r#"{"a":"x+y","b":"100%","c":"%41"}"#,
            r#"{}"#,
            r#"{"beat":"{\"peer\":{}}"}"#,
        ] {
            for times in 1..=2 {
                let enc = escape_for_java_decoder(text, times);
                assert!(!enc.starts_with('{'), "{enc}");
                let mut cur = enc.clone().into_bytes();
                for _ in 0..times {
                    cur = java_url_decode(&cur).unwrap();
                }
                assert_eq!(String::from_utf8(cur).unwrap(), text, "{enc}");
                assert_eq!(body_text(enc.as_bytes(), times).unwrap(), text);
            }
        }
    }

    #[test]
    fn gzip_is_capped() {
        let big = vec![b'a'; 100_000];
        let z = gzip(&big, 6);
        assert!(is_gzip(&z));
        assert_eq!(gunzip_capped(&z, 100_000).unwrap().len(), 100_000);
        let e = gunzip_capped(&z, 99_999).unwrap_err();
        assert_eq!(e.status, TOO_LARGE);
        assert!(gunzip_capped(b"\x1f\x8bnot really", 100).is_err());
    }

    #[test]
    fn gzip_answers_are_capped_too() {
        let req = Request::GetDatums(vec!["k".into()]);
        let z = gzip(&vec![b' '; 100_000], 6);
        let e = decode_answer_capped(&req, 200, &z, 99_999).unwrap_err();
        assert!(
            matches!(&e, Failure::Malformed(m) if m.contains("beyond the limit")),
            "{e}"
        );
        let ok = gzip(b"[null]", 6);
        assert_eq!(
            decode_answer_capped(&req, 200, &ok, 1024).unwrap(),
            Response::Datums(vec![None])
        );
    }

    #[test]
    fn params_come_from_query_or_form_body() {
        assert_eq!(
            param(Some("a=1&vote=x%2By"), b"", "vote").as_deref(),
            Some("x+y")
        );
        assert_eq!(param(None, b"vote=x+y", "vote").as_deref(), Some("x y"));
        assert_eq!(param(Some("a=1"), b"vote=z", "vote").as_deref(), Some("z"));
        assert_eq!(param(None, b"{\"vote\":1}", "vote"), None);
        assert_eq!(
            required(None, b"vote=%20", "vote").unwrap_err().message,
            "Param 'vote' is required."
        );
    }

    #[test]
    fn keys_split_as_java_splits() {
        let split = |s| java_split(s, ',');
        assert_eq!(split("a,b,"), ["a", "b"]);
        assert_eq!(split("a,,b,,"), ["a", "", "b"]);
        assert_eq!(split(",a"), ["", "a"]);
        assert!(split(",,").is_empty());
        assert_eq!(split(""), [""]);
        assert_eq!(decode_keys(Some("keys=a%2Cb%2C"), b"").unwrap(), ["a", "b"]);
    }

    #[test]
    fn caused_bodies_unwrap() {
        assert_eq!(
            unwrap_caused(500, "caused: can not find peer: x;"),
            "can not find peer: x"
        );
        assert_eq!(unwrap_caused(400, "caused: y;"), "caused: y;");
        assert_eq!(unwrap_caused(500, ""), "");
    }
}
