//! The one accessor for the tokio runtime and the shared reqwest client.
//!
//! Rules (docs/architecture.md, "Runtime and fork rules"):
//! - Nothing is built at module start-up (MINIT): loading the extension starts no thread. The
//!   runtime and the HTTP client are built on the first call that needs them.
//! - The process id that built them is remembered. A forked child (php-fpm worker forked from a
//!   master that made a call, `pcntl_fork`) sees another pid: the inherited runtime's threads do
//!   not exist in the child, and dropping it would wait for them forever, so it is leaked with
//!   `mem::forget` and a fresh one is built. The same holds for the client's pooled connections.
//! - The HTTP client is rebuilt when a setting it was built from changes (user agent, connect
//!   timeout, CA file); per-request settings (timeout, retries, URL) never need a rebuild.
//! - One keep-alive pool per process: every call in a worker reuses the same client.

use std::fmt;
use std::future::Future;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use tokio::runtime::{Handle, Runtime};

use crate::config::Settings;
use crate::fork::ProcessLocks;

/// What could not be started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartError {
    /// The tokio runtime could not be created (threads, file descriptors).
    Runtime(String),
    /// The HTTP client could not be built from the settings (usually `closte.ca_file`).
    Client(String),
}

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StartError::Runtime(e) => write!(f, "cannot start the Closte runtime: {e}"),
            StartError::Client(e) => write!(f, "cannot build the HTTP client: {e}"),
        }
    }
}

impl std::error::Error for StartError {}

/// The settings a reqwest client is built from.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientKey {
    user_agent: String,
    connect_timeout: Duration,
    ca_file: Option<PathBuf>,
    proxy: Option<String>,
}

impl ClientKey {
    fn of(settings: &Settings) -> Self {
        Self {
            user_agent: settings.user_agent.clone(),
            connect_timeout: settings.connect_timeout,
            ca_file: settings.ca_file.clone(),
            proxy: settings.proxy.clone(),
        }
    }
}

struct Engine {
    pid: u32,
    runtime: Runtime,
    worker_threads: usize,
    client: Option<(ClientKey, reqwest::Client)>,
    clients_built: u64,
}

static ENGINE: Mutex<Option<Engine>> = Mutex::new(None);

/// Runtime state for `closte_stats()`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuntimeState {
    pub started: bool,
    /// The pid that built the runtime (0 when not started).
    pub pid: u32,
    pub worker_threads: usize,
    /// Whether the runtime belongs to this process (false right after a fork, until the next call).
    pub owned_by_this_process: bool,
    pub clients_built: u64,
}

pub fn state() -> RuntimeState {
    let guard = ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    match guard.as_ref() {
        None => RuntimeState {
            started: false,
            pid: 0,
            worker_threads: 0,
            owned_by_this_process: false,
            clients_built: 0,
        },
        Some(engine) => RuntimeState {
            started: true,
            pid: engine.pid,
            worker_threads: engine.worker_threads,
            owned_by_this_process: engine.pid == std::process::id(),
            clients_built: engine.clients_built,
        },
    }
}

/// The runtime of this process, if one was started (never builds one). `None` in a forked
/// child until its first call.
pub fn existing_handle() -> Option<Handle> {
    let guard = ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    guard
        .as_ref()
        .filter(|engine| engine.pid == std::process::id())
        .map(|engine| engine.runtime.handle().clone())
}

/// Process end (MSHUTDOWN): lets the runtime's threads go without waiting for them. An
/// inherited runtime is forgotten, as everywhere else.
pub fn shutdown() {
    let mut guard = ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(engine) = guard.take() {
        if engine.pid == std::process::id() {
            engine.runtime.shutdown_background();
        } else {
            std::mem::forget(engine);
        }
    }
}

/// Runs `make(client)` to completion on the runtime, from a thread outside it (the PHP thread).
pub fn block_on<F, Fut>(settings: &Settings, make: F) -> Result<Fut::Output, StartError>
where
    F: FnOnce(reqwest::Client) -> Fut,
    Fut: Future,
{
    let (handle, client) = acquire(settings)?;
    Ok(handle.block_on(make(client)))
}

