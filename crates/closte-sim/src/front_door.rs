//! The TLS front door: what a visitor's browser (and the certificate check) reaches at a mapped
//! name's address. It reads the ClientHello, serves the certificate the simulator holds for the
//! SNI name (the default certificate otherwise), completes the handshake and closes, or answers a
//! tiny HTTP 200 if the client sends a request. Every connection is bounded in time and bytes,
//! and only a fixed number run at once.

use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Mutex, Semaphore};
use tokio_rustls::LazyConfigAcceptor;

use crate::sim::Sim;

const MAX_CONNECTIONS: usize = 64;
/// The whole life of one connection: handshake, an optional request, the answer.
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);
/// How long after the handshake the client may take to start a request before the close.
const REQUEST_WAIT: Duration = Duration::from_secs(3);
const MAX_REQUEST_HEAD: usize = 16 * 1024;

pub async fn run(listener: TcpListener, sim: Arc<Mutex<Sim>>) {
    let slots = Arc::new(Semaphore::new(MAX_CONNECTIONS));
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of descriptors or the like: wait instead of spinning, never exit.
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Over the limit: the connection is dropped (closed) rather than queued.
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            continue;
        };
        let sim = sim.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, serve(stream, sim)).await;
            drop(slot);
        });
    }
}

async fn serve(stream: TcpStream, sim: Arc<Mutex<Sim>>) -> std::io::Result<()> {
    let _ = stream.set_nodelay(true);
    let start = LazyConfigAcceptor::new(rustls::server::Acceptor::default(), stream).await?;
    let sni = start.client_hello().server_name().map(str::to_string);
    let leaf = sim.lock().await.certificate_for_sni(sni.as_deref());
    let mut tls = start.into_stream(leaf.config.clone()).await?;
    let mut head = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let read = tokio::time::timeout(REQUEST_WAIT, tls.read(&mut chunk)).await;
        match read {
            Ok(Ok(n)) if n > 0 => head.extend_from_slice(&chunk[..n]),
            // The client closed, failed or sent nothing: the handshake was all it wanted.
            _ => break,
        }
        if head.windows(4).any(|w| w == b"\r\n\r\n") || head.len() > MAX_REQUEST_HEAD {
            let body = format!(
                "closte-sim front door: {}\n",
                sni.as_deref().unwrap_or("(no SNI)")
            );
            let answer = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            );
            tls.write_all(answer.as_bytes()).await?;
            break;
        }
    }
    tls.shutdown().await
}
