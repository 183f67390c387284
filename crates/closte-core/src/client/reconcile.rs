//! Reconciliation (what `closte_sync()` runs): bring Closte's alias list in line with a desired
//! list, with bounded concurrency.
//!
//! One `/getdomains` decides what is missing (and, with prune, what is extra); only those get a
//! request. The decision is a pure function ([`plan`]) so that a dry run returns exactly what a
//! real run would do, and so that the safety rules of pruning are unit-tested without a network:
//!
//! - nothing is pruned without a successful listing (a blind removal could hit anything);
//! - a wildcard alias (`*.example.com`) is never pruned: operators add it by hand for a whole
//!   subdomain network, and no domain list names it;
//! - an alias in `protect` is never pruned;
//! - an alias whose twin (`www.X` for `X`, `X` for `www.X`) is desired or protected is never
//!   pruned: Ultimate Multisite serves both forms of every mapped domain, so a list that names
//!   only one of them still needs the other;
//! - with `confirmed` given, only the aliases in that set are removed: an operator confirms the
//!   preview's exact set, and an alias that became a candidate since is reported, not removed.
//!
//! Adds and removes run `concurrency` at a time over the shared keep-alive pool; each finished
//! outcome is also sent to an optional progress channel as it completes.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc::UnboundedSender;

use super::outcome::Outcome;
use super::ClosteClient;
use crate::domain::DomainName;

/// Why an alias that nothing in the desired list names is kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kept {
    /// A `*.` alias: never pruned.
    Wildcard,
    /// Named in the caller's `protect` list.
    Protected,
    /// Its twin (`www.X` for `X`, `X` for `www.X`) is desired or protected.
    Twin,
}

impl Kept {
    pub fn as_str(self) -> &'static str {
        match self {
            Kept::Wildcard => "wildcard",
            Kept::Protected => "protected",
            Kept::Twin => "twin",
        }
    }
}

/// The other form of a name that Ultimate Multisite serves along with it: `www.X` for `X`, and
/// `X` for `www.X` (only a whole `www.` label counts: `wwwx.com`'s twin is `www.wwwx.com`).
fn twin(name: &str) -> String {
    match name.strip_prefix("www.") {
        Some(bare) => bare.to_string(),
        None => format!("www.{name}"),
    }
}

/// What a sync does (or, on a dry run, would do).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SyncPlan {
    /// Desired domains Closte does not have (in the order given).
    pub to_add: Vec<DomainName>,
    /// Aliases to remove (prune only), sorted.
    pub to_remove: Vec<DomainName>,
    /// Desired domains Closte already has (no request made).
    pub unchanged: Vec<String>,
    /// Prune candidates kept by a rule, with the rule.
    pub kept: BTreeMap<String, Kept>,
    /// Prune candidates that were not in the confirmed set (reported, never removed).
    pub unconfirmed: Vec<String>,
    /// Aliases on Closte that are not host names we could act on (reported, never touched).
    pub skipped: Vec<String>,
}

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    pub prune: bool,
    /// Plan only: one `/getdomains`, no change.
    pub dry_run: bool,
    pub concurrency: usize,
    /// Aliases never removed (normalised names).
    pub protect: BTreeSet<String>,
    /// When set, prune removes only these (normalised names).
    pub confirmed: Option<BTreeSet<String>>,
    /// Each add also requests the certificate (default); false: adds only.
    pub request_ssl: bool,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            prune: false,
            dry_run: false,
            concurrency: 0,
            protect: BTreeSet::new(),
            confirmed: None,
            request_ssl: true,
        }
    }
}

/// Decides what to do. `listing` is Closte's alias list, `None` when it could not be read.
/// `desired` must be deduplicated, validated names.
pub fn plan(listing: Option<&[String]>, desired: &[DomainName], options: &SyncOptions) -> SyncPlan {
    let mut plan = SyncPlan::default();
    let Some(listing) = listing else {
        if !options.prune {
            // Without the list, adding everything is still safe: an existing alias is a success.
            plan.to_add = desired.to_vec();
        }
        // With prune and no list nothing is done: removing blindly could remove the wrong aliases.
        return plan;
    };
    let current: BTreeSet<&str> = listing.iter().map(String::as_str).collect();
    let wanted: BTreeSet<&str> = desired.iter().map(DomainName::as_str).collect();
    for name in desired {
        if current.contains(name.as_str()) {
            plan.unchanged.push(name.as_str().to_string());
        } else {
            plan.to_add.push(name.clone());
        }
    }
    if !options.prune {
        return plan;
    }
    for alias in current.iter().filter(|a| !wanted.contains(*a)) {
        let name = match DomainName::parse(alias) {
            Ok(name) if name.as_str() == *alias => name,
            _ => {
                plan.skipped.push(alias.to_string());
                continue;
            }
        };
        if name.is_wildcard() {
            plan.kept.insert(alias.to_string(), Kept::Wildcard);
        } else if options.protect.contains(*alias) {
            plan.kept.insert(alias.to_string(), Kept::Protected);
        } else if is_in_use_as_twin(alias, &wanted, &options.protect) {
            plan.kept.insert(alias.to_string(), Kept::Twin);
        } else if options
            .confirmed
            .as_ref()
            .is_some_and(|confirmed| !confirmed.contains(*alias))
        {
            plan.unconfirmed.push(alias.to_string());
        } else {
            plan.to_remove.push(name);
        }
    }
    plan
}

