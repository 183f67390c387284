//! The certificate side: SSL endpoint discovery (once per process and base URL, single
//! flight), the certificate request through the endpoint found, and the certificate status.

use std::time::Instant;

use crate::domain::DomainName;

use super::endpoint::{Endpoint, InstallSsl, SslStatus, SSL_ENDPOINT_CANDIDATES};
use super::error::{ErrorKind, Failure};
use super::operations::settle;
use super::outcome::{Operation, Outcome, State};
use super::ssl_cache::{self, cached_ssl_endpoint, SslEndpoint};
use super::ClosteClient;

impl ClosteClient {
    /// Requests the Let's Encrypt certificate through the SSL endpoint, discovered once per
    /// process and base URL.
    pub async fn request_ssl(&self, domain: &DomainName) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::new(Operation::RequestSsl, Some(domain.as_str()));
        match self.ssl_endpoint_or_discovery_turn().await {
            // The gate is for discovery only, never for requests (holding it here serialised a
            // whole bulk sync's first wave).
            SslTurn::Known(known) => self.request_ssl_through(known, &mut outcome, domain).await,
            SslTurn::Discover(_discovering) => self.discover_ssl(&mut outcome, domain).await,
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// The endpoint when it is known, else the turn to discover it (single flight per base URL:
    /// whoever holds the gate for writing discovers; what was found meanwhile is read again
    /// under the gate, so it is never probed for twice).
    async fn ssl_endpoint_or_discovery_turn(&self) -> SslTurn {
        if let Some(known) = cached_ssl_endpoint(&self.base_url) {
            return SslTurn::Known(known);
        }
        let gate = ssl_cache::discovery_gate(&self.base_url);
        let discovering = match gate.clone().try_write_owned() {
            Ok(discovering) => discovering,
            Err(_) => {
                // Another call is discovering. Waiting as a reader wakes every waiter at once
                // when it ends; waiting for a mutex handed it from waiter to waiter, one thread
                // wake-up after another, and a bulk sync's first certificate wave (c - 1
                // waiters) went out about a millisecond later (bench/notes.md).
                drop(gate.read().await);
                if let Some(known) = cached_ssl_endpoint(&self.base_url) {
                    return SslTurn::Known(known);
                }
                // That discovery proved nothing: the waiters take turns, one probe at a time.
                gate.write_owned().await
            }
        };
        match cached_ssl_endpoint(&self.base_url) {
            Some(known) => SslTurn::Known(known),
            None => SslTurn::Discover(discovering),
        }
    }

    async fn request_ssl_through(
        &self,
        known: SslEndpoint,
        outcome: &mut Outcome,
        domain: &DomainName,
    ) {
        match known {
            SslEndpoint::Found(path) => {
                let exchange = self.exchange(&InstallSsl { path, domain }).await;
                outcome.attempts = exchange.attempts;
                outcome.endpoint = Some(path.to_string());
                settle(outcome, exchange.result, State::Requested);
            }
            SslEndpoint::NoneFound => no_ssl_endpoint(outcome),
        }
    }

    async fn discover_ssl(&self, outcome: &mut Outcome, domain: &DomainName) {
        for path in SSL_ENDPOINT_CANDIDATES {
            let exchange = self.exchange(&InstallSsl { path, domain }).await;
            outcome.attempts += exchange.attempts;
            outcome.endpoint = Some(path.to_string());
            let exists = match &exchange.result {
                Err(failure) if matches!(failure.status(), 404 | 405) => continue,
                Err(failure) => proves_endpoint_exists(failure),
                Ok(answer) => {
                    answer.success || proves_endpoint_exists(&answer.clone().into_rejection())
                }
            };
            if exists {
                ssl_cache::remember(&self.base_url, SslEndpoint::Found(path));
            }
            // Without proof either way nothing is remembered; the next call probes again.
            settle(outcome, exchange.result, State::Requested);
            return;
        }
        ssl_cache::remember(&self.base_url, SslEndpoint::NoneFound);
        no_ssl_endpoint(outcome);
    }

    /// The certificate status Closte reports for a domain.
    pub async fn ssl_status(&self, domain: &DomainName) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::new(Operation::SslStatus, Some(domain.as_str()));
        let endpoint = SslStatus(domain);
        outcome.endpoint = Some(endpoint.path().to_string());
        let exchange = self.exchange(&endpoint).await;
        outcome.attempts = exchange.attempts;
        settle(&mut outcome, exchange.result, State::Checked);
        outcome.elapsed = started.elapsed();
        outcome
    }
}

/// What a certificate request goes through: the known endpoint, or (holding the discovery gate)
/// the candidates.
enum SslTurn {
    Known(SslEndpoint),
    Discover(tokio::sync::OwnedRwLockWriteGuard<()>),
}

/// An answer other than 404/405 shows that an SSL endpoint exists, unless it could come from
/// something in front of every path (auth check, rate limiter, gateway error: every 5xx is
/// classified `Server`).
fn proves_endpoint_exists(failure: &Failure) -> bool {
    match failure {
        Failure::Rejected { kind, .. } => !matches!(
            kind,
            ErrorKind::Auth | ErrorKind::RateLimited | ErrorKind::Server
        ),
        Failure::Transport { .. } | Failure::Decode { .. } => false,
    }
}

fn no_ssl_endpoint(outcome: &mut Outcome) {
    outcome.endpoint = None;
    outcome.fail_with(
        State::NoEndpoint,
        ErrorKind::NotFound,
        format!(
            "Closte exposes none of the SSL endpoints {}; Closte issues the Let's Encrypt \
             certificate itself once the alias exists and DNS points at the app",
            SSL_ENDPOINT_CANDIDATES.join(", ")
        ),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoint_existence_rules() {
        let rejected = Failure::rejected_for_test;
        assert!(proves_endpoint_exists(&rejected(
            400,
            ErrorKind::InvalidDomain
        )));
        assert!(!proves_endpoint_exists(&rejected(200, ErrorKind::Server)));
        assert!(!proves_endpoint_exists(&rejected(401, ErrorKind::Auth)));
        assert!(!proves_endpoint_exists(&rejected(
            429,
            ErrorKind::RateLimited
        )));
        assert!(!proves_endpoint_exists(&rejected(500, ErrorKind::Server)));
    }
}