/// fork(2) support (see `crate::fork`): the engine's lock, taken before a fork.
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(ENGINE.lock().unwrap_or_else(|p| p.into_inner()))
}

/// Every process-wide lock of this crate, which the fork handlers take before each fork: job
/// table, SSL cache, runtime accessor. No code path holds one of them while taking another, so
/// this order cannot deadlock with a runtime thread. Listed here, where the threads that could
/// hold them are started, so that `crate::fork` depends on nothing in the crate.
struct EveryLock;

impl ProcessLocks for EveryLock {
    fn hold() -> Vec<Box<dyn std::any::Any>> {
        vec![
            crate::jobs::hold_for_fork(),
            crate::client::ssl_cache::hold_for_fork(),
            hold_for_fork(),
        ]
    }
}

/// The runtime handle and the shared client, building (or rebuilding after fork) as needed.
pub fn acquire(settings: &Settings) -> Result<(Handle, reqwest::Client), StartError> {
    // Before the first thread exists: from now on a fork must not find a lock taken.
    crate::fork::install_handlers::<EveryLock>();
    let mut guard = ENGINE.lock().unwrap_or_else(|p| p.into_inner());
    let pid = std::process::id();
    if guard.as_ref().is_some_and(|engine| engine.pid != pid) {
        // Inherited across fork: its threads are gone; dropping would block forever.
        if let Some(inherited) = guard.take() {
            std::mem::forget(inherited);
        }
    }
    if guard.is_none() {
        *guard = Some(Engine {
            pid,
            runtime: build_runtime(settings.worker_threads)?,
            worker_threads: settings.worker_threads,
            client: None,
            clients_built: 0,
        });
    }
    let engine = guard.as_mut().expect("engine was just ensured");
    let key = ClientKey::of(settings);
    let client = match &engine.client {
        Some((built_for, client)) if *built_for == key => client.clone(),
        _ => {
            let client = build_client(&key)?;
            engine.client = Some((key, client.clone()));
            engine.clients_built += 1;
            client
        }
    };
    Ok((engine.runtime.handle().clone(), client))
}

fn build_runtime(worker_threads: usize) -> Result<Runtime, StartError> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(worker_threads)
        // DNS lookups run on blocking threads; a handful is plenty for one PHP worker.
        .max_blocking_threads(4)
        .thread_name("closte-rt")
        .enable_all()
        .build()
        .map_err(|e| StartError::Runtime(e.to_string()))
}

