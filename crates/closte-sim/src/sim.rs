//! The simulated Closte app: aliases in memory, Closte's answers, injected faults, and a record
//! of every request that reached it (with the key reduced to valid/invalid/missing).

use std::collections::{BTreeMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use serde_json::{json, Value};

use crate::certs::{self, Authority, Leaf};
use crate::http::{Request, Response};

/// The candidate SSL paths (the stock integration's order); one of them is "real".
pub const SSL_CANDIDATES: [&str; 4] = [
    "/ssl/install",
    "/installssl",
    "/ssl",
    "/certificate/install",
];
const MAX_RECORDED: usize = 200_000;
/// Names whose handshakes and SSL requests are counted; a flood of random SNI names stops
/// adding rows here (their handshakes still get the default certificate).
const MAX_COUNTED_NAMES: usize = 10_000;

#[derive(Debug, Clone, Deserialize)]
#[serde(default)]
pub struct Config {
    pub api_keys: Vec<String>,
    pub latency_ms: u64,
    /// The SSL path that exists, or "none".
    pub ssl_endpoint: String,
    pub ssl_issue_delay_ms: u64,
    pub already_exists_message: String,
    pub not_found_message: String,
    pub auth_error_message: String,
    pub auth_status: u16,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            api_keys: vec!["sim-key".to_string()],
            latency_ms: 0,
            ssl_endpoint: "/ssl/install".to_string(),
            ssl_issue_delay_ms: 2000,
            already_exists_message: "Domain alias already exists".to_string(),
            not_found_message: "Domain alias not found".to_string(),
            auth_error_message: "Invalid API Key".to_string(),
            auth_status: 200,
        }
    }
}

