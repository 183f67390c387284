//! Process-wide counters, shown by `closte_stats()`. Lock-free; never holds a secret.

use std::sync::atomic::{AtomicU64, Ordering};

use crate::error_kind::ErrorKind;

pub struct Counters {
    operations: AtomicU64,
    requests: AtomicU64,
    successes: AtomicU64,
    retries: AtomicU64,
    connections: AtomicU64,
    tls_handshakes: AtomicU64,
    failures: [AtomicU64; ErrorKind::ALL.len()],
}

#[allow(clippy::declare_interior_mutable_const)]
const ZERO: AtomicU64 = AtomicU64::new(0);

pub static COUNTERS: Counters = Counters::new();

impl Counters {
    /// All zero. The process has one set, [`COUNTERS`]; tests build their own. No `Default`:
    /// nothing needs one, and the static needs a `const fn`.
    #[allow(clippy::new_without_default)]
    pub const fn new() -> Self {
        Counters {
            operations: ZERO,
            requests: ZERO,
            successes: ZERO,
            retries: ZERO,
            connections: ZERO,
            tls_handshakes: ZERO,
            failures: [ZERO; ErrorKind::ALL.len()],
        }
    }

    pub fn operation(&self) {
        self.operations.fetch_add(1, Ordering::Relaxed);
    }

    /// One HTTP attempt and how it ended (`None`: a usable answer).
    pub fn request(&self, failure: Option<ErrorKind>) {
        self.requests.fetch_add(1, Ordering::Relaxed);
        match failure {
            None => self.successes.fetch_add(1, Ordering::Relaxed),
            Some(kind) => self.failures[kind.index()].fetch_add(1, Ordering::Relaxed),
        };
    }

    pub fn retry(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    /// A connection the pool opened (TCP, plus TLS for https).
    pub fn connection(&self) {
        self.connections.fetch_add(1, Ordering::Relaxed);
    }

    /// A full TLS handshake (certificate verified).
    pub fn tls_handshake(&self) {
        self.tls_handshakes.fetch_add(1, Ordering::Relaxed);
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            operations: self.operations.load(Ordering::Relaxed),
            requests: self.requests.load(Ordering::Relaxed),
            successes: self.successes.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            connections: self.connections.load(Ordering::Relaxed),
            tls_handshakes: self.tls_handshakes.load(Ordering::Relaxed),
            failures: ErrorKind::ALL
                .iter()
                .map(|k| (*k, self.failures[k.index()].load(Ordering::Relaxed)))
                .collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    pub operations: u64,
    pub requests: u64,
    pub successes: u64,
    pub retries: u64,
    pub connections: u64,
    pub tls_handshakes: u64,
    pub failures: Vec<(ErrorKind, u64)>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_event_raises_its_own_counter_and_no_other() {
        let counters = Counters::new();
        counters.operation();
        counters.request(None);
        counters.request(None);
        counters.request(Some(ErrorKind::Timeout));
        counters.retry();
        counters.retry();
        counters.retry();
        counters.connection();
        counters.tls_handshake();
        counters.tls_handshake();
        counters.tls_handshake();
        counters.tls_handshake();
        let snapshot = counters.snapshot();
        assert_eq!(snapshot.operations, 1);
        assert_eq!(snapshot.requests, 3, "every attempt, whatever its end");
        assert_eq!(snapshot.successes, 2);
        assert_eq!(snapshot.retries, 3);
        assert_eq!(snapshot.connections, 1);
        assert_eq!(snapshot.tls_handshakes, 4);
        for (kind, count) in snapshot.failures {
            let expected = u64::from(kind == ErrorKind::Timeout);
            assert_eq!(count, expected, "{kind}");
        }
    }

    #[test]
    fn a_snapshot_lists_every_error_kind_in_order() {
        let kinds: Vec<ErrorKind> = Counters::new()
            .snapshot()
            .failures
            .into_iter()
            .map(|(kind, _)| kind)
            .collect();
        assert_eq!(kinds, ErrorKind::ALL);
    }
}