fn build_client(key: &ClientKey) -> Result<reqwest::Client, StartError> {
    let extra_ca =
        match &key.ca_file {
            None => None,
            Some(path) => Some(std::fs::read(path).map_err(|e| {
                StartError::Client(format!("closte.ca_file {}: {e}", path.display()))
            })?),
        };
    let tls =
        crate::transport::tls_config(extra_ca.as_deref()).map_err(|e| match &key.ca_file {
            Some(path) => StartError::Client(format!("closte.ca_file {}: {e}", path.display())),
            None => StartError::Client(e),
        })?;
    // Environment proxies (HTTP_PROXY, HTTPS_PROXY, ALL_PROXY) are ignored: with an http://
    // api_url a proxy would read `?apikey=` in clear, and the stock integration ignores them
    // too. `closte.proxy` is the one, explicit way.
    let mut builder = reqwest::Client::builder().no_proxy();
    if let Some(url) = &key.proxy {
        let proxy = reqwest::Proxy::all(url.as_str())
            .map_err(|_| StartError::Client("closte.proxy cannot be used".to_string()))?;
        builder = builder.proxy(proxy);
    }
    builder
        .tls_backend_preconfigured(tls)
        .connector_layer(crate::transport::CountConnections)
        .user_agent(key.user_agent.clone())
        .connect_timeout(key.connect_timeout)
        .pool_idle_timeout(Duration::from_secs(90))
        .pool_max_idle_per_host(64)
        .tcp_nodelay(true)
        // A redirect would carry the form body (and the key) to another address: never follow.
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| StartError::Client(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Threads of this process with the runtime's name.
    fn runtime_threads() -> usize {
        std::fs::read_dir(format!("/proc/{}/task", std::process::id()))
            .map(|tasks| {
                tasks
                    .filter_map(Result::ok)
                    .filter(|task| {
                        std::fs::read_to_string(task.path().join("comm"))
                            .is_ok_and(|name| name.trim() == "closte-rt")
                    })
                    .count()
            })
            .unwrap_or(0)
    }

    #[test]
    fn start_errors_say_what_could_not_start() {
        assert_eq!(
            StartError::Runtime("no threads".into()).to_string(),
            "cannot start the Closte runtime: no threads"
        );
        assert_eq!(
            StartError::Client("bad CA".into()).to_string(),
            "cannot build the HTTP client: bad CA"
        );
    }

    // One test drives the process's one engine through its life (tests run in parallel).
    #[cfg(target_os = "linux")]
    #[test]
    fn the_engine_is_built_once_its_client_rebuilt_only_for_its_own_settings_and_shut_down() {
        let mut settings = Settings {
            worker_threads: 2,
            ..Settings::default()
        };
        assert!(!state().started, "nothing is built before the first call");
        assert!(existing_handle().is_none());

        acquire(&settings).unwrap();
        let first = state();
        assert!(first.started && first.owned_by_this_process);
        assert_eq!(first.pid, std::process::id());
        assert_eq!((first.worker_threads, first.clients_built), (2, 1));
        assert!(existing_handle().is_some());
        assert!(runtime_threads() >= 2, "the configured worker threads run");

        acquire(&settings).unwrap();
        settings.timeout = Duration::from_secs(1); // per request: no new client
        settings.max_retries = 0;
        acquire(&settings).unwrap();
        assert_eq!(
            state().clients_built,
            1,
            "same client settings, same client"
        );

        settings.user_agent = "other-agent/1".into();
        acquire(&settings).unwrap();
        assert_eq!(state().clients_built, 2, "a new user agent, a new client");
        assert_eq!(state().pid, first.pid, "the same engine");

        shutdown();
        assert!(!state().started);
        assert!(existing_handle().is_none());
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while runtime_threads() > 0 && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(
            runtime_threads(),
            0,
            "the runtime's threads end at shutdown"
        );
    }
}

// `cfg(test)` on its own line: cargo-mutants skips what it marks, and mutated this module
// under `cfg(all(test, unix))`.
#[cfg(test)]
#[cfg(unix)]
mod fork_tests {
    use super::EveryLock;
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Takes every lock the handlers must cover, as a runtime thread would.
    fn hold_all() -> Vec<Box<dyn std::any::Any>> {
        vec![
            crate::jobs::hold_for_fork(),
            crate::client::ssl_cache::hold_for_fork(),
            super::hold_for_fork(),
        ]
    }

    #[test]
    fn a_child_forked_while_another_thread_holds_the_locks_finds_them_free() {
        crate::fork::install_handlers::<EveryLock>();
        let stop = Arc::new(AtomicBool::new(false));
        let holder = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let guards = hold_all();
                    std::thread::sleep(Duration::from_millis(2));
                    drop(guards);
                    std::thread::yield_now();
                }
            })
        };
        let mut hung = 0;
        for _ in 0..20 {
            if hung > 0 {
                break; // one is proof enough
            }
            // SAFETY: the child only takes and drops this crate's mutexes (which the handlers
            // left free) and leaves with _exit, running nothing else of the test harness.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                drop(hold_all());
                // SAFETY: ends the child at once, without the parent's atexit work.
                unsafe { libc::_exit(0) };
            }
            let deadline = Instant::now() + Duration::from_secs(3);
            let mut status = 0;
            loop {
                // SAFETY: waits for our own child; status is a valid out pointer.
                let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
                if done == pid {
                    break;
                }
                if Instant::now() > deadline {
                    // SAFETY: kills and reaps our own hung child.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                        libc::waitpid(pid, &mut status, 0);
                    }
                    hung += 1;
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        stop.store(true, Ordering::Relaxed);
        holder.join().unwrap();
        assert_eq!(hung, 0, "children that found a lock taken for ever");
    }
}
