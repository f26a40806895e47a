//! TLS on the event loops: a connection's byte stream, plain or through a
//! rustls server connection, with the non-blocking `Read` and `Write` the
//! reactor drives (a handshake is read and written as part of the first
//! request, under the same deadline and caps); the certificate, loaded
//! from PEM and swapped while the server runs (SIGHUP).
//!
//! TLS is this project's extension: the original server spoke plain HTTP
//! only, and the plain listener stays as it was (docs/SECURITY.md).

use std::io::{self, Read, Write};
use std::net::Shutdown;
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use mio::net::TcpStream;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{ServerConfig, ServerConnection};

use crate::controls::Controls;

/// A certificate chain and its private key, as PEM.
#[derive(Clone)]
pub struct TlsCertificate {
    /// The chain, leaf first (`-----BEGIN CERTIFICATE-----` blocks).
    pub chain_pem: Vec<u8>,
    /// The private key (PKCS#8, PKCS#1 or SEC1 PEM). Wiped when dropped.
    pub key_pem: zeroize::Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for TlsCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsCertificate")
            .field("chain_pem", &format_args!("{} bytes", self.chain_pem.len()))
            .finish_non_exhaustive()
    }
}

impl TlsCertificate {
    /// Reads the two PEM files (`--tls-cert`, `--tls-key`).
    ///
    /// # Errors
    /// A file that cannot be read, named in the message.
    pub fn from_files(chain: &Path, key: &Path) -> Result<TlsCertificate, String> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
        };
        Ok(TlsCertificate {
            chain_pem: read(chain)?,
            key_pem: zeroize::Zeroizing::new(read(key)?),
        })
    }

    /// A certificate for `localhost`, `127.0.0.1` and `::1`, made now and
    /// signed by itself, for tests: its PEM is what a client trusts
    /// (`httpqq::ClientBuilder::ca_pem`).
    ///
    /// # Errors
    /// Only if the key cannot be generated.
    pub fn self_signed() -> Result<TlsCertificate, String> {
        let names = vec!["localhost".into(), "127.0.0.1".into(), "::1".into()];
        let made = rcgen::generate_simple_self_signed(names)
            .map_err(|e| format!("cannot make a test certificate: {e}"))?;
        Ok(TlsCertificate {
            chain_pem: made.cert.pem().into_bytes(),
            key_pem: zeroize::Zeroizing::new(made.signing_key.serialize_pem().into_bytes()),
        })
    }

    /// The rustls configuration that serves it.
    pub(crate) fn server_config(&self) -> Result<Arc<ServerConfig>, String> {
        let chain = CertificateDer::pem_slice_iter(&self.chain_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("the certificate is not PEM: {e:?}"))?;
        if chain.is_empty() {
            return Err("the certificate file holds no certificate".into());
        }
        let key = PrivateKeyDer::from_pem_slice(&self.key_pem)
            .map_err(|e| format!("the key file holds no usable private key: {e:?}"))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("TLS: {e}"))?
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .map_err(|e| format!("the certificate and key do not fit: {e}"))?;
        Ok(Arc::new(config))
    }
}

/// Where the TLS listener's certificate comes from, to reload it.
#[derive(Debug, Clone)]
pub enum TlsSource {
    /// Files, read again by [`crate::Server::reload_tls`].
    Files {
        /// The chain.
        chain: PathBuf,
        /// The key.
        key: PathBuf,
    },
    /// Given in memory (a test certificate).
    Given(TlsCertificate),
}

impl TlsSource {
    /// The certificate, read now.
    pub(crate) fn load(&self) -> Result<TlsCertificate, String> {
        match self {
            TlsSource::Files { chain, key } => TlsCertificate::from_files(chain, key),
            TlsSource::Given(certificate) => Ok(certificate.clone()),
        }
    }
}

/// The configuration new TLS connections get (existing ones keep theirs).
pub(crate) struct Current(RwLock<Arc<ServerConfig>>);

impl Current {
    pub(crate) fn new(config: Arc<ServerConfig>) -> Current {
        Current(RwLock::new(config))
    }

    pub(crate) fn get(&self) -> Arc<ServerConfig> {
        Arc::clone(&self.0.read().unwrap_or_else(|p| p.into_inner()))
    }

    pub(crate) fn set(&self, config: Arc<ServerConfig>) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = config;
    }
}

/// What a client that speaks plain HTTP to the TLS port is told, in
/// plain HTTP (as nginx does), before the connection closes.
const PLAIN_ON_TLS: &[u8] = b"HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=UTF-8\r\nConnection: close\r\nContent-Length: 58\r\n\r\nThis port speaks TLS: use https:// or the plain port.\r\n\r\n";

