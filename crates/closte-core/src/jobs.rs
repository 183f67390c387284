//! Non-blocking dispatch: operations started on the runtime, collected later by id.
//!
//! Rules:
//! - A job belongs to the process that started it. After a fork the child starts with an empty
//!   table (the parent's tasks run on a runtime the child does not have).
//! - A finished result is handed out once (by `wait`), then forgotten.
//! - At request end the binding layer calls [`Jobs::drain`]: it waits up to the drain deadline,
//!   aborts what is still running and reports both the unfinished jobs and the failures nobody
//!   collected, so they can be logged and re-queued. Nothing is silently lost.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use std::sync::LazyLock;
use tokio::runtime::Handle;
use tokio::sync::{Notify, Semaphore};
use tokio::task::AbortHandle;

use crate::client::outcome::{Operation, Outcome, State};
use crate::error_kind::ErrorKind;

pub type JobId = u64;

/// What a caller learns about one job.
#[derive(Debug, Clone, PartialEq)]
pub enum JobStatus {
    Finished {
        outcome: Outcome,
        site_id: Option<i64>,
    },
    Pending {
        operation: Operation,
        domain: String,
        site_id: Option<i64>,
        elapsed: Duration,
    },
    /// Never existed here, or already collected.
    Unknown,
}

/// A job that did not finish before the drain deadline, or a failure nobody collected.
#[derive(Debug, Clone, PartialEq)]
pub struct Leftover {
    pub id: JobId,
    pub operation: Operation,
    pub domain: String,
    pub site_id: Option<i64>,
    /// `None`: still running when the deadline passed (aborted).
    pub outcome: Option<Outcome>,
}

struct Entry {
    operation: Operation,
    domain: String,
    site_id: Option<i64>,
    started: Instant,
    abort: Option<AbortHandle>,
    outcome: Option<Outcome>,
}

struct Table {
    pid: u32,
    next_id: JobId,
    entries: BTreeMap<JobId, Entry>,
    /// Wakes `wait` when a job finishes. It lives in the table so that a child can replace it:
    /// a runtime thread of the parent may have been inside it (holding its internal lock) at
    /// the instant of the fork.
    changed: Arc<Notify>,
    /// At most this many jobs run at once (`closte.concurrency`); the rest wait their turn
    /// as plain tasks holding no socket, so a burst of enqueues cannot exhaust the process's
    /// file descriptors (which PHP needs for its own files, sessions and database).
    running: Arc<Semaphore>,
    running_limit: usize,
}

pub struct Jobs {
    table: Mutex<Table>,
}

pub static JOBS: LazyLock<Jobs> = LazyLock::new(|| Jobs {
    table: Mutex::new(Table {
        pid: std::process::id(),
        next_id: 1,
        entries: BTreeMap::new(),
        changed: Arc::new(Notify::new()),
        running: Arc::new(Semaphore::new(DEFAULT_RUNNING_LIMIT)),
        running_limit: DEFAULT_RUNNING_LIMIT,
    }),
});

const DEFAULT_RUNNING_LIMIT: usize = crate::config::DEFAULT_CONCURRENCY;

/// fork(2) support (see `crate::fork`): the job table's lock, taken before a fork so that no
/// runtime thread holds it at that instant; the guard is dropped in parent and child after it.
pub(crate) fn hold_for_fork() -> Box<dyn std::any::Any> {
    Box::new(JOBS.table.lock().unwrap_or_else(|p| p.into_inner()))
}

