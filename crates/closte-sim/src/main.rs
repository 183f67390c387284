//! `closte-sim`: a Closte client-API simulator on 127.0.0.1, for tests, demos and benchmarks.
//!
//! It speaks the API described in docs/closte-api.md (`/adddomainalias`, `/deletedomainalias`, `/getdomains`,
//! `/gettaskstatus`, the SSL endpoints with one of them real, `/ssl/status`), checks the
//! `apikey`, keeps aliases in memory, and injects latency and faults. What it received is at
//! `GET /__sim/requests` (the key shown only as valid/invalid/missing); the control API is
//! described in docs/simulator.md. Its TLS front door serves, by SNI, the certificate Closte
//! would have issued for an alias, from a test CA. Run `closte-sim --help`.

mod certs;
mod conn;
mod front_door;
mod http;
mod sim;

use std::io::Write;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use conn::Conn;
use tokio::sync::Mutex;

use http::{read_request, Response};
use sim::{Action, Certificates, Config, Fault, FaultKind, Sim, SSL_CANDIDATES};

const USAGE: &str = "closte-sim: a Closte client-API simulator (loopback only)

Usage: closte-sim [options]
  --listen ADDR             127.0.0.1:PORT to listen on (default 127.0.0.1:0, a free port)
  --port-file PATH          write the bound port to PATH once listening (and the front door
                            is up and the CA written)
  --front-door ADDR         the TLS front door, 127.0.0.1:PORT (0 = a free port; default: a
                            free port on the --listen address). It serves by SNI the certificate
                            issued for an alias (after an SSL request and --ssl-issue-delay-ms;
                            with --ssl-endpoint none, after the add), else the default one for
                            default.closte-sim.invalid
  --test-ca-cert PEM --test-ca-key PEM   the root CA that signs the front door's certificates
                            (default: one generated at start); GET /__sim/ca.pem returns it
  --test-ca-out FILE        write the root CA's certificate PEM to FILE at start
  --api-key KEY             an accepted API key (repeatable; default: sim-key)
  --latency-ms N            delay every API answer by N ms (a simulated round trip)
  --ssl-endpoint PATH       the SSL endpoint that exists: /ssl/install (default), /installssl,
                            /ssl, /certificate/install, or none
  --ssl-issue-delay-ms N    time from SSL request to an active certificate (default 2000)
  --already-exists-message TEXT   Closte's text for an existing alias
  --not-found-message TEXT        Closte's text for deleting a missing alias
  --auth-error-message TEXT       text for a wrong or missing key (default: Invalid API Key)
  --auth-status N           HTTP status for a wrong key (default 200, as JSON success=false)
  --fault SPEC              inject a fault: KIND[:STATUS][,count=N][,path=/x][,retry_after=S]
                            [,delay_ms=N][,size=N][,apply=1][,chunked=1]; KIND is status, hang,
                            reset, malformed, html, empty, oversized, many, padded, trickle,
                            close (repeatable)
  --tls-cert PEM --tls-key PEM   serve HTTPS with this certificate chain and key
  --parent-pid PID          exit when PID is gone (tests use it to never leave a server behind)
  --verbose                 one line per request on stderr (never the key)
";

struct Options {
    listen: SocketAddr,
    front_door: Option<SocketAddr>,
    test_ca: Option<(String, String)>,
    test_ca_out: Option<String>,
    port_file: Option<String>,
    parent_pid: Option<u32>,
    verbose: bool,
    tls: Option<(String, String)>,
    config: Config,
    faults: Vec<Fault>,
}

