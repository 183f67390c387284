//! A deliberately small HTTP/1.1 server layer: keep-alive, Content-Length bodies, and raw access
//! to the socket so that faults (resets, hangs, trickles) can be injected byte by byte.

use std::collections::BTreeMap;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::conn::Conn;

const MAX_HEAD_BYTES: usize = 64 * 1024;
const MAX_BODY_BYTES: usize = 1024 * 1024;

pub struct Request {
    pub method: String,
    /// The request target was in absolute form (the client took the simulator for a proxy).
    pub via_proxy: bool,
    pub path: String,
    pub query: String,
    pub headers: BTreeMap<String, String>,
    pub body: Vec<u8>,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get(&name.to_ascii_lowercase())
            .map(String::as_str)
    }

    pub fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|v| v.eq_ignore_ascii_case("close"))
    }

    /// Fields from the query string and, for form posts, the body (body wins).
    pub fn fields(&self) -> BTreeMap<String, String> {
        let mut fields: BTreeMap<String, String> = form_urlencoded::parse(self.query.as_bytes())
            .into_owned()
            .collect();
        let is_form = self
            .header("content-type")
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if is_form || (self.method == "POST" && !self.body.starts_with(b"{")) {
            fields.extend(form_urlencoded::parse(&self.body).into_owned());
        }
        fields
    }
}

/// Reads one request; `Ok(None)` when the peer closed the connection between requests.
pub async fn read_request(
    stream: &mut Conn,
    buffer: &mut Vec<u8>,
) -> std::io::Result<Option<Request>> {
    let head_end = loop {
        if let Some(pos) = find(buffer, b"\r\n\r\n") {
            break pos;
        }
        if buffer.len() > MAX_HEAD_BYTES {
            return Err(invalid("request head too large"));
        }
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return if buffer.is_empty() {
                Ok(None)
            } else {
                Err(invalid("connection closed mid-request"))
            };
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default().to_string();
    let mut target = parts.next().unwrap_or_default().to_string();
    // The absolute form (RFC 9112 §3.2.2), as a client sends it to a forward proxy: the simulator
    // then plays the proxy and Closte at once, and records that the request came that way.
    let via_proxy = target.starts_with("http://") || target.starts_with("https://");
    if via_proxy {
        let after_scheme = target.split_once("://").map_or("", |(_, rest)| rest);
        target = after_scheme
            .find('/')
            .map_or("/".to_string(), |at| after_scheme[at..].to_string());
    }
    let mut headers = BTreeMap::new();
    for line in lines {
        if let Some((name, value)) = line.split_once(':') {
            headers.insert(name.trim().to_ascii_lowercase(), value.trim().to_string());
        }
    }
    let length: usize = headers
        .get("content-length")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    if length > MAX_BODY_BYTES {
        return Err(invalid("request body too large"));
    }
    let body_start = head_end + 4;
    while buffer.len() < body_start + length {
        let mut chunk = [0u8; 8192];
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(invalid("connection closed mid-body"));
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    let body = buffer[body_start..body_start + length].to_vec();
    buffer.drain(..body_start + length);
    let (path, query) = match target.split_once('?') {
        Some((p, q)) => (p.to_string(), q.to_string()),
        None => (target, String::new()),
    };
    Ok(Some(Request {
        method,
        via_proxy,
        path,
        query,
        headers,
        body,
    }))
}

pub struct Response {
    pub status: u16,
    pub content_type: &'static str,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Response {
    pub fn json(status: u16, value: &serde_json::Value) -> Self {
        Self {
            status,
            content_type: "application/json",
            headers: Vec::new(),
            body: value.to_string().into_bytes(),
        }
    }

    pub fn raw(status: u16, content_type: &'static str, body: impl Into<Vec<u8>>) -> Self {
        Self {
            status,
            content_type,
            headers: Vec::new(),
            body: body.into(),
        }
    }

    pub fn with_header(mut self, name: &str, value: String) -> Self {
        self.headers.push((name.to_string(), value));
        self
    }

    pub fn head(&self, content_length: Option<usize>, close: bool) -> Vec<u8> {
        let mut head = format!(
            "HTTP/1.1 {} {}\r\nContent-Type: {}\r\nConnection: {}\r\n",
            self.status,
            reason(self.status),
            self.content_type,
            if close { "close" } else { "keep-alive" }
        );
        match content_length {
            Some(len) => head.push_str(&format!("Content-Length: {len}\r\n")),
            None => head.push_str("Transfer-Encoding: chunked\r\n"),
        }
        for (name, value) in &self.headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str("\r\n");
        head.into_bytes()
    }

    pub async fn write(&self, stream: &mut Conn, close: bool) -> std::io::Result<()> {
        let mut bytes = self.head(Some(self.body.len()), close);
        bytes.extend_from_slice(&self.body);
        stream.write_all(&bytes).await?;
        stream.flush().await
    }

    /// Sends the head and then the body one byte at a time, `gap` apart.
    pub async fn trickle(&self, stream: &mut Conn, gap: Duration) -> std::io::Result<()> {
        stream
            .write_all(&self.head(Some(self.body.len()), true))
            .await?;
        for byte in &self.body {
            stream.write_all(&[*byte]).await?;
            stream.flush().await?;
            tokio::time::sleep(gap).await;
        }
        Ok(())
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "Status",
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn invalid(message: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message.to_string())
}