impl Jobs {
    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        let mut table = self.table.lock().unwrap_or_else(|p| p.into_inner());
        let pid = std::process::id();
        if table.pid != pid {
            // Inherited across fork: those tasks live on the parent's runtime. Their abort
            // handles point into memory the child must not touch through the runtime.
            let inherited = std::mem::take(&mut table.entries);
            std::mem::forget(inherited);
            // Leaked, not dropped: its internal lock may be held by a thread that is gone.
            std::mem::forget(std::mem::replace(
                &mut table.changed,
                Arc::new(Notify::new()),
            ));
            // The parent's permits belong to its tasks, which do not run here: a fresh limit.
            let limit = table.running_limit;
            std::mem::forget(std::mem::replace(
                &mut table.running,
                Arc::new(Semaphore::new(limit)),
            ));
            table.pid = pid;
        }
        table
    }

    /// Starts `operation` on the runtime and returns its id at once.
    pub fn submit<F>(
        &'static self,
        handle: &Handle,
        limit: usize,
        operation: Operation,
        domain: String,
        site_id: Option<i64>,
        work: F,
    ) -> JobId
    where
        F: Future<Output = Outcome> + Send + 'static,
    {
        let mut table = self.lock();
        let id = table.next_id;
        table.next_id += 1;
        // The entry exists before the task can finish: `finish` waits for this lock. The work
        // runs in its own task so that a panic in it still ends the job (as a failure).
        let (failed_operation, failed_domain) = (operation, domain.clone());
        let limit = limit.max(1);
        if table.running_limit != limit {
            // A new limit applies to jobs started from now on; running ones keep their permits.
            table.running = Arc::new(Semaphore::new(limit));
            table.running_limit = limit;
        }
        let running = table.running.clone();
        let task = handle.spawn(async move {
            // Closed never: the semaphore lives as long as the table refers to it.
            let _permit = running.acquire_owned().await;
            work.await
        });
        let abort = task.abort_handle();
        handle.spawn(async move {
            let outcome = match task.await {
                Ok(outcome) => outcome,
                Err(error) if error.is_panic() => internal_failure(
                    failed_operation,
                    &failed_domain,
                    panic_text(error.into_panic()),
                ),
                Err(_) => return, // aborted by the drain, which already reported it
            };
            self.finish(id, outcome);
        });
        table.entries.insert(
            id,
            Entry {
                operation,
                domain,
                site_id,
                started: Instant::now(),
                abort: Some(abort),
                outcome: None,
            },
        );
        id
    }

    fn finish(&self, id: JobId, outcome: Outcome) {
        let mut table = self.lock();
        if let Some(entry) = table.entries.get_mut(&id) {
            entry.abort = None;
            entry.outcome = Some(outcome);
        }
        let changed = table.changed.clone();
        drop(table);
        changed.notify_waiters();
    }

    fn notifier(&self) -> Arc<Notify> {
        self.lock().changed.clone()
    }

    /// Jobs started and not yet collected or finished.
    pub fn pending(&self) -> usize {
        self.lock()
            .entries
            .values()
            .filter(|e| e.outcome.is_none())
            .count()
    }

    /// Waits until every job in `ids` (all jobs when `None`) has finished or `timeout` passed.
    /// Finished results are removed from the table as they are returned.
    pub async fn wait(
        &self,
        ids: Option<Vec<JobId>>,
        timeout: Duration,
    ) -> Vec<(JobId, JobStatus)> {
        let deadline = tokio::time::Instant::now() + timeout;
        let ids = match ids {
            Some(ids) => ids,
            None => self.lock().entries.keys().copied().collect(),
        };
        loop {
            // Register for the wake-up before looking, so a finish in between is not missed.
            let changed = self.notifier();
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            let all_done = {
                let table = self.lock();
                ids.iter().all(|id| {
                    table
                        .entries
                        .get(id)
                        .is_none_or(|entry| entry.outcome.is_some())
                })
            };
            if all_done || tokio::time::Instant::now() >= deadline {
                return self.collect(&ids);
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }

    /// The same answer as [`Jobs::wait`] without waiting (and without a runtime).
    pub fn collect_now(&self, ids: Option<Vec<JobId>>) -> Vec<(JobId, JobStatus)> {
        let ids = match ids {
            Some(ids) => ids,
            None => self.lock().entries.keys().copied().collect(),
        };
        self.collect(&ids)
    }

    fn collect(&self, ids: &[JobId]) -> Vec<(JobId, JobStatus)> {
        let mut table = self.lock();
        ids.iter()
            .map(|id| {
                let status = match table.entries.get(id) {
                    None => JobStatus::Unknown,
                    Some(entry) if entry.outcome.is_some() => {
                        let entry = table.entries.remove(id).expect("present");
                        JobStatus::Finished {
                            outcome: entry.outcome.expect("checked"),
                            site_id: entry.site_id,
                        }
                    }
                    Some(entry) => JobStatus::Pending {
                        operation: entry.operation,
                        domain: entry.domain.clone(),
                        site_id: entry.site_id,
                        elapsed: entry.started.elapsed(),
                    },
                };
                (*id, status)
            })
            .collect()
    }

    /// Request end: waits for running jobs until `timeout`, aborts the rest, empties the table.
    /// Returns what was not finished and the failures nobody collected.
    pub fn drain(&self, handle: Option<&Handle>, timeout: Duration) -> Vec<Leftover> {
        if self.lock().entries.is_empty() {
            return Vec::new();
        }
        if let Some(handle) = handle {
            // Returns at once when nothing is pending.
            handle.block_on(self.wait_all_finished(timeout));
        }
        let entries = std::mem::take(&mut self.lock().entries);
        entries
            .into_iter()
            .filter_map(|(id, entry)| {
                if let Some(abort) = &entry.abort {
                    abort.abort();
                }
                let keep = entry.outcome.as_ref().is_none_or(|o| !o.ok());
                keep.then_some(Leftover {
                    id,
                    operation: entry.operation,
                    domain: entry.domain,
                    site_id: entry.site_id,
                    outcome: entry.outcome,
                })
            })
            .collect()
    }

    async fn wait_all_finished(&self, timeout: Duration) {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let changed = self.notifier();
            let notified = changed.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.pending() == 0 || tokio::time::Instant::now() >= deadline {
                return;
            }
            let _ = tokio::time::timeout_at(deadline, notified).await;
        }
    }
}

