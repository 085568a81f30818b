//! The client commands `put`, `get`, `delete` and `state`: one HTTP request to one node,
//! its answer printed on stdout. A key or value that the node would refuse is refused here
//! first, with the same rule (the core's `validate_client_key`), before anything is sent.

use crate::cli::CliError;
use crate::codec::{self, Outbound};
use crate::identity::Identity;
use crate::members;
use crate::options::ClientCommand;
use crate::peer_client::{ClientConfig, PeerClient};
use bytes::Bytes;
use nacos_raft_core::key;

/// The JSON body of a client write, as a Java follower forwards it, escaped for the one URL
/// decode the receiver applies (Java's and this node's), so the value's text arrives exactly as
/// given (field order, `+` and `%` included).
pub fn put_body(key: &str, value: &str) -> Result<String, String> {
    key::validate_client_key(key)?;
    let v: serde_json::Value =
        serde_json::from_str(value).map_err(|e| format!("the value is not JSON: {e}"))?;
    if !v.is_object() {
        return Err("the value must be a JSON object, e.g. '{\"instanceList\":[]}'".into());
    }
    let k = serde_json::to_string(key).map_err(|e| e.to_string())?;
    let body = format!("{{\"key\":{k},\"value\":{}}}", value.trim());
    Ok(codec::escape_for_java_decoder(&body, 1))
}

/// The node to talk to and the request of a client command; the error is a message for people.
pub fn client_request(cmd: &ClientCommand) -> Result<(String, Outbound), String> {
    let base = codec::RAFT_BASE;
    let server = |s: &str| members::normalize(s).map_err(|e| format!("--server: {e}"));
    Ok(match cmd {
        ClientCommand::Put {
            server: s,
            key,
            value,
        } => {
            let server = server(s)?;
            let body = Bytes::from(put_body(key, value)?.into_bytes());
            let headers = vec![("content-type", codec::JSON_REQUEST.into())];
            (
                server,
                request("POST", format!("{base}/datum"), headers, body),
            )
        }
        ClientCommand::Get { server: s, keys } => {
            if let Some(k) = keys.iter().find(|k| k.contains(',')) {
                return Err(format!("key {k} contains a comma"));
            }
            let path = format!("{base}/datum?{}", codec::keys_query(keys));
            (server(s)?, request("GET", path, vec![], Bytes::new()))
        }
        ClientCommand::Delete { server: s, key } => {
            key::validate_client_key(key)?;
            let path = format!(
                "{base}/datum?key={}&encoding=UTF-8&nofix=1",
                codec::java_url_encode(&codec::java_url_encode(key))
            );
            (server(s)?, request("DELETE", path, vec![], Bytes::new()))
        }
        ClientCommand::State { server: s } => {
            let path = format!("{base}/state");
            (server(s)?, request("GET", path, vec![], Bytes::new()))
        }
    })
}

fn request(
    method: &'static str,
    path_and_query: String,
    headers: Vec<(&'static str, String)>,
    body: Bytes,
) -> Outbound {
    Outbound {
        method,
        path_and_query,
        headers,
        body,
    }
}

/// Runs a client command: prints the node's answer, or says why there is none.
pub async fn run_client(cmd: ClientCommand, identity: Option<Identity>) -> Result<(), CliError> {
    let (server, out) = client_request(&cmd).map_err(CliError::Config)?;
    let c = PeerClient::new(ClientConfig {
        // A write answers after the publish timeout at worst; give it room.
        read_timeout: std::time::Duration::from_secs(30),
        identity,
        ..ClientConfig::default()
    });
    let (status, body) = c
        .call(&server, &out)
        .await
        .map_err(|f| CliError::Env(format!("{server}: {f}")))?;
    let text = String::from_utf8_lossy(&body);
    if status != 200 {
        return Err(CliError::Env(format!("{server} answered {status}: {text}")));
    }
    println!("{text}");
    if matches!(cmd, ClientCommand::State { .. }) {
        let path = format!("{}/leader", codec::RAFT_BASE);
        // The leader is a courtesy line: `state` has already answered.
        if let Ok((200, body)) = c
            .call(&server, &request("GET", path, vec![], Bytes::new()))
            .await
        {
            println!("{}", String::from_utf8_lossy(&body));
        }
    }
    Ok(())
}