fn parse_args() -> Result<Options, String> {
    let mut options = Options {
        listen: "127.0.0.1:0".parse().expect("literal address"),
        front_door: None,
        test_ca: None,
        test_ca_out: None,
        port_file: None,
        parent_pid: None,
        verbose: false,
        tls: None,
        config: Config::default(),
        faults: Vec::new(),
    };
    let mut keys = Vec::new();
    let (mut tls_cert, mut tls_key) = (None, None);
    let (mut ca_cert, mut ca_key) = (None, None);
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let number = |name: &str, v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: not a number: {v}"))
        };
        match arg.as_str() {
            "--help" | "-h" => {
                print!("{USAGE}");
                std::process::exit(0);
            }
            "--listen" => options.listen = loopback(&arg, value(&arg)?)?,
            "--front-door" => options.front_door = Some(loopback(&arg, value(&arg)?)?),
            "--test-ca-cert" => ca_cert = Some(value(&arg)?),
            "--test-ca-key" => ca_key = Some(value(&arg)?),
            "--test-ca-out" => options.test_ca_out = Some(value(&arg)?),
            "--port-file" => options.port_file = Some(value("--port-file")?),
            "--api-key" => keys.push(value("--api-key")?),
            "--latency-ms" => {
                options.config.latency_ms = number("--latency-ms", value("--latency-ms")?)?
            }
            "--ssl-endpoint" => {
                let v = value("--ssl-endpoint")?;
                if v != "none" && !SSL_CANDIDATES.contains(&v.as_str()) {
                    return Err(format!(
                        "--ssl-endpoint: one of {} or none",
                        SSL_CANDIDATES.join(", ")
                    ));
                }
                options.config.ssl_endpoint = v;
            }
            "--ssl-issue-delay-ms" => {
                options.config.ssl_issue_delay_ms =
                    number("--ssl-issue-delay-ms", value("--ssl-issue-delay-ms")?)?
            }
            "--already-exists-message" => options.config.already_exists_message = value(&arg)?,
            "--not-found-message" => options.config.not_found_message = value(&arg)?,
            "--auth-error-message" => options.config.auth_error_message = value(&arg)?,
            "--auth-status" => options.config.auth_status = number(&arg, value(&arg)?)? as u16,
            "--fault" => options.faults.push(Fault::parse_spec(&value("--fault")?)?),
            "--parent-pid" => options.parent_pid = Some(number(&arg, value(&arg)?)? as u32),
            "--verbose" => options.verbose = true,
            "--tls-cert" => tls_cert = Some(value(&arg)?),
            "--tls-key" => tls_key = Some(value(&arg)?),
            other => return Err(format!("unknown option {other} (see --help)")),
        }
    }
    if !keys.is_empty() {
        options.config.api_keys = keys;
    }
    options.tls = match (tls_cert, tls_key) {
        (Some(cert), Some(key)) => Some((cert, key)),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    options.test_ca = match (ca_cert, ca_key) {
        (Some(cert), Some(key)) => {
            let read = |flag: &str, path: &str| {
                std::fs::read_to_string(path).map_err(|e| format!("{flag} {path}: {e}"))
            };
            Some((read("--test-ca-cert", &cert)?, read("--test-ca-key", &key)?))
        }
        (None, None) => None,
        _ => return Err("--test-ca-cert and --test-ca-key go together".into()),
    };
    Ok(options)
}

/// A socket address on loopback: the simulator never listens anywhere else.
fn loopback(flag: &str, value: String) -> Result<SocketAddr, String> {
    let addr: SocketAddr = value
        .parse()
        .map_err(|_| format!("{flag}: bad address {value}"))?;
    if !addr.ip().is_loopback() {
        return Err(format!(
            "{flag}: only loopback addresses (127.0.0.0/8, ::1) are allowed"
        ));
    }
    Ok(addr)
}