/// A connection's bytes.
pub(crate) enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

/// A TCP stream through a rustls server connection.
pub(crate) struct TlsStream {
    tcp: TcpStream,
    tls: ServerConnection,
    /// The first byte was seen to be a TLS handshake record.
    checked: bool,
    /// Where the finished handshake is counted (once), by kind.
    handshakes: Arc<Controls>,
    counted: bool,
}

impl Stream {
    /// A TLS connection over `tcp`; its handshake, once finished, is
    /// counted in `handshakes` (full or resumed).
    pub(crate) fn tls(
        tcp: TcpStream,
        config: Arc<ServerConfig>,
        handshakes: Arc<Controls>,
    ) -> io::Result<Stream> {
        let tls = ServerConnection::new(config).map_err(io::Error::other)?;
        Ok(Stream::Tls(Box::new(TlsStream {
            tcp,
            tls,
            checked: false,
            handshakes,
            counted: false,
        })))
    }

    pub(crate) fn tcp(&mut self) -> &mut TcpStream {
        match self {
            Stream::Plain(tcp) => tcp,
            Stream::Tls(s) => &mut s.tcp,
        }
    }

    pub(crate) fn is_tls(&self) -> bool {
        matches!(self, Stream::Tls(_))
    }

    /// Ends the writing side: TLS says `close_notify` first.
    pub(crate) fn shutdown_write(&mut self) {
        if let Stream::Tls(s) = self {
            s.tls.send_close_notify();
            let _ = s.flush_tls();
        }
        let _ = self.tcp().shutdown(Shutdown::Write);
    }
}

impl TlsStream {
    /// Writes what rustls has for the peer; `WouldBlock` if some is left.
    fn flush_tls(&mut self) -> io::Result<()> {
        while self.tls.wants_write() {
            match self.tls.write_tls(&mut self.tcp) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(())
    }

    /// Counts the handshake once it has finished.
    fn count_handshake(&mut self) {
        if self.counted || self.tls.is_handshaking() {
            return;
        }
        self.counted = true;
        let resumed = self.tls.handshake_kind() == Some(rustls::HandshakeKind::Resumed);
        self.handshakes.tls_handshake(resumed);
    }

    /// A client speaking plain HTTP to this port gets a plain 400 saying
    /// so; `Ok(true)` when that happened (the connection then ends).
    fn refuse_plain(&mut self) -> io::Result<bool> {
        let mut first = [0u8; 1];
        let n = loop {
            match self.tcp.peek(&mut first) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        };
        // 22: a handshake record. Anything else at the start is not TLS.
        if n == 0 || first[0] == 22 {
            self.checked = true;
            return Ok(false);
        }
        if first[0].is_ascii_alphabetic() {
            // Take what the client sent (a reset would destroy the reply)
            // and answer once.
            let mut sink = [0u8; 4096];
            while matches!(self.tcp.read(&mut sink), Ok(n) if n > 0) {}
            let _ = self.tcp.write(PLAIN_ON_TLS);
            log::info!(target: "httpqq::server", "a plain HTTP request on the TLS port: answered 400");
        }
        Ok(true)
    }
}

impl Read for Stream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let s = match self {
            Stream::Plain(tcp) => return tcp.read(buf),
            Stream::Tls(s) => s,
        };
        if !s.checked && s.refuse_plain()? {
            return Ok(0);
        }
        loop {
            match s.tls.reader().read(buf) {
                Ok(n) => return Ok(n),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            // Handshake messages for the peer go out before more is read.
            match s.flush_tls() {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
            match s.tls.read_tls(&mut s.tcp) {
                Ok(0) => return Ok(0),
                Ok(_) => {
                    if let Err(e) = s.tls.process_new_packets() {
                        // Tell the peer why (an alert), then fail.
                        let _ = s.flush_tls();
                        return Err(io::Error::new(io::ErrorKind::InvalidData, e));
                    }
                    s.count_handshake();
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }
}

impl Write for Stream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let s = match self {
            Stream::Plain(tcp) => return tcp.write(buf),
            Stream::Tls(s) => s,
        };
        loop {
            let taken = s.tls.writer().write(buf)?;
            let flushed = s.flush_tls();
            if taken > 0 || buf.is_empty() {
                return match flushed {
                    Err(e) if e.kind() != io::ErrorKind::WouldBlock => Err(e),
                    _ => Ok(taken),
                };
            }
            // rustls's buffer was full: room now, or wait for the socket.
            flushed?;
        }
    }

    /// Everything written is on the socket; `WouldBlock` until it is.
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Stream::Plain(tcp) => tcp.flush(),
            Stream::Tls(s) => s.flush_tls(),
        }
    }
}
