//! The operations: what each one sends and what an answer means (an "already exists" is a
//! success for an add; an unclear failure is settled with `/getdomains`).

use std::time::Instant;

use serde_json::Value;

use crate::domain::DomainName;

use super::answer::Answer;
use super::endpoint::{AddDomainAlias, ConnectionProbe, DeleteDomainAlias, Endpoint, GetDomains};
use super::error::{says_already_exists, says_not_found, ErrorKind, Failure};
use super::outcome::{Operation, Outcome, State};
use super::ClosteClient;

/// The operations that act on one domain (what `closte_enqueue` accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DomainOperation {
    Add,
    Remove,
    RequestSsl,
    SslStatus,
    /// Not a Closte call: the certificate a visitor of the domain sees (net/).
    VerifyCertificate,
}

impl DomainOperation {
    pub const NAMES: [&'static str; 5] = [
        "add_domain",
        "remove_domain",
        "request_ssl",
        "ssl_status",
        "verify_certificate",
    ];

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "add_domain" => Some(Self::Add),
            "remove_domain" => Some(Self::Remove),
            "request_ssl" => Some(Self::RequestSsl),
            "ssl_status" => Some(Self::SslStatus),
            "verify_certificate" => Some(Self::VerifyCertificate),
            _ => None,
        }
    }

    pub fn operation(self) -> Operation {
        match self {
            Self::Add => Operation::AddDomain,
            Self::Remove => Operation::RemoveDomain,
            Self::RequestSsl => Operation::RequestSsl,
            Self::SslStatus => Operation::SslStatus,
            Self::VerifyCertificate => Operation::VerifyCertificate,
        }
    }

    /// Add and remove carry the site id into their result.
    pub fn takes_site_id(self) -> bool {
        matches!(self, Self::Add | Self::Remove)
    }
}

impl ClosteClient {
    /// Runs one domain operation.
    pub async fn run(&self, operation: DomainOperation, domain: &DomainName) -> Outcome {
        match operation {
            DomainOperation::Add => self.add_domain(domain).await,
            DomainOperation::Remove => self.remove_domain(domain).await,
            DomainOperation::RequestSsl => self.request_ssl(domain).await,
            DomainOperation::SslStatus => self.ssl_status(domain).await,
            DomainOperation::VerifyCertificate => self.verify_certificate(domain).await,
        }
    }

    /// The certificate a visitor of `domain` sees, with this client's settings (see
    /// `net::verify_certificate`). Sends nothing to Closte.
    pub async fn verify_certificate(&self, domain: &DomainName) -> Outcome {
        crate::net::verify_certificate(&self.checks, domain).await
    }

    /// Adds the alias, then requests its certificate. "Already exists" counts as added.
    pub async fn add_domain(&self, domain: &DomainName) -> Outcome {
        self.add_domain_with(domain, true).await
    }