/// The outcome of a job whose work panicked or was aborted: kind `internal`, retryable
/// (nothing says the work was done).
fn internal_failure(operation: Operation, domain: &str, why: String) -> Outcome {
    let mut outcome = Outcome::new(operation, Some(domain));
    outcome.fail_with(
        State::Failed,
        ErrorKind::Internal,
        format!("internal error in the closte extension: {why}"),
    );
    outcome
}

fn panic_text(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "panic".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::outcome::State;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .unwrap()
    }

    fn done(ok: bool) -> Outcome {
        let mut outcome = Outcome::new(Operation::AddDomain, Some("example.com"));
        if ok {
            outcome.succeed(State::Added, 200, None);
        }
        outcome
    }

    // One test drives the shared table through its whole life, so parallel tests don't race.
    #[test]
    fn submit_wait_collect_and_drain() {
        let rt = runtime();
        let handle = rt.handle().clone();
        let fast = JOBS.submit(
            &handle,
            8,
            Operation::AddDomain,
            "a.example".into(),
            Some(1),
            async { done(true) },
        );
        let slow = JOBS.submit(
            &handle,
            8,
            Operation::AddDomain,
            "b.example".into(),
            None,
            async {
                tokio::time::sleep(Duration::from_millis(300)).await;
                done(false)
            },
        );
        assert!(slow > fast);
        let first = handle.block_on(JOBS.wait(Some(vec![fast, slow]), Duration::from_millis(100)));
        assert!(
            matches!(first[0].1, JobStatus::Finished { ref outcome, site_id: Some(1) } if outcome.ok())
        );
        assert!(
            matches!(first[1].1, JobStatus::Pending { ref domain, .. } if domain == "b.example")
        );
        // collected once
        let again = handle.block_on(JOBS.wait(Some(vec![fast]), Duration::ZERO));
        assert_eq!(again[0].1, JobStatus::Unknown);
        assert_eq!(JOBS.pending(), 1);
        // A waiter wakes when the job finishes, not when its timeout runs out.
        let waited = Instant::now();
        let second = handle.block_on(JOBS.wait(None, Duration::from_secs(60)));
        assert!(
            waited.elapsed() < Duration::from_secs(30),
            "woken by the finish"
        );
        assert_eq!(second.len(), 1);
        assert!(matches!(second[0].1, JobStatus::Finished { ref outcome, .. } if !outcome.ok()));

        // Drain: an uncollected failure and an unfinished job are reported; a success is not.
        JOBS.submit(
            &handle,
            8,
            Operation::AddDomain,
            "ok.example".into(),
            None,
            async { done(true) },
        );
        JOBS.submit(
            &handle,
            8,
            Operation::RemoveDomain,
            "bad.example".into(),
            None,
            async { done(false) },
        );
        JOBS.submit(
            &handle,
            8,
            Operation::AddDomain,
            "hang.example".into(),
            Some(7),
            async {
                tokio::time::sleep(Duration::from_secs(3600)).await;
                done(true)
            },
        );
        let started = Instant::now();
        let leftovers = JOBS.drain(Some(&handle), Duration::from_millis(200));
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "bounded by the drain deadline"
        );
        let mut domains: Vec<_> = leftovers.iter().map(|l| l.domain.as_str()).collect();
        domains.sort();
        assert_eq!(domains, ["bad.example", "hang.example"]);
        let hung = leftovers
            .iter()
            .find(|l| l.domain == "hang.example")
            .unwrap();
        assert!(hung.outcome.is_none());
        assert_eq!(hung.site_id, Some(7));
        assert_eq!(JOBS.pending(), 0);
        assert!(JOBS.drain(Some(&handle), Duration::ZERO).is_empty());

        // The drain waits for running jobs until its deadline: one that succeeds in time is
        // neither aborted nor reported.
        JOBS.submit(
            &handle,
            8,
            Operation::AddDomain,
            "in-time.example".into(),
            None,
            async {
                tokio::time::sleep(Duration::from_millis(100)).await;
                done(true)
            },
        );
        let late: Vec<String> = JOBS
            .drain(Some(&handle), Duration::from_secs(10))
            .into_iter()
            .map(|l| l.domain)
            .collect();
        assert!(late.is_empty(), "{late:?}");

        // A panicking job ends as a failure instead of staying pending forever.
        let panicked = JOBS.submit(
            &handle,
            8,
            Operation::AddDomain,
            "boom.example".into(),
            None,
            async {
                panic!("deliberate");
            },
        );
        let status = handle.block_on(JOBS.wait(Some(vec![panicked]), Duration::from_secs(5)));
        match &status[0].1 {
            JobStatus::Finished { outcome, .. } => {
                assert!(!outcome.ok());
                assert!(outcome.retryable());
                assert!(outcome.error().unwrap().contains("deliberate"));
                assert_eq!(
                    outcome.error_kind(),
                    Some(ErrorKind::Internal),
                    "a failure always has a kind"
                );
            }
            other => panic!("expected a finished failure, got {other:?}"),
        }

        // collect_now: the same answer without waiting, each result handed out once.
        let quick = JOBS.submit(
            &handle,
            8,
            Operation::RemoveDomain,
            "quick.example".into(),
            Some(3),
            async { done(true) },
        );
        let polled = Instant::now();
        while JOBS.pending() > 0 && polled.elapsed() < Duration::from_secs(10) {
            std::thread::sleep(Duration::from_millis(5));
        }
        let now = JOBS.collect_now(Some(vec![quick, 999_999]));
        assert!(
            matches!(now[0].1, JobStatus::Finished { ref outcome, site_id: Some(3) } if outcome.ok())
        );
        assert_eq!(now[1].1, JobStatus::Unknown);
        assert_eq!(JOBS.collect_now(Some(vec![quick]))[0].1, JobStatus::Unknown);

        // At most `limit` jobs run at once; a new limit applies to the jobs submitted after it.
        for limit in [2, 3] {
            let running = Arc::new(AtomicUsize::new(0));
            let most = Arc::new(AtomicUsize::new(0));
            let ids: Vec<JobId> = (0..8)
                .map(|n| {
                    let (running, most) = (running.clone(), most.clone());
                    JOBS.submit(
                        &handle,
                        limit,
                        Operation::AddDomain,
                        format!("limit-{limit}-{n}.example"),
                        None,
                        async move {
                            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                            most.fetch_max(now, Ordering::SeqCst);
                            tokio::time::sleep(Duration::from_millis(30)).await;
                            running.fetch_sub(1, Ordering::SeqCst);
                            done(true)
                        },
                    )
                })
                .collect();
            let finished = handle.block_on(JOBS.wait(Some(ids), Duration::from_secs(10)));
            assert!(finished
                .iter()
                .all(|(_, status)| matches!(status, JobStatus::Finished { .. })));
            assert_eq!(most.load(Ordering::SeqCst), limit, "jobs running at once");
        }
    }
}