/// The simulator's own rule for a domain field, written apart from the client's `DomainName`:
/// lower-case ASCII letters, digits and hyphens in labels of 1..=63 characters that neither
/// start nor end with a hyphen, at least two labels, at most 253 characters, an optional
/// leading `*.`, no trailing dot, a top-level label that is not all digits.
pub fn wire_form(raw: &str) -> bool {
    let host = raw.strip_prefix("*.").unwrap_or(raw);
    let labels: Vec<&str> = host.split('.').collect();
    raw.len() <= 253
        && labels.len() >= 2
        && labels.iter().all(|label| {
            (1..=63).contains(&label.len())
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
        && !labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
}

/// An IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`) `secs` seconds from now.
pub fn http_date_in(secs: u64) -> String {
    let at = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        + secs;
    let (days, rest) = ((at / 86_400) as i64, at % 86_400);
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let weekday = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][days.rem_euclid(7) as usize];
    let months = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    format!(
        "{weekday}, {day:02} {} {year} {:02}:{:02}:{:02} GMT",
        months[(month - 1) as usize],
        rest / 3600,
        rest % 3600 / 60,
        rest % 60
    )
}

/// How a fault corrupts an answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// Answer with `status` (and `Retry-After` if set), a JSON error body.
    Status,
    /// Never answer.
    Hang,
    /// Send part of the body, then reset the connection.
    Reset,
    /// HTTP 200 with truncated JSON.
    Malformed,
    /// An HTML error page with `status` (default 502).
    Html,
    /// HTTP 200 with an empty body.
    Empty,
    /// HTTP 200 with a body of `size` bytes (default 8 MiB), chunked, no Content-Length.
    Oversized,
    /// HTTP 200 with a legal JSON answer of about `size` bytes (default 4 MiB - 1 KiB) made of
    /// tiny objects: under the body cap, huge once converted to PHP arrays.
    Many,
    /// The real answer followed by spaces up to exactly `size` bytes (default 4 MiB, the
    /// client's body cap): with a Content-Length, or chunked without one when `chunked` is set.
    /// Still legal JSON, so it tests the size check alone.
    Padded,
    /// A valid answer, one byte every `delay_ms`.
    Trickle,
    /// Close the connection without answering.
    Close,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Fault {
    pub kind: FaultKind,
    #[serde(default)]
    pub status: Option<u16>,
    /// How many requests it hits; absent: until cleared.
    #[serde(default)]
    pub count: Option<u32>,
    /// Only requests to this path (without the /api/client prefix).
    #[serde(default)]
    pub path: Option<String>,
    #[serde(default)]
    pub retry_after: Option<u64>,
    /// `Retry-After` as this literal text (e.g. a number past 64 bits).
    #[serde(default)]
    pub retry_after_raw: Option<String>,
    /// `Retry-After` as an HTTP-date this many seconds from now.
    #[serde(default)]
    pub retry_after_date: Option<u64>,
    #[serde(default)]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub size: Option<usize>,
    /// Carry out the operation before corrupting the answer ("Closte did it, the answer was lost").
    #[serde(default)]
    pub apply: bool,
    /// `padded`: send the body chunked, without a Content-Length.
    #[serde(default)]
    pub chunked: bool,
    /// `status`: the error text of the JSON body (default `Injected HTTP <status>`), e.g. a
    /// not-found wording with status 200.
    #[serde(default)]
    pub error: Option<String>,
}

impl Fault {
    /// `kind[:status][,key=value...]`, e.g. `status:503,count=2,path=/adddomainalias`.
    pub fn parse_spec(spec: &str) -> Result<Fault, String> {
        let mut parts = spec.split(',');
        let head = parts.next().unwrap_or_default();
        let (kind, status) = match head.split_once(':') {
            Some((k, s)) => (
                k,
                Some(
                    s.parse::<u16>()
                        .map_err(|_| format!("bad status in {spec}"))?,
                ),
            ),
            None => (head, None),
        };
        let kind: FaultKind = serde_json::from_value(json!(kind))
            .map_err(|_| format!("unknown fault kind \"{kind}\""))?;
        let mut fault = Fault {
            kind,
            status,
            count: None,
            path: None,
            retry_after: None,
            retry_after_raw: None,
            retry_after_date: None,
            delay_ms: None,
            size: None,
            apply: false,
            chunked: false,
            error: None,
        };
        for part in parts {
            let (key, value) = part
                .split_once('=')
                .ok_or(format!("bad fault option {part}"))?;
            let number = || {
                value
                    .parse::<u64>()
                    .map_err(|_| format!("bad number in {part}"))
            };
            match key {
                "count" => fault.count = Some(number()? as u32),
                "path" => fault.path = Some(value.to_string()),
                "retry_after" => fault.retry_after = Some(number()?),
                "delay_ms" => fault.delay_ms = Some(number()?),
                "size" => fault.size = Some(number()? as usize),
                "apply" => fault.apply = value == "1" || value == "true",
                "chunked" => fault.chunked = value == "1" || value == "true",
                _ => return Err(format!("unknown fault option {key}")),
            }
        }
        Ok(fault)
    }

    fn matches(&self, path: &str) -> bool {
        self.count != Some(0) && self.path.as_deref().is_none_or(|p| p == path)
    }
}

struct Alias {
    wildcard: bool,
    ssl_requested: Option<Instant>,
    added: Instant,
    /// The certificate Closte issued, made once the issue delay has passed; removing the alias
    /// drops it, so the front door serves the default certificate for the name again.
    issued: Option<Arc<Leaf>>,
}

impl Alias {
    fn new(wildcard: bool) -> Self {
        Self {
            wildcard,
            ssl_requested: None,
            added: Instant::now(),
            issued: None,
        }
    }
}

/// Per SNI name: ClientHellos the front door saw, SSL requests the API received.
#[derive(Default)]
struct Counts {
    handshakes: u64,
    requested: u64,
}

/// The TLS front door's state: the CAs, the default certificate, what tests installed, counts.
pub struct Certificates {
    authority: Authority,
    default: Arc<Leaf>,
    installed: BTreeMap<String, Arc<Leaf>>,
    counts: BTreeMap<String, Counts>,
    default_handshakes: u64,
}

impl Certificates {
    pub fn new(authority: Authority) -> Result<Self, String> {
        let default = Arc::new(authority.default_leaf()?);
        Ok(Self {
            authority,
            default,
            installed: BTreeMap::new(),
            counts: BTreeMap::new(),
            default_handshakes: 0,
        })
    }

    pub fn ca_pem(&self) -> &str {
        self.authority.root_pem()
    }

    fn count(&mut self, name: &str) -> Option<&mut Counts> {
        if self.counts.len() >= MAX_COUNTED_NAMES && !self.counts.contains_key(name) {
            return None;
        }
        Some(self.counts.entry(name.to_string()).or_default())
    }
}

pub struct Sim {
    pub config: Config,
    aliases: BTreeMap<String, Alias>,
    faults: VecDeque<Fault>,
    requests: Vec<Value>,
    requests_total: u64,
    pub connections: u64,
    started: Instant,
    certificates: Certificates,
    /// Where the TLS front door listens (reported by `/__sim/state`).
    pub front_door: Option<SocketAddr>,
}

/// What the connection handler must do with a request.
pub enum Action {
    Respond(Response),
    Fault(Fault, Response),
}

impl Sim {
    pub fn new(config: Config, faults: Vec<Fault>, certificates: Certificates) -> Self {
        Self {
            config,
            aliases: BTreeMap::new(),
            faults: faults.into(),
            requests: Vec::new(),
            requests_total: 0,
            connections: 0,
            started: Instant::now(),
            certificates,
            front_door: None,
        }
    }

    /// The certificate Closte has issued for alias `name` by now, issuing it on first use: due
    /// `ssl_issue_delay_ms` after the SSL request, or after the add when there is no SSL
    /// endpoint (Closte issues by itself). `/ssl/status` says `active` exactly when this is Some.
    fn issued(&mut self, name: &str) -> Option<Arc<Leaf>> {
        let delay = Duration::from_millis(self.config.ssl_issue_delay_ms);
        let issues_by_itself = self.config.ssl_endpoint == "none";
        let alias = self.aliases.get_mut(name)?;
        let since = alias
            .ssl_requested
            .or(issues_by_itself.then_some(alias.added))?;
        if since.elapsed() < delay {
            return None;
        }
        if alias.issued.is_none() {
            alias.issued = self.certificates.authority.issue(name).ok().map(Arc::new);
        }
        alias.issued.clone()
    }

    /// What the front door serves for `name`: a certificate a test installed, else the one
    /// issued for the alias (or for the wildcard alias one label up), else none (the default).
    fn served(&mut self, name: &str) -> Option<Arc<Leaf>> {
        if let Some(leaf) = self.certificates.installed.get(name) {
            return Some(leaf.clone());
        }
        self.issued(name).or_else(|| {
            let parent = name.split_once('.')?.1;
            self.issued(&format!("*.{parent}"))
        })
    }

    /// The certificate for a ClientHello with this SNI (none: the default), counted.
    pub fn certificate_for_sni(&mut self, sni: Option<&str>) -> Arc<Leaf> {
        let name = sni.map(|s| s.trim_end_matches('.').to_ascii_lowercase());
        let leaf = name.as_deref().and_then(|n| self.served(n));
        if let Some(counts) = name.as_deref().and_then(|n| self.certificates.count(n)) {
            counts.handshakes += 1;
        }
        leaf.unwrap_or_else(|| {
            self.certificates.default_handshakes += 1;
            self.certificates.default.clone()
        })
    }

    /// Handles one Closte API request (paths with or without the `/api/client` prefix).
    pub fn handle_api(&mut self, request: &Request, connection: u64) -> Action {
        let path = request
            .path
            .strip_prefix("/api/client")
            .unwrap_or(&request.path)
            .to_string();
        let mut fields = request.fields();
        let key = fields.remove("apikey");
        let key_state = match &key {
            None => "missing",
            Some(k) if self.config.api_keys.iter().any(|valid| valid == k) => "valid",
            Some(_) => "invalid",
        };
        let fault = self.take_fault(&path);
        self.requests_total += 1;
        if self.requests.len() < MAX_RECORDED {
            self.requests.push(json!({
                "seq": self.requests_total,
                "method": request.method,
                "path": path,
                "fields": fields,
                "key": key_state,
                "connection": connection,
                "user_agent": request.header("user-agent"),
                "via_proxy": request.via_proxy,
                "at_ms": self.started.elapsed().as_secs_f64() * 1000.0,
                "fault": fault.as_ref().map(|f| format!("{:?}", f.kind).to_lowercase()),
            }));
        }
        let answer = |sim: &mut Sim| {
            if key_state == "valid" {
                sim.answer(&request.method, &path, &fields)
            } else {
                Response::json(
                    sim.config.auth_status,
                    &json!({"success": false, "error": sim.config.auth_error_message}),
                )
            }
        };
        match fault {
            None => Action::Respond(answer(self)),
            Some(fault) => {
                // A trickle or padding is a slow or large but real answer; other faults only
                // carry out the operation when asked to (`apply`).
                let real = if fault.apply
                    || matches!(fault.kind, FaultKind::Trickle | FaultKind::Padded)
                {
                    answer(self)
                } else {
                    Response::json(200, &json!({"success": true}))
                };
                Action::Fault(fault, real)
            }
        }
    }

    fn take_fault(&mut self, path: &str) -> Option<Fault> {
        let index = self.faults.iter().position(|f| f.matches(path))?;
        let fault = &mut self.faults[index];
        if let Some(count) = fault.count.as_mut() {
            *count -= 1;
        }
        let taken = fault.clone();
        if fault.count == Some(0) {
            self.faults.remove(index);
        }
        Some(taken)
    }

    fn answer(&mut self, method: &str, path: &str, fields: &BTreeMap<String, String>) -> Response {
        let domain_field = fields.get("domain").map(String::as_str).unwrap_or("");
        match path {
            "/adddomainalias" => {
                let Some(name) = self.valid_domain(domain_field) else {
                    return invalid_domain(domain_field);
                };
                if self.aliases.contains_key(&name) {
                    return refusal(&self.config.already_exists_message);
                }
                let wildcard = fields.get("wildcard").is_some_and(|w| w == "1" || w == "true");
                self.aliases.insert(name.clone(), Alias::new(wildcard));
                Response::json(200, &json!({"success": true, "message": format!("Domain alias {name} added")}))
            }
            "/deletedomainalias" => {
                let Some(name) = self.valid_domain(domain_field) else {
                    return invalid_domain(domain_field);
                };
                if self.aliases.remove(&name).is_none() {
                    return refusal(&self.config.not_found_message);
                }
                Response::json(200, &json!({"success": true, "message": format!("Domain alias {name} deleted")}))
            }
            "/getdomains" => Response::json(
                200,
                &json!({"success": true, "domains": self.aliases.keys().collect::<Vec<_>>()}),
            ),
            "/gettaskstatus" => Response::json(
                200,
                &json!({"success": true, "task": {"id": fields.get("id"), "status": "completed"}}),
            ),
            "/ssl/status" if self.config.ssl_endpoint != "none" => {
                let Some(name) = self.valid_domain(domain_field) else {
                    return invalid_domain(domain_field);
                };
                let Some(alias) = self.aliases.get(&name) else {
                    return refusal(&format!("Domain {name} is not an alias of this app"));
                };
                let (requested, wildcard) = (alias.ssl_requested.is_some(), alias.wildcard);
                let status = match (requested, self.issued(&name).is_some()) {
                    (false, _) => "none",
                    (true, false) => "pending",
                    (true, true) => "active",
                };
                Response::json(200, &json!({"success": true, "domain": name, "status": status, "issuer": "Let's Encrypt", "wildcard": wildcard}))
            }
            p if p == self.config.ssl_endpoint && method == "POST" => {
                let Some(name) = self.valid_domain(domain_field) else {
                    return invalid_domain(domain_field);
                };
                if let Some(counts) = self.certificates.count(&name) {
                    counts.requested += 1;
                }
                match self.aliases.get_mut(&name) {
                    None => refusal(&format!("Domain {name} is not an alias of this app")),
                    Some(alias) => {
                        alias.ssl_requested.get_or_insert_with(Instant::now);
                        Response::json(200, &json!({"success": true, "message": "SSL certificate requested", "type": fields.get("type")}))
                    }
                }
            }
            _ => Response::raw(
                404,
                "text/html",
                "<!DOCTYPE html><html><head><title>404</title></head><body><h1>Not Found</h1></body></html>",
            ),
        }
    }

    /// Closte's own check is unknown; this one accepts only a host name in the normal form the
    /// client must send (see `wire_form`), so a normalisation bug in the client shows up here
    /// as Closte's "Invalid or empty domain" instead of being repaired silently.
    fn valid_domain(&self, raw: &str) -> Option<String> {
        wire_form(raw).then(|| raw.to_string())
    }

    /// Control endpoints under `/__sim/`: never faulted, never delayed.
    pub fn handle_control(&mut self, request: &Request) -> Response {
        let path = request.path.trim_start_matches("/__sim");
        let body: Value = serde_json::from_slice(&request.body).unwrap_or(Value::Null);
        match (request.method.as_str(), path) {
            ("GET", "/state") => Response::json(200, &self.state()),
            ("GET", "/requests") => Response::json(200, &json!({"requests": self.requests})),
            ("POST", "/reset") => {
                self.aliases.clear();
                self.faults.clear();
                self.requests.clear();
                self.requests_total = 0;
                self.certificates.installed.clear();
                self.certificates.counts.clear();
                self.certificates.default_handshakes = 0;
                Response::json(200, &json!({"ok": true}))
            }
            ("POST", "/faults/clear") => {
                self.faults.clear();
                Response::json(200, &json!({"ok": true}))
            }
            ("POST", "/fault") => match serde_json::from_value::<Fault>(body) {
                Ok(fault) => {
                    self.faults.push_back(fault);
                    Response::json(200, &json!({"ok": true, "faults": self.faults.len()}))
                }
                Err(e) => Response::json(400, &json!({"ok": false, "error": e.to_string()})),
            },
            ("POST", "/config") => {
                let mut merged = serde_json::to_value(ConfigView(&self.config)).unwrap_or_default();
                if let (Some(target), Some(patch)) = (merged.as_object_mut(), body.as_object()) {
                    for (k, v) in patch {
                        target.insert(k.clone(), v.clone());
                    }
                }
                match serde_json::from_value::<Config>(merged) {
                    Ok(config) => {
                        self.config = config;
                        Response::json(200, &json!({"ok": true}))
                    }
                    Err(e) => Response::json(400, &json!({"ok": false, "error": e.to_string()})),
                }
            }
            ("POST", "/domains") => {
                let names = body
                    .get("domains")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                for name in names.iter().filter_map(Value::as_str) {
                    self.aliases.insert(
                        name.to_ascii_lowercase(),
                        Alias::new(name.starts_with("*.")),
                    );
                }
                Response::json(200, &json!({"ok": true, "count": self.aliases.len()}))
            }
            ("GET", "/ca.pem") => Response::raw(
                200,
                "application/x-pem-file",
                self.certificates.ca_pem().to_string(),
            ),
            ("GET", "/certificates") => Response::json(200, &self.certificates_view()),
            ("POST", "/certificates") => match self.install_certificate(&body) {
                Ok(facts) => Response::json(200, &json!({"ok": true, "certificate": facts})),
                Err(e) => Response::json(400, &json!({"ok": false, "error": e})),
            },
            _ => Response::json(
                404,
                &json!({"ok": false, "error": "unknown control endpoint"}),
            ),
        }
    }

    /// `POST /__sim/certificates`: `{"name", "kind", "days_left"?, "names"?}` or
    /// `{"name", "cert_pem", "key_pem"}`; the certificate served for that SNI name from now on.
    fn install_certificate(&mut self, body: &Value) -> Result<Value, String> {
        let name = body
            .get("name")
            .and_then(Value::as_str)
            .ok_or("\"name\" (a host name) is required")?;
        if !wire_form(name) || name.starts_with("*.") {
            return Err(format!(
                "name \"{name}\": a lower-case host name as a client sends it in SNI"
            ));
        }
        let text = |field: &str| body.get(field).and_then(Value::as_str);
        let leaf = match (text("cert_pem"), text("key_pem")) {
            (Some(cert), Some(key)) => Leaf::from_pem(cert, key)?,
            (None, None) => {
                let kind =
                    text("kind").ok_or("\"kind\" or \"cert_pem\" + \"key_pem\" is required")?;
                let days_left = match body.get("days_left") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(v.as_i64().ok_or("days_left: an integer")?),
                };
                let names = match body.get("names") {
                    None | Some(Value::Null) => None,
                    Some(v) => Some(
                        v.as_array()
                            .and_then(|list| {
                                list.iter()
                                    .map(|n| n.as_str().map(str::to_string))
                                    .collect::<Option<Vec<_>>>()
                            })
                            .ok_or("names: a list of strings")?,
                    ),
                };
                let request = certs::Request {
                    kind: kind.to_string(),
                    days_left,
                    names,
                };
                self.certificates.authority.make(name, &request)?
            }
            _ => return Err("cert_pem and key_pem go together".into()),
        };
        let facts = leaf.facts();
        self.certificates
            .installed
            .insert(name.to_string(), Arc::new(leaf));
        Ok(facts)
    }

    /// `GET /__sim/certificates`: per name (installed, issued, or seen in a handshake or an SSL
    /// request) what the front door serves for it now (`source`: installed, issued or default),
    /// and the counts; plus the default certificate with the handshakes it answered.
    fn certificates_view(&mut self) -> Value {
        let mut names: Vec<String> = self.certificates.installed.keys().cloned().collect();
        names.extend(self.aliases.keys().cloned());
        names.extend(self.certificates.counts.keys().cloned());
        names.sort();
        names.dedup();
        let mut rows = serde_json::Map::new();
        for name in names {
            let leaf = self.served(&name);
            let counts = self.certificates.counts.get(&name);
            let (handshakes, requested) = counts.map_or((0, 0), |c| (c.handshakes, c.requested));
            if leaf.is_none() && counts.is_none() {
                continue;
            }
            let leaf = leaf.unwrap_or_else(|| self.certificates.default.clone());
            let mut row = leaf.facts();
            row["handshakes"] = json!(handshakes);
            row["requested"] = json!(requested);
            rows.insert(name, row);
        }
        let mut default = self.certificates.default.facts();
        default["handshakes"] = json!(self.certificates.default_handshakes);
        json!({"certificates": rows, "default": default})
    }

    fn state(&self) -> Value {
        let domains: Vec<Value> = self
            .aliases
            .iter()
            .map(|(name, alias)| {
                json!({"domain": name, "wildcard": alias.wildcard, "ssl_requested": alias.ssl_requested.is_some()})
            })
            .collect();
        json!({
            "domains": domains,
            "requests_total": self.requests_total,
            "connections": self.connections,
            "pending_faults": self.faults.len(),
            "ssl_endpoint": self.config.ssl_endpoint,
            "latency_ms": self.config.latency_ms,
            "front_door": self.front_door.map(|a| a.to_string()),
            "front_door_port": self.front_door.map(|a| a.port()),
        })
    }
}