/// The alias's twin is a desired domain or a protected alias, so the alias serves it too.
fn is_in_use_as_twin(alias: &str, wanted: &BTreeSet<&str>, protect: &BTreeSet<String>) -> bool {
    let twin = twin(alias);
    wanted.contains(twin.as_str()) || protect.contains(&twin)
}

/// What a sync did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// The `/getdomains` call that the plan is based on.
    pub listing: Outcome,
    pub plan: SyncPlan,
    pub dry_run: bool,
    /// One outcome per add or remove, in completion order (empty on a dry run).
    pub results: Vec<Outcome>,
    pub elapsed: Duration,
}

impl SyncReport {
    pub fn ok(&self) -> bool {
        self.results.iter().all(|o| o.ok()) && (self.listing.ok() || !self.results.is_empty())
    }
}

enum Job {
    Add(DomainName),
    Remove(DomainName),
}

/// Lists, plans and (unless `dry_run`) carries the plan out.
pub async fn reconcile(
    client: Arc<ClosteClient>,
    desired: Vec<DomainName>,
    options: SyncOptions,
    progress: Option<UnboundedSender<Outcome>>,
) -> SyncReport {
    let started = Instant::now();
    let listing = client.list_domains().await;
    let listed = listing
        .ok()
        .then(|| listing.domains.clone().unwrap_or_default());
    let plan = plan(listed.as_deref(), &desired, &options);
    if options.dry_run {
        return SyncReport {
            listing,
            plan,
            dry_run: true,
            results: Vec::new(),
            elapsed: started.elapsed(),
        };
    }
    let jobs: VecDeque<Job> = plan
        .to_add
        .iter()
        .cloned()
        .map(Job::Add)
        .chain(plan.to_remove.iter().cloned().map(Job::Remove))
        .collect();

    let request_ssl = options.request_ssl;
    let queue = Arc::new(Mutex::new(jobs));
    let results = Arc::new(Mutex::new(Vec::new()));
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..options.concurrency.max(1) {
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
                    Job::Add(name) => client.add_domain_with(&name, request_ssl).await,
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
        plan,
        dry_run: false,
        results,
        elapsed: started.elapsed(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(list: &[&str]) -> Vec<DomainName> {
        list.iter().map(|n| DomainName::parse(n).unwrap()).collect()
    }

    fn strings(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn texts(list: &[DomainName]) -> Vec<&str> {
        list.iter().map(DomainName::as_str).collect()
    }

    fn prune() -> SyncOptions {
        SyncOptions {
            prune: true,
            ..SyncOptions::default()
        }
    }

    #[test]
    fn an_alias_not_in_normal_form_is_reported_not_removed() {
        let listing = strings(&["keep.example.com", "Upper.Example.com", "old.example.com"]);
        let plan = plan(Some(&listing), &names(&["keep.example.com"]), &prune());
        assert_eq!(texts(&plan.to_remove), ["old.example.com"]);
        assert_eq!(plan.skipped, ["Upper.Example.com"]);
    }

    #[test]
    fn kept_rules_have_their_documented_names() {
        assert_eq!(Kept::Wildcard.as_str(), "wildcard");
        assert_eq!(Kept::Protected.as_str(), "protected");
        assert_eq!(Kept::Twin.as_str(), "twin");
    }

    #[test]
    fn a_sync_is_ok_when_every_change_worked_and_it_had_a_listing_or_made_changes() {
        use crate::client::outcome::{Operation, State};
        let done = |ok: bool| {
            let mut outcome = Outcome::new(Operation::AddDomain, Some("a.example.com"));
            if ok {
                outcome.succeed(State::Added, 200, None);
            } else {
                outcome.fail_with(
                    State::Failed,
                    crate::error_kind::ErrorKind::Server,
                    "503".into(),
                );
            }
            outcome
        };
        let listing = |ok: bool| {
            let mut outcome = Outcome::new(Operation::ListDomains, None);
            if ok {
                outcome.succeed(State::Listed, 200, None);
            } else {
                outcome.fail_with(
                    State::Failed,
                    crate::error_kind::ErrorKind::Timeout,
                    "slow".into(),
                );
            }
            outcome
        };
        let report = |listed: bool, results: Vec<Outcome>| SyncReport {
            listing: listing(listed),
            plan: SyncPlan::default(),
            dry_run: false,
            results,
            elapsed: Duration::ZERO,
        };
        assert!(report(true, vec![]).ok(), "listed, nothing to do");
        assert!(report(true, vec![done(true), done(true)]).ok());
        assert!(
            !report(true, vec![done(true), done(false)]).ok(),
            "one change failed"
        );
        assert!(!report(false, vec![]).ok(), "no listing and nothing done");
        assert!(
            report(false, vec![done(true)]).ok(),
            "no listing, the adds worked"
        );
        assert!(!report(false, vec![done(false)]).ok());
    }

    #[test]
    fn without_prune_only_missing_domains_are_added() {
        let listing = strings(&["a.example.com", "extra.example.com"]);
        let plan = plan(
            Some(&listing),
            &names(&["a.example.com", "b.example.com"]),
            &SyncOptions::default(),
        );
        assert_eq!(texts(&plan.to_add), ["b.example.com"]);
        assert_eq!(plan.unchanged, ["a.example.com"]);
        assert!(plan.to_remove.is_empty());
        assert!(plan.kept.is_empty() && plan.unconfirmed.is_empty());
    }

    #[test]
    fn without_a_listing_everything_is_added_and_nothing_is_pruned() {
        let desired = names(&["a.example.com"]);
        let add_only = plan(None, &desired, &SyncOptions::default());
        assert_eq!(texts(&add_only.to_add), ["a.example.com"]);
        let pruning = plan(None, &desired, &prune());
        assert_eq!(pruning, SyncPlan::default(), "no listing, no plan at all");
    }

    #[test]
    fn prune_removes_what_nothing_names_except_wildcards_and_protected_aliases() {
        let listing = strings(&[
            "*.network.example",
            "keep.example.com",
            "old.example.com",
            "www.network.example",
            "Not A Host",
        ]);
        let options = SyncOptions {
            protect: ["www.network.example".to_string()].into(),
            ..prune()
        };
        let plan = plan(Some(&listing), &names(&["keep.example.com"]), &options);
        assert_eq!(texts(&plan.to_remove), ["old.example.com"]);
        assert_eq!(plan.kept.get("*.network.example"), Some(&Kept::Wildcard));
        assert_eq!(plan.kept.get("www.network.example"), Some(&Kept::Protected));
        assert_eq!(plan.skipped, ["Not A Host"]);
    }

    #[test]
    fn a_confirmed_set_limits_removal_to_exactly_those_aliases() {
        let listing = strings(&[
            "gone-1.example.com",
            "gone-2.example.com",
            "new.example.com",
        ]);
        let options = SyncOptions {
            confirmed: Some(
                ["gone-1.example.com", "gone-2.example.com", "x.example.com"]
                    .map(String::from)
                    .into(),
            ),
            ..prune()
        };
        // new.example.com became a candidate after the preview: reported, not removed; the
        // confirmed x.example.com is not on Closte any more: nothing to do.
        let plan = plan(Some(&listing), &[], &options);
        assert_eq!(
            texts(&plan.to_remove),
            ["gone-1.example.com", "gone-2.example.com"]
        );
        assert_eq!(plan.unconfirmed, ["new.example.com"]);
    }

    #[test]
    fn a_desired_domain_is_never_a_removal_even_when_confirmed() {
        let listing = strings(&["site.example.com"]);
        let options = SyncOptions {
            confirmed: Some(["site.example.com".to_string()].into()),
            ..prune()
        };
        let plan = plan(Some(&listing), &names(&["site.example.com"]), &options);
        assert!(plan.to_remove.is_empty());
        assert_eq!(plan.unchanged, ["site.example.com"]);
    }

    #[test]
    fn a_twin_is_the_other_form_with_or_without_a_whole_www_label() {
        assert_eq!(twin("www.alpha-shop.com"), "alpha-shop.com");
        assert_eq!(twin("alpha-shop.com"), "www.alpha-shop.com");
        assert_eq!(twin("wwwx.com"), "www.wwwx.com", "wwwx is not a www label");
        assert_eq!(twin("www.www.example.com"), "www.example.com");
        assert_eq!(twin("shop.www.example.com"), "www.shop.www.example.com");
    }

    #[test]
    fn prune_keeps_the_www_form_of_a_desired_domain_and_the_bare_form_of_a_desired_www() {
        let listing = strings(&[
            "alpha-shop.com",
            "beta-shop.com",
            "other.example.com",
            "www.alpha-shop.com",
            "www.beta-shop.com",
        ]);
        let plan = plan(
            Some(&listing),
            &names(&["alpha-shop.com", "www.beta-shop.com"]),
            &prune(),
        );
        assert_eq!(texts(&plan.to_remove), ["other.example.com"]);
        assert_eq!(
            plan.kept,
            BTreeMap::from([
                ("beta-shop.com".to_string(), Kept::Twin),
                ("www.alpha-shop.com".to_string(), Kept::Twin),
            ])
        );
        assert_eq!(plan.unchanged, ["alpha-shop.com", "www.beta-shop.com"]);
    }

    #[test]
    fn prune_keeps_the_twin_of_a_protected_alias_even_outside_the_confirmed_set() {
        let listing = strings(&["gamma.example", "www.gamma.example", "www.delta.example"]);
        let options = SyncOptions {
            protect: ["gamma.example".to_string(), "delta.example".to_string()].into(),
            confirmed: Some(["www.gamma.example".to_string()].into()),
            ..prune()
        };
        let plan = plan(Some(&listing), &[], &options);
        assert!(plan.to_remove.is_empty(), "{plan:?}");
        assert!(plan.unconfirmed.is_empty(), "{plan:?}");
        assert_eq!(
            plan.kept,
            BTreeMap::from([
                ("gamma.example".to_string(), Kept::Protected),
                ("www.delta.example".to_string(), Kept::Twin),
                ("www.gamma.example".to_string(), Kept::Twin),
            ])
        );
    }

    #[test]
    fn only_a_whole_www_label_makes_a_twin() {
        // wwwx.com is no form of x.com, and x.com's twin www.x.com is not listed here.
        let listing = strings(&["wwwx.com", "x.com", "www.com", "www.shop.example"]);
        let plan = plan(
            Some(&listing),
            &names(&["com.example", "shop.www.example", "www.x.com.example"]),
            &prune(),
        );
        assert_eq!(
            texts(&plan.to_remove),
            ["www.com", "www.shop.example", "wwwx.com", "x.com"]
        );
        assert!(plan.kept.is_empty(), "{plan:?}");
    }

    #[test]
    fn the_rules_apply_in_order_wildcard_protected_twin() {
        let listing = strings(&["*.net.example", "www.net.example", "www.shop.example"]);
        let options = SyncOptions {
            protect: ["*.net.example".to_string(), "www.net.example".to_string()].into(),
            ..prune()
        };
        let plan = plan(
            Some(&listing),
            &names(&["net.example", "shop.example"]),
            &options,
        );
        assert!(plan.to_remove.is_empty());
        assert_eq!(plan.kept.get("*.net.example"), Some(&Kept::Wildcard));
        assert_eq!(plan.kept.get("www.net.example"), Some(&Kept::Protected));
        assert_eq!(plan.kept.get("www.shop.example"), Some(&Kept::Twin));
    }

    #[test]
    fn a_wildcard_has_no_twin_rule() {
        // The twin of *.net.example would be www.*.net.example, which is no name: a wildcard
        // is kept as a wildcard whatever is desired, and a desired wildcard keeps no other alias.
        let listing = strings(&["*.net.example", "net.example", "www.net.example"]);
        let plan = plan(Some(&listing), &names(&["*.shop.example"]), &prune());
        assert_eq!(texts(&plan.to_remove), ["net.example", "www.net.example"]);
        assert_eq!(
            plan.kept,
            BTreeMap::from([("*.net.example".to_string(), Kept::Wildcard)])
        );
    }

    #[test]
    fn a_dry_run_plans_twins_the_same_way() {
        let listing = strings(&["www.alpha-shop.com", "old.example.com"]);
        let options = SyncOptions {
            dry_run: true,
            ..prune()
        };
        let dry = plan(Some(&listing), &names(&["alpha-shop.com"]), &options);
        let real = plan(Some(&listing), &names(&["alpha-shop.com"]), &prune());
        assert_eq!(dry, real);
        assert_eq!(dry.kept.get("www.alpha-shop.com"), Some(&Kept::Twin));
    }
}
