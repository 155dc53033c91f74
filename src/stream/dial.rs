//! Opening the WebSocket: `{endpoint}?ticket=…`, over TLS with rustls (ring, webpki roots),
//! through an HTTP CONNECT tunnel when `HTTPS_PROXY` (or `HTTP_PROXY` for `ws://`) names a
//! proxy and `NO_PROXY` does not exclude the host, all within one deadline.

use std::{sync::Arc, time::Duration};

use base64::Engine;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};
use tokio_tungstenite::{
    Connector, MaybeTlsStream, WebSocketStream, tungstenite::protocol::WebSocketConfig,
};
use url::Url;

use crate::dingtalk::StreamTicket;

/// An open Stream WebSocket.
pub type Socket = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The largest proxy answer to a CONNECT that is read.
const MAX_PROXY_ANSWER: usize = 8 * 1024;
/// The largest frame or message accepted from the gateway (tungstenite's default is
/// 64 MiB). A robot message is at most 64 KiB, as on `/callback`; the official Java SDK
/// allows 256 KiB.
const MAX_FRAME_BYTES: usize = 256 * 1024;

fn limits() -> WebSocketConfig {
    WebSocketConfig::default()
        .max_message_size(Some(MAX_FRAME_BYTES))
        .max_frame_size(Some(MAX_FRAME_BYTES))
}

/// Why no WebSocket could be opened. The ticket never appears in it.
#[derive(Debug, thiserror::Error)]
pub enum DialError {
    #[error("no connection within {0:?}")]
    Timeout(Duration),
    #[error("the proxy {proxy}: {why}")]
    Proxy { proxy: String, why: String },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("the WebSocket handshake failed: {0}")]
    Handshake(String),
}

/// TLS for `wss://` ([`crate::tls`]: certificates checked).
pub fn connector() -> Connector {
    Connector::Rustls(Arc::new(crate::tls::client_config()))
}

/// Opens the WebSocket for `ticket` within `deadline`.
pub async fn dial(
    ticket: &StreamTicket,
    connector: &Connector,
    deadline: Duration,
) -> Result<Socket, DialError> {
    let mut url = ticket.endpoint.clone();
    url.query_pairs_mut().append_pair("ticket", &ticket.ticket);
    let lookup = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let proxy = proxy_for(&url, lookup);
    // tungstenite's errors may quote the URL; its query is the ticket.
    let failed = |e: tokio_tungstenite::tungstenite::Error| {
        let said = crate::telemetry::causes(&e);
        if ticket.ticket.is_empty() {
            DialError::Handshake(said)
        } else {
            DialError::Handshake(said.replace(&ticket.ticket, "***"))
        }
    };
    let open = async {
        match proxy {
            Some(proxy) => {
                let tunnel = tunnel(&proxy, &url).await?;
                tokio_tungstenite::client_async_tls_with_config(
                    url.as_str(),
                    tunnel,
                    Some(limits()),
                    Some(connector.clone()),
                )
                .await
                .map(|(socket, _)| socket)
                .map_err(failed)
            }
            None => tokio_tungstenite::connect_async_tls_with_config(
                url.as_str(),
                Some(limits()),
                false,
                Some(connector.clone()),
            )
            .await
            .map(|(socket, _)| socket)
            .map_err(failed),
        }
    };
    tokio::time::timeout(deadline, open)
        .await
        .map_err(|_| DialError::Timeout(deadline))?
}

/// The proxy for `url` per the usual variables, unless `NO_PROXY` lists its host.
fn proxy_for(url: &Url, var: impl Fn(&str) -> Option<String>) -> Option<Url> {
    let host = url.host_str()?;
    let names: &[&str] = if url.scheme() == "wss" {
        &["HTTPS_PROXY", "https_proxy"]
    } else {
        &["HTTP_PROXY", "http_proxy"]
    };
    let proxy = names.iter().find_map(|n| var(n))?;
    let no_proxy = var("NO_PROXY")
        .or_else(|| var("no_proxy"))
        .unwrap_or_default();
    if excluded(host, &no_proxy) {
        return None;
    }
    let with_scheme = if proxy.contains("://") {
        proxy
    } else {
        format!("http://{proxy}")
    };
    Url::parse(&with_scheme).ok()
}