/// Config as JSON without the keys (the control API never echoes them).
struct ConfigView<'a>(&'a Config);

impl serde::Serialize for ConfigView<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let c = self.0;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("api_keys", &c.api_keys)?;
        map.serialize_entry("latency_ms", &c.latency_ms)?;
        map.serialize_entry("ssl_endpoint", &c.ssl_endpoint)?;
        map.serialize_entry("ssl_issue_delay_ms", &c.ssl_issue_delay_ms)?;
        map.serialize_entry("already_exists_message", &c.already_exists_message)?;
        map.serialize_entry("not_found_message", &c.not_found_message)?;
        map.serialize_entry("auth_error_message", &c.auth_error_message)?;
        map.serialize_entry("auth_status", &c.auth_status)?;
        map.end()
    }
}

fn refusal(message: &str) -> Response {
    Response::json(200, &json!({"success": false, "error": message}))
}

/// Closte's exact wording, with the domain echoed after the colon.
fn invalid_domain(domain: &str) -> Response {
    refusal(&format!("Invalid or empty domain: {domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wire_form_is_lower_case_punycode_without_a_trailing_dot() {
        for good in [
            "example.com",
            "*.shop.example.com",
            "xn--bcher-kva.example",
            "a-b.c0.io",
        ] {
            assert!(wire_form(good), "{good}");
        }
        for bad in [
            "Example.com",
            "bücher.example",
            "example.com.",
            "localhost",
            "-a.example",
            "a_b.example",
            "example.123",
            "",
            "*.",
        ] {
            assert!(!wire_form(bad), "{bad}");
        }
    }

    #[test]
    fn fault_specs_parse() {
        let f = Fault::parse_spec("status:429,count=2,retry_after=1,path=/adddomainalias").unwrap();
        assert_eq!(f.kind, FaultKind::Status);
        assert_eq!(f.status, Some(429));
        assert_eq!(f.count, Some(2));
        assert_eq!(f.retry_after, Some(1));
        assert_eq!(f.path.as_deref(), Some("/adddomainalias"));
        assert!(Fault::parse_spec("bogus").is_err());
        assert!(Fault::parse_spec("hang,nope=1").is_err());
    }
}