    /// Adds the alias and, with `request_ssl`, requests its certificate (without: `ssl` stays
    /// empty; the caller requests it once DNS points here).
    pub async fn add_domain_with(&self, domain: &DomainName, request_ssl: bool) -> Outcome {
        let started = Instant::now();
        let mut outcome = self
            .change_alias(Operation::AddDomain, &AddDomainAlias(domain), domain)
            .await;
        if outcome.ok() && request_ssl {
            outcome.ssl = Some(Box::new(self.request_ssl(domain).await));
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Removes the alias. "Not there" counts as removed.
    pub async fn remove_domain(&self, domain: &DomainName) -> Outcome {
        let started = Instant::now();
        let mut outcome = self
            .change_alias(Operation::RemoveDomain, &DeleteDomainAlias(domain), domain)
            .await;
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// The shared part of add and remove: one exchange, Closte's idempotent refusal ("already
    /// exists" / "not found") read as success, anything unclear settled with `/getdomains`.
    async fn change_alias<E: Endpoint>(
        &self,
        operation: Operation,
        endpoint: &E,
        domain: &DomainName,
    ) -> Outcome {
        let adding = operation == Operation::AddDomain;
        let (done, already, says_already): (State, State, fn(&str) -> bool) = if adding {
            (State::Added, State::AlreadyExists, says_already_exists)
        } else {
            (State::Removed, State::NotPresent, says_not_found)
        };
        let mut outcome = Outcome::new(operation, Some(domain.as_str()));
        outcome.endpoint = Some(endpoint.path().to_string());
        let exchange = self.exchange(endpoint).await;
        outcome.attempts = exchange.attempts;
        let failure = match exchange.result {
            Ok(answer) if answer.success => {
                outcome.succeed_with(done, answer);
                return outcome;
            }
            Ok(answer) if answer.error.as_deref().is_some_and(says_already) => {
                outcome.succeed_with(already, answer);
                return outcome;
            }
            Ok(answer) => answer.into_rejection(),
            Err(failure) => failure,
        };
        self.settle_ambiguous(&mut outcome, &failure, domain, adding)
            .await;
        outcome
    }

    /// After a failure whose meaning is unclear (a 5xx, an unknown refusal text, a timeout after
    /// which the change may have happened), ask `/getdomains` whether the alias is in the state
    /// we wanted. If it is, the operation succeeded; if that cannot be told, the original
    /// failure stands.
    async fn settle_ambiguous(
        &self,
        outcome: &mut Outcome,
        failure: &Failure,
        domain: &DomainName,
        want_present: bool,
    ) {
        outcome.fail(failure);
        let ambiguous = matches!(
            failure.kind(),
            ErrorKind::Server | ErrorKind::BadResponse | ErrorKind::Timeout
        ) || (failure.kind() == ErrorKind::NotFound && failure.status() == 200);
        if !ambiguous {
            return;
        }
        let listing = self.exchange(&GetDomains).await;
        outcome.attempts += listing.attempts;
        let Ok(answer) = listing.result else { return };
        if !answer.success {
            return;
        }
        let present = extract_domains(&answer.body)
            .iter()
            .any(|d| d == domain.as_str());
        if present == want_present {
            let state = if want_present {
                State::AlreadyExists
            } else {
                State::NotPresent
            };
            outcome.succeed(state, failure.status(), failure.body().cloned());
        }
    }

    /// The aliases Closte holds for the app.
    pub async fn list_domains(&self) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::new(Operation::ListDomains, None);
        outcome.endpoint = Some(GetDomains.path().to_string());
        let exchange = self.exchange(&GetDomains).await;
        outcome.attempts = exchange.attempts;
        match exchange.result {
            Ok(mut answer) if answer.success => {
                outcome.domains = Some(extract_domains(&answer.body));
                // The names are in `domains`; the list is not converted a second time.
                if let Some(body) = answer.body.as_object_mut() {
                    body.remove("domains");
                }
                outcome.succeed_with(State::Listed, answer);
            }
            Ok(answer) => outcome.fail(&answer.into_rejection()),
            Err(failure) => outcome.fail(&failure),
        }
        outcome.elapsed = started.elapsed();
        outcome
    }

    /// Verifies the key and reachability without changing anything (an add with an empty
    /// domain, which Closte refuses with `Invalid or empty domain: ` when the key is valid).
    pub async fn test_connection(&self) -> Outcome {
        let started = Instant::now();
        let mut outcome = Outcome::new(Operation::TestConnection, None);
        outcome.endpoint = Some(ConnectionProbe.path().to_string());
        let exchange = self.exchange(&ConnectionProbe).await;
        outcome.attempts = exchange.attempts;
        match exchange.result {
            Ok(answer)
                if answer.success
                    || answer
                        .error
                        .as_deref()
                        .is_some_and(|e| e.starts_with("Invalid or empty domain")) =>
            {
                outcome.succeed_with(State::Authorized, answer)
            }
            Ok(answer) => outcome.fail(&answer.into_rejection()),
            Err(failure) => outcome.fail(&failure),
        }
        outcome.elapsed = started.elapsed();
        outcome
    }
}

/// The common ending of an operation: a success answer is `state`, anything else a failure.
pub(super) fn settle(outcome: &mut Outcome, result: Result<Answer, Failure>, state: State) {
    match result {
        Ok(answer) if answer.success => outcome.succeed_with(state, answer),
        Ok(answer) => outcome.fail(&answer.into_rejection()),
        Err(failure) => outcome.fail(&failure),
    }
}

/// Domain names from a `/getdomains` answer: `domains` may hold strings or objects with a
/// `domain`/`name`/`alias` field. Lower-cased, trailing dot removed.
pub fn extract_domains(body: &Value) -> Vec<String> {
    let Some(items) = body.get("domains").and_then(Value::as_array) else {
        return Vec::new();
    };
    items
        .iter()
        .filter_map(|item| match item {
            Value::String(s) => Some(s.as_str()),
            Value::Object(map) => ["domain", "name", "alias", "domain_name"]
                .iter()
                .find_map(|k| map.get(*k).and_then(Value::as_str)),
            _ => None,
        })
        .map(|s| s.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_operation_name_parses_to_its_operation_and_nothing_else_does() {
        for name in DomainOperation::NAMES {
            let operation = DomainOperation::parse(name).expect(name);
            assert_eq!(operation.operation().as_str(), name);
        }
        for name in ["", "add", "ADD_DOMAIN", "list_domains", "test_connection"] {
            assert_eq!(DomainOperation::parse(name), None, "{name}");
        }
    }

    #[test]
    fn only_add_and_remove_carry_a_site_id() {
        let carrying: Vec<&str> = DomainOperation::NAMES
            .into_iter()
            .filter(|name| DomainOperation::parse(name).unwrap().takes_site_id())
            .collect();
        assert_eq!(carrying, ["add_domain", "remove_domain"]);
    }

    #[test]
    fn domains_are_extracted_from_either_shape() {
        let body = json!({"success": true, "domains": [
            "Example.com", {"domain": "*.wild.example.com"}, {"name": "b.example.org."}, 7, ""
        ]});
        assert_eq!(
            extract_domains(&body),
            vec!["example.com", "*.wild.example.com", "b.example.org"]
        );
        assert!(extract_domains(&json!({"success": true})).is_empty());
    }
}