/// Whether `NO_PROXY` (comma-separated hosts, `.domain` suffixes or `*`) covers `host`.
fn excluded(host: &str, no_proxy: &str) -> bool {
    no_proxy.split(',').map(str::trim).any(|entry| {
        let entry = entry.trim_start_matches('.');
        entry == "*"
            || (!entry.is_empty()
                && (host.eq_ignore_ascii_case(entry)
                    || host
                        .to_ascii_lowercase()
                        .ends_with(&format!(".{}", entry.to_ascii_lowercase()))))
    })
}

/// A TCP connection through `proxy` to `url`'s host and port (HTTP CONNECT).
async fn tunnel(proxy: &Url, url: &Url) -> Result<TcpStream, DialError> {
    let shown = format!(
        "{}:{}",
        proxy.host_str().unwrap_or("?"),
        proxy.port_or_known_default().unwrap_or(80)
    );
    let failed = |why: String| DialError::Proxy {
        proxy: shown.clone(),
        why,
    };
    let target = format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or(443)
    );
    let mut stream = TcpStream::connect(&shown)
        .await
        .map_err(|e| failed(e.to_string()))?;
    let mut request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n");
    if !proxy.username().is_empty() {
        let user = percent_decoded(proxy.username());
        let password = percent_decoded(proxy.password().unwrap_or(""));
        let credentials =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        request.push_str(&format!("Proxy-Authorization: Basic {credentials}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).await?;
    let mut answer = Vec::new();
    let mut byte = [0u8; 1];
    // Byte by byte up to the blank line: nothing of the tunnelled stream is read.
    while !answer.ends_with(b"\r\n\r\n") {
        if answer.len() >= MAX_PROXY_ANSWER || stream.read(&mut byte).await? == 0 {
            return Err(failed("closed or sent too much before answering".into()));
        }
        answer.push(byte[0]);
    }
    let status_line = String::from_utf8_lossy(&answer);
    let status_line = status_line.lines().next().unwrap_or_default();
    let ok = status_line
        .split_whitespace()
        .nth(1)
        .is_some_and(|code| code == "200");
    if !ok {
        return Err(failed(format!(
            "refused the tunnel: {}",
            crate::telemetry::strip_controls(status_line)
        )));
    }
    Ok(stream)
}

/// A URL's user or password as typed (`%40` is `@`; a `+` stays a `+`).
fn percent_decoded(s: &str) -> String {
    percent_encoding::percent_decode_str(s)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn proxy(url: &str, vars: &[(&str, &str)]) -> Option<String> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        proxy_for(&Url::parse(url).unwrap(), |n| vars.get(n).cloned()).map(|u| u.to_string())
    }

    #[test]
    fn the_proxy_variables_are_honoured_as_curl_does() {
        let wss = "wss://wss-open-connection.dingtalk.com:443/connect";
        assert_eq!(
            proxy(wss, &[("HTTPS_PROXY", "proxy:3128")]).as_deref(),
            Some("http://proxy:3128/")
        );
        assert_eq!(
            proxy(wss, &[("HTTP_PROXY", "proxy:3128")]),
            None,
            "wss takes HTTPS_PROXY"
        );
        let no = [
            ("HTTPS_PROXY", "http://proxy:3128"),
            ("NO_PROXY", "localhost, .dingtalk.com"),
        ];
        assert_eq!(proxy(wss, &no), None);
        let no = [
            ("https_proxy", "http://proxy:3128"),
            ("no_proxy", "example.com"),
        ];
        assert!(proxy(wss, &no).is_some());
        assert_eq!(
            proxy(wss, &[("HTTPS_PROXY", "http://p:1"), ("NO_PROXY", "*")]),
            None
        );
        assert!(proxy("ws://127.0.0.1:9/connect", &[("HTTP_PROXY", "http://p:1")]).is_some());
    }

    #[test]
    fn proxy_credentials_are_decoded() {
        assert_eq!(percent_decoded("a%40b"), "a@b");
        assert_eq!(percent_decoded("p+w"), "p+w", "userinfo is not a form");
    }
}
