//! Test helper: a real `closte-sim` process on a free loopback port, and a tiny blocking HTTP
//! client for its control API (kept separate from the client under test on purpose).

#![allow(dead_code)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

pub const KEY: &str = "test-key-0123456789";

/// The simulator is its own crate (crates/closte-sim), so Cargo does not build it for these
/// tests: `make cargo-test` builds it first. `CLOSTE_SIM` names another binary; by default the
/// one next to this test's profile directory (target/<profile>/closte-sim).
fn simulator_binary() -> std::path::PathBuf {
    if let Some(path) = std::env::var_os("CLOSTE_SIM") {
        return path.into();
    }
    let exe = std::env::current_exe().expect("the test binary's path");
    // target/<profile>/deps/<test> -> target/<profile>/closte-sim
    let path = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|profile| profile.join("closte-sim"))
        .expect("a target directory");
    assert!(
        path.is_file(),
        "{} is missing: build the simulator first (cargo build -p closte-sim), or set CLOSTE_SIM",
        path.display()
    );
    path
}

pub struct Simulator {
    child: Child,
    pub port: u16,
}

impl Simulator {
    pub fn start(extra: &[&str]) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "closte-sim-test-{}-{}",
            std::process::id(),
            rand_u64()
        ));
        std::fs::create_dir_all(&dir).unwrap();
        let port_file = dir.join("port");
        let child = Command::new(simulator_binary())
            .args(["--api-key", KEY, "--port-file"])
            .arg(&port_file)
            .args(["--parent-pid", &std::process::id().to_string()])
            .args(extra)
            .stdout(Stdio::null())
            .spawn()
            .expect("start closte-sim");
        let deadline = Instant::now() + Duration::from_secs(10);
        let port = loop {
            if let Ok(text) = std::fs::read_to_string(&port_file) {
                if let Ok(port) = text.trim().parse() {
                    break port;
                }
            }
            assert!(Instant::now() < deadline, "closte-sim did not start");
            std::thread::sleep(Duration::from_millis(20));
        };
        let _ = std::fs::remove_dir_all(&dir);
        Self { child, port }
    }

    pub fn api_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/client", self.port)
    }

    pub fn get(&self, path: &str) -> Value {
        self.control("GET", path, "")
    }

    pub fn post(&self, path: &str, body: &str) -> Value {
        self.control("POST", path, body)
    }

    fn control(&self, method: &str, path: &str, body: &str) -> Value {
        let mut stream = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        write!(
            stream,
            "{method} /__sim{path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut response = String::new();
        stream.read_to_string(&mut response).unwrap();
        let json = response.split("\r\n\r\n").nth(1).unwrap_or("null");
        serde_json::from_str(json).unwrap()
    }

    /// The API requests the simulator received (control requests excluded).
    pub fn requests(&self) -> Vec<Value> {
        self.get("/requests")["requests"]
            .as_array()
            .unwrap()
            .clone()
    }

    pub fn requests_to(&self, path: &str) -> usize {
        self.requests().iter().filter(|r| r["path"] == path).count()
    }

    pub fn domains(&self) -> Vec<String> {
        self.get("/state")["domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["domain"].as_str().unwrap().to_string())
            .collect()
    }

    pub fn fault(&self, json: &str) {
        assert_eq!(
            self.post("/fault", json)["ok"],
            true,
            "fault {json} accepted"
        );
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn rand_u64() -> u64 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(0u8)
}
