//! Bulk sync: bring Closte's alias list in line with a desired list, with bounded concurrency.
//!
//! One `/getdomains` decides what is missing (and, with prune, what is extra); only those get a
//! request. Adds and removes run `concurrency` at a time over the shared keep-alive pool; each
//! finished outcome is also sent to an optional progress channel as it completes.

use std::collections::{BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::outcome::Outcome;
use super::ClosteClient;
use crate::domain::DomainName;

/// What a sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The `/getdomains` call that the plan is based on.
    pub listing: Outcome,
    /// Desired domains Closte already had (no request made).
    pub unchanged: Vec<String>,
    /// One outcome per add or remove, in completion order.
    pub results: Vec<Outcome>,
    /// Aliases on Closte that are not host names we could act on (reported, never touched).
    pub skipped: Vec<String>,
    pub elapsed: Duration,
}

impl SyncReport {
    pub fn ok(&self) -> bool {
        self.results.iter().all(|o| o.ok) && (self.listing.ok || !self.results.is_empty())
    }
}

enum Job {
    Add(DomainName),
    Remove(DomainName),
}

/// Runs the sync. `desired` must be deduplicated, validated names.
pub async fn sync(
    client: Arc<ClosteClient>,
    desired: Vec<DomainName>,
    prune: bool,
    concurrency: usize,
    progress: Option<UnboundedSender<Outcome>>,
) -> SyncReport {
    let started = Instant::now();
    let listing = client.list_domains().await;
    let mut unchanged = Vec::new();
    let mut skipped = Vec::new();
    let mut jobs = VecDeque::new();
    if listing.ok {
        let current: BTreeSet<String> = listing
            .domains
            .clone()
            .unwrap_or_default()
            .into_iter()
            .collect();
        let wanted: BTreeSet<&str> = desired.iter().map(DomainName::as_str).collect();
        for name in desired.iter() {
            if current.contains(name.as_str()) {
                unchanged.push(name.as_str().to_string());
            } else {
                jobs.push_back(Job::Add(name.clone()));
            }
        }
        if prune {
            for alias in current.iter().filter(|a| !wanted.contains(a.as_str())) {
                match DomainName::parse(alias) {
                    Ok(name) if name.as_str() == alias => jobs.push_back(Job::Remove(name)),
                    _ => skipped.push(alias.clone()),
                }
            }
        }
    } else if !prune {
        // Without the list, adding everything is still safe: an existing alias is a success.
        jobs.extend(desired.into_iter().map(Job::Add));
    }
    // With prune and no list nothing is done: removing blindly could remove the wrong aliases.

    let queue = Arc::new(Mutex::new(jobs));
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency.max(1) {
        let (queue, results, client, progress) = (
            queue.clone(),
            results.clone(),
            client.clone(),
            progress.clone(),
        );
        workers.spawn(async move {
            loop {
                let job = queue.lock().unwrap_or_else(|p| p.into_inner()).pop_front();
                let Some(job) = job else { break };
                let outcome = match job {
                    Job::Add(name) => client.add_domain(&name).await,
                    Job::Remove(name) => client.remove_domain(&name).await,
                };
                if let Some(progress) = &progress {
                    let _ = progress.send(outcome.clone());
                }
                results
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push(outcome);
            }
        });
    }
    while workers.join_next().await.is_some() {}
    let results = std::mem::take(&mut *results.lock().unwrap_or_else(|p| p.into_inner()));
    SyncReport {
        listing,
        unchanged,
        results,
        skipped,
        elapsed: started.elapsed(),
    }
}
