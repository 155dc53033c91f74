//! `qunguan healthcheck`: asks a running qunguan's `/healthz` (or any URL) whether it is up;
//! for container health checks, where the runtime image has no curl.

use std::{net::SocketAddr, process::ExitCode, time::Duration};

use crate::config;

/// `qunguan healthcheck`: exit 0 if `url` (default: `/healthz` on `QUNGUAN_LISTEN`)
/// answers 2xx within 3 s, 1 if not, 2 if `QUNGUAN_LISTEN` is not an address.
pub fn main(url: Option<String>) -> ExitCode {
    let url = match url {
        Some(url) => url,
        None => {
            let listen = super::setting("QUNGUAN_LISTEN")
                .unwrap_or_else(|| config::DEFAULT_LISTEN.to_owned());
            match listen.parse() {
                Ok(addr) => local_url(addr),
                Err(_) => {
                    eprintln!(
                        "qunguan healthcheck: QUNGUAN_LISTEN={listen:?} is not an address like 0.0.0.0:8080"
                    );
                    return ExitCode::from(2);
                }
            }
        }
    };
    super::block_on(async {
        match check(&url, Duration::from_secs(3)).await {
            Ok(answer) => {
                println!("{answer}");
                ExitCode::SUCCESS
            }
            Err(problem) => {
                eprintln!("qunguan healthcheck: {problem}");
                ExitCode::FAILURE
            }
        }
    })
}

/// The `/healthz` URL of a qunguan listening on `listen` (an unspecified address is
/// reached on loopback).
pub fn local_url(listen: SocketAddr) -> String {
    let port = listen.port();
    let host = match listen {
        SocketAddr::V4(a) if a.ip().is_unspecified() => "127.0.0.1".to_owned(),
        SocketAddr::V6(a) if a.ip().is_unspecified() => "[::1]".to_owned(),
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    };
    format!("http://{host}:{port}/healthz")
}

/// `Ok` with the answer if `url` answers 2xx within `timeout`.
pub async fn check(url: &str, timeout: Duration) -> Result<String, String> {
    let http = reqwest::Client::builder()
        .timeout(timeout)
        .build()
        .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
    let response = http
        .get(url)
        .send()
        .await
        .map_err(|e| format!("{url} did not answer: {e}"))?;
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    if status.is_success() {
        Ok(format!("{url}: {status} {}", body.trim()))
    } else {
        Err(format!("{url}: {status} {}", body.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::local_url;

    #[test]
    fn unspecified_addresses_are_reached_on_loopback() {
        assert_eq!(
            local_url("0.0.0.0:8080".parse().unwrap()),
            "http://127.0.0.1:8080/healthz"
        );
        assert_eq!(
            local_url("[::]:9000".parse().unwrap()),
            "http://[::1]:9000/healthz"
        );
        assert_eq!(
            local_url("10.0.0.5:80".parse().unwrap()),
            "http://10.0.0.5:80/healthz"
        );
    }
}