fn main() {
    let options = match parse_args() {
        Ok(o) => o,
        Err(e) => {
            eprintln!("closte-sim: {e}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("tokio runtime");
    if let Err(e) = runtime.block_on(serve(options)) {
        eprintln!("closte-sim: {e}");
        std::process::exit(1);
    }
}

async fn serve(options: Options) -> std::io::Result<()> {
    let acceptor = match &options.tls {
        Some((cert, key)) => Some(conn::acceptor(cert, key).map_err(std::io::Error::other)?),
        None => None,
    };
    let authority =
        certs::Authority::new(options.test_ca.clone()).map_err(std::io::Error::other)?;
    let certificates = Certificates::new(authority).map_err(std::io::Error::other)?;
    let listener = TcpListener::bind(options.listen).await?;
    let addr = listener.local_addr()?;
    let front_door_listener =
        TcpListener::bind(options.front_door.unwrap_or(SocketAddr::new(addr.ip(), 0))).await?;
    let front_door = front_door_listener.local_addr()?;
    if let Some(path) = &options.test_ca_out {
        std::fs::write(path, certificates.ca_pem())
            .map_err(|e| std::io::Error::other(format!("--test-ca-out {path}: {e}")))?;
    }
    // The line comes before the port file, so whoever waits for the file can read the line.
    let scheme = if acceptor.is_some() { "https" } else { "http" };
    println!("closte-sim listening on {scheme}://{addr}/api/client front_door={front_door}");
    std::io::stdout().flush()?;
    if let Some(path) = &options.port_file {
        // Written atomically so a reader never sees a partial number.
        let tmp = format!("{path}.tmp");
        std::fs::write(&tmp, addr.port().to_string())?;
        std::fs::rename(&tmp, path)?;
    }
    if let Some(pid) = options.parent_pid {
        tokio::spawn(async move {
            loop {
                tokio::time::sleep(Duration::from_millis(500)).await;
                if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                    std::process::exit(0);
                }
            }
        });
    }
    let mut sim = Sim::new(options.config, options.faults, certificates);
    sim.front_door = Some(front_door);
    let sim = Arc::new(Mutex::new(sim));
    tokio::spawn(front_door::run(front_door_listener, sim.clone()));
    let verbose = options.verbose;
    loop {
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted?,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let _ = stream.set_nodelay(true);
        let sim = sim.clone();
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let stream = match acceptor {
                None => Conn::Plain(stream),
                Some(acceptor) => match acceptor.accept(stream).await {
                    Ok(tls) => Conn::Tls(Box::new(tls)),
                    Err(_) => return,
                },
            };
            let connection = {
                let mut sim = sim.lock().await;
                sim.connections += 1;
                sim.connections
            };
            let _ = serve_connection(stream, sim, connection, verbose).await;
        });
    }
}

async fn serve_connection(
    mut stream: Conn,
    sim: Arc<Mutex<Sim>>,
    connection: u64,
    verbose: bool,
) -> std::io::Result<()> {
    let mut buffer = Vec::new();
    while let Some(request) = read_request(&mut stream, &mut buffer).await? {
        let close = request.wants_close();
        if request.path.starts_with("/__sim/") {
            let response = sim.lock().await.handle_control(&request);
            response.write(&mut stream, close).await?;
        } else {
            let (action, latency) = {
                let mut sim = sim.lock().await;
                (sim.handle_api(&request, connection), sim.config.latency_ms)
            };
            if verbose {
                eprintln!(
                    "closte-sim: conn {connection} {} {}",
                    request.method, request.path
                );
            }
            if latency > 0 {
                tokio::time::sleep(Duration::from_millis(latency)).await;
            }
            match action {
                Action::Respond(response) => response.write(&mut stream, close).await?,
                Action::Fault(fault, real) => {
                    if !inject(&mut stream, &fault, real).await? {
                        return Ok(());
                    }
                }
            }
        }
        if close {
            return Ok(());
        }
    }
    Ok(())
}

