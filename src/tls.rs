//! The one TLS client configuration for connections qunguan opens itself (the Stream
//! WebSocket, PostgreSQL with `sslmode=require`): rustls with the ring provider reqwest
//! already uses, and Mozilla's roots; certificates are always checked.

use std::sync::Arc;

/// A rustls client configuration that verifies servers against the webpki roots.
pub fn client_config() -> rustls::ClientConfig {
    let roots = rustls::RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth()
}