/// A 200 JSON answer sent chunked (no Content-Length) in 64 KiB chunks; the connection closes
/// after it. A client that stops reading early ends the write quietly.
async fn write_chunked(stream: &mut Conn, body: &[u8]) -> std::io::Result<()> {
    let response = Response::raw(200, "application/json", Vec::new());
    stream.write_all(&response.head(None, true)).await?;
    for chunk in body.chunks(64 * 1024) {
        let framed = [
            format!("{:x}\r\n", chunk.len()).into_bytes(),
            chunk.to_vec(),
            b"\r\n".to_vec(),
        ]
        .concat();
        if stream.write_all(&framed).await.is_err() {
            return Ok(());
        }
    }
    let _ = stream.write_all(b"0\r\n\r\n").await;
    Ok(())
}

/// Carries out a fault. Returns whether the connection may serve another request.
async fn inject(stream: &mut Conn, fault: &Fault, real: Response) -> std::io::Result<bool> {
    let delay = Duration::from_millis(fault.delay_ms.unwrap_or(200));
    match fault.kind {
        FaultKind::Status => {
            let status = fault.status.unwrap_or(500);
            let mut response = Response::json(
                status,
                &serde_json::json!({
                    "success": false,
                    "error": fault.error.clone().unwrap_or_else(|| format!("Injected HTTP {status}")),
                }),
            );
            let retry_after = match (&fault.retry_after_raw, fault.retry_after_date) {
                (Some(raw), _) => Some(raw.clone()),
                (None, Some(secs)) => Some(sim::http_date_in(secs)),
                _ => fault
                    .retry_after
                    .or((status == 429).then_some(1))
                    .map(|secs| secs.to_string()),
            };
            if let Some(value) = retry_after {
                response = response.with_header("Retry-After", value);
            }
            response.write(stream, false).await?;
            Ok(true)
        }
        FaultKind::Hang => {
            // Hold the connection open without a byte until the client gives up.
            tokio::time::sleep(Duration::from_millis(fault.delay_ms.unwrap_or(3_600_000))).await;
            Ok(false)
        }
        FaultKind::Reset => {
            let head = real.head(Some(real.body.len() + 100), false);
            stream.write_all(&head).await?;
            stream.write_all(&real.body[..real.body.len() / 2]).await?;
            stream.flush().await?;
            stream.tcp().set_zero_linger()?;
            Ok(false)
        }
        FaultKind::Close => Ok(false),
        FaultKind::Malformed => {
            Response::raw(200, "application/json", r#"{"success": tru"#)
                .write(stream, false)
                .await?;
            Ok(true)
        }
        FaultKind::Html => {
            let status = fault.status.unwrap_or(502);
            let page = format!(
                "<!DOCTYPE html><html><head><title>{status}</title></head><body><h1>{status} Error</h1><p>nginx</p></body></html>"
            );
            Response::raw(status, "text/html", page)
                .write(stream, false)
                .await?;
            Ok(true)
        }
        FaultKind::Empty => {
            Response::raw(200, "application/json", Vec::new())
                .write(stream, false)
                .await?;
            Ok(true)
        }
        FaultKind::Oversized => {
            let size = fault.size.unwrap_or(8 * 1024 * 1024);
            write_chunked(stream, &vec![b' '; size]).await?;
            Ok(false)
        }
        FaultKind::Padded => {
            let size = fault.size.unwrap_or(4 * 1024 * 1024);
            let mut body = real.body.clone();
            body.resize(size.max(body.len()), b' ');
            if fault.chunked {
                write_chunked(stream, &body).await?;
                return Ok(false);
            }
            Response::raw(200, "application/json", body)
                .write(stream, false)
                .await?;
            Ok(true)
        }
        FaultKind::Many => {
            let size = fault.size.unwrap_or(4 * 1024 * 1024 - 1024);
            let count = size.saturating_sub(32) / 3;
            let body = format!(
                "{{\"success\":true,\"data\":[{}{{}}]}}",
                "{},".repeat(count)
            );
            Response::raw(200, "application/json", body.into_bytes())
                .write(stream, false)
                .await?;
            Ok(true)
        }
        FaultKind::Trickle => {
            real.trickle(stream, delay).await?;
            Ok(false)
        }
    }
}
