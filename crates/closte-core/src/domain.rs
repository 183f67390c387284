//! Domain-name validation and normalisation, before anything reaches the network.
//!
//! Ultimate Multisite hands us whatever an operator or a customer typed into a form. Closte
//! wants a bare host name (optionally a `*.` wildcard). Everything else is rejected here with a
//! message that names the offending part, so the log says *why* a domain was not added and no
//! request is spent on it.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

/// RFC 1035: a label holds at most 63 octets.
pub const MAX_LABEL_LEN: usize = 63;
/// RFC 1035: a name holds at most 253 characters in its dotted text form.
pub const MAX_NAME_LEN: usize = 253;
/// Input longer than this is not even looked at in detail (it is garbage, or an attack).
const MAX_INPUT_LEN: usize = 1024;

/// A validated, normalised host name: lower-case ASCII (IDN labels in punycode), no trailing
/// dot, optionally a leading `*.` wildcard.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct DomainName {
    name: String,
    wildcard: bool,
}

impl DomainName {
    /// Validates and normalises `input`.
    pub fn parse(input: &str) -> Result<Self, InvalidDomain> {
        parse(input).map_err(|problem| InvalidDomain {
            shown: shown_input(input),
            problem,
        })
    }

    /// Validates raw bytes (PHP strings are bytes): invalid UTF-8 is a domain problem too.
    pub fn parse_bytes(input: &[u8]) -> Result<Self, InvalidDomain> {
        match std::str::from_utf8(input) {
            Ok(text) => Self::parse(text),
            Err(e) => Err(InvalidDomain {
                shown: shown_input(&String::from_utf8_lossy(input)),
                problem: DomainProblem::InvalidUtf8 {
                    position: e.valid_up_to(),
                },
            }),
        }
    }

    /// The normalised name as Closte receives it (`*.example.com` for a wildcard).
    pub fn as_str(&self) -> &str {
        &self.name
    }

    /// True when the name starts with `*.`; Closte then wants `wildcard=1`.
    pub fn is_wildcard(&self) -> bool {
        self.wildcard
    }

    /// The name without a leading `*.`.
    pub fn base(&self) -> &str {
        if self.wildcard {
            &self.name[2..]
        } else {
            &self.name
        }
    }

    /// Refuses the host of `api_url` (closte.api_url, the Closte API itself) as an alias: it is
    /// never a site's domain, and mapping it to the app would be a mistake no call should send.
    /// Compared in normal form, so `APP.closte.com.` is the same host.
    pub fn refuse_api_host(self, api_url: &str) -> Result<Self, InvalidDomain> {
        let api_host = reqwest::Url::parse(api_url)
            .ok()
            .and_then(|url| url.host_str().and_then(|host| Self::parse(host).ok()));
        if api_host.as_ref() == Some(&self) {
            return Err(InvalidDomain {
                shown: self.name,
                problem: DomainProblem::ApiHost,
            });
        }
        Ok(self)
    }

    /// Refuses a `*.` wildcard where a name must resolve and answer by itself (the DNS and
    /// certificate checks): a wildcard has no address; a name under it has.
    pub fn refuse_wildcard(self) -> Result<Self, InvalidDomain> {
        if self.wildcard {
            return Err(InvalidDomain {
                shown: self.name,
                problem: DomainProblem::WildcardHasNoAddress,
            });
        }
        Ok(self)
    }
}

impl fmt::Display for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

impl fmt::Debug for DomainName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DomainName({:?})", self.name)
    }
}

/// Why an input is not a usable domain name. Each variant names the part that is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DomainProblem {
    Empty,
    InvalidUtf8 { position: usize },
    TooLongInput { len: usize },
    ControlCharacter { position: usize },
    Whitespace { position: usize },
    Scheme { scheme: String },
    Path { position: usize },
    UserInfo,
    Port { port: String },
    IpLiteral { address: String },
    EmptyLabel,
    Wildcard,
    WildcardTooBroad,
    BadCharacter { character: char, label: String },
    HyphenAtEdge { label: String },
    LabelTooLong { label: String, len: usize },
    NameTooLong { len: usize },
    SingleLabel { label: String },
    NumericTopLevel { label: String },
    Idna { label: String },
    FullWidth { character: char },
    MixedScript { label: String, scripts: String },
    ApiHost,
    WildcardHasNoAddress,
}

impl fmt::Display for DomainProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "the domain is empty"),
            Self::InvalidUtf8 { position } => {
                write!(f, "not valid UTF-8 (bad byte at offset {position})")
            }
            Self::TooLongInput { len } => {
                write!(f, "the input is {len} bytes long, far beyond a host name")
            }
            Self::ControlCharacter { position } => {
                write!(f, "control character at position {position}")
            }
            Self::Whitespace { position } => write!(f, "whitespace at position {position}"),
            Self::Scheme { scheme } => write!(
                f,
                "it is a URL with scheme \"{scheme}://\"; give the bare host name"
            ),
            Self::Path { position } => write!(
                f,
                "path, query or fragment starting at position {position}; give the bare host name"
            ),
            Self::UserInfo => write!(f, "contains \"@\" (an e-mail address or URL credentials)"),
            Self::Port { port } => write!(f, "contains a port (\":{port}\"); give the host name"),
            Self::IpLiteral { address } => {
                write!(f, "\"{address}\" is an IP address, not a domain name")
            }
            Self::EmptyLabel => write!(f, "empty label (two dots in a row or a leading dot)"),
            Self::Wildcard => write!(f, "\"*\" is only allowed as the whole first label (\"*.\")"),
            Self::WildcardTooBroad => write!(
                f,
                "a wildcard needs at least two labels after \"*.\" (like *.example.com)"
            ),
            Self::BadCharacter { character, label } => write!(
                f,
                "label \"{label}\" contains {} (allowed: letters, digits, hyphen)",
                describe_char(*character)
            ),
            Self::HyphenAtEdge { label } => {
                write!(f, "label \"{label}\" starts or ends with a hyphen")
            }
            Self::LabelTooLong { label, len } => write!(
                f,
                "label \"{}\" is {len} characters long (at most {MAX_LABEL_LEN})",
                truncate(label, 20)
            ),
            Self::NameTooLong { len } => {
                write!(
                    f,
                    "the name is {len} characters long (at most {MAX_NAME_LEN})"
                )
            }
            Self::SingleLabel { label } => write!(
                f,
                "\"{label}\" has a single label; a mapped domain needs a dot (like example.com)"
            ),
            Self::NumericTopLevel { label } => {
                write!(f, "top-level label \"{label}\" is all digits")
            }
            Self::Idna { label } => write!(
                f,
                "label \"{label}\" is not a valid internationalised name (IDNA/UTS 46)"
            ),
            Self::FullWidth { character } => write!(
                f,
                "contains the full-width character {} (a look-alike of ASCII); type the ASCII character",
                describe_char(*character)
            ),
            Self::MixedScript { label, scripts } => write!(
                f,
                "label \"{label}\" mixes {scripts} letters (a look-alike of another name)"
            ),
            Self::ApiHost => write!(
                f,
                "it is the host of the Closte API itself (closte.api_url), not a site's domain"
            ),
            Self::WildcardHasNoAddress => write!(
                f,
                "a wildcard name has no address of its own; check a name under it"
            ),
        }
    }
}

/// A rejected input: what was given (escaped, shortened) and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidDomain {
    shown: String,
    problem: DomainProblem,
}

impl InvalidDomain {
    pub fn problem(&self) -> &DomainProblem {
        &self.problem
    }
}

impl fmt::Display for InvalidDomain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "invalid domain \"{}\": {}", self.shown, self.problem)
    }
}

impl std::error::Error for InvalidDomain {}

fn parse(input: &str) -> Result<DomainName, DomainProblem> {
    if input.is_empty() {
        return Err(DomainProblem::Empty);
    }
    if input.len() > MAX_INPUT_LEN {
        return Err(DomainProblem::TooLongInput { len: input.len() });
    }
    // Structural checks run on the raw text so that the message can point at the character
    // the operator actually typed (positions count characters, from 0).
    for (position, c) in input.chars().enumerate() {
        if c.is_control() || is_invisible(c) {
            return Err(DomainProblem::ControlCharacter { position });
        }
        if c.is_whitespace() {
            return Err(DomainProblem::Whitespace { position });
        }
        if ('\u{FF01}'..='\u{FF5E}').contains(&c) {
            return Err(DomainProblem::FullWidth { character: c });
        }
    }
    if let Some(index) = input.find("://") {
        return Err(DomainProblem::Scheme {
            scheme: truncate(&input[..index], 16),
        });
    }
    if let Some(position) = input
        .chars()
        .position(|c| matches!(c, '/' | '\\' | '?' | '#'))
    {
        return Err(DomainProblem::Path { position });
    }
    if input.contains('@') {
        return Err(DomainProblem::UserInfo);
    }
    let bracketless = input.trim_start_matches('[').trim_end_matches(']');
    if bracketless.parse::<Ipv6Addr>().is_ok() {
        return Err(DomainProblem::IpLiteral {
            address: bracketless.to_string(),
        });
    }
    if let Some((host, port)) = input.rsplit_once(':') {
        if host.parse::<Ipv4Addr>().is_ok() {
            return Err(DomainProblem::IpLiteral {
                address: host.to_string(),
            });
        }
        return Err(DomainProblem::Port {
            port: truncate(port, 8),
        });
    }
    let without_root = input.strip_suffix('.').unwrap_or(input);
    if without_root.parse::<Ipv4Addr>().is_ok() {
        return Err(DomainProblem::IpLiteral {
            address: without_root.to_string(),
        });
    }

    let (wildcard, rest) = match without_root.strip_prefix("*.") {
        Some(rest) => (true, rest),
        None => (false, without_root),
    };
    // A lone "*" is caught here too: it does not start with "*.", so `rest` is "*" itself.
    if rest.contains('*') {
        return Err(DomainProblem::Wildcard);
    }
    // An empty `rest` splits into one empty label.
    if rest.split('.').any(str::is_empty) {
        return Err(DomainProblem::EmptyLabel);
    }

    let ascii = to_ascii(rest)?;
    let labels: Vec<&str> = ascii.split('.').collect();
    for label in &labels {
        check_label(label)?;
    }
    let last = labels[labels.len() - 1];
    if labels.len() == 1 {
        return Err(if wildcard {
            DomainProblem::WildcardTooBroad
        } else {
            DomainProblem::SingleLabel {
                label: last.to_string(),
            }
        });
    }
    if last.bytes().all(|b| b.is_ascii_digit()) {
        return Err(DomainProblem::NumericTopLevel {
            label: last.to_string(),
        });
    }
    let name = if wildcard {
        format!("*.{ascii}")
    } else {
        ascii
    };
    if name.len() > MAX_NAME_LEN {
        return Err(DomainProblem::NameTooLong { len: name.len() });
    }
    Ok(DomainName { name, wildcard })
}

/// Lower-cases ASCII names directly; sends anything else through UTS 46 (IDNA) so that
/// `Bücher.example` becomes `xn--bcher-kva.example`. The look-alike check runs on the Unicode
/// form of the result, so a label typed as punycode is judged like the characters it encodes.
fn to_ascii(name: &str) -> Result<String, DomainProblem> {
    let ascii = if name.is_ascii() {
        let lower = name.to_ascii_lowercase();
        // Punycode labels written by the operator must decode to valid IDNA as well.
        if lower.split('.').any(|l| l.starts_with("xn--")) {
            idna_label_check(&lower)?;
        }
        lower
    } else {
        let converted = Uts46::new()
            .to_ascii(
                name.as_bytes(),
                AsciiDenyList::STD3,
                Hyphens::Allow,
                DnsLength::Ignore,
            )
            .map_err(|_| DomainProblem::Idna {
                label: first_bad_idna_label(name),
            })?;
        // UTS 46 maps full-width and ideographic dots to '.': a root dot and empty labels may
        // only appear now.
        let converted = converted.strip_suffix('.').unwrap_or(&converted);
        if converted.split('.').any(str::is_empty) {
            return Err(DomainProblem::EmptyLabel);
        }
        converted.to_string()
    };
    if ascii.split('.').any(|l| l.starts_with("xn--")) {
        let (unicode, _) = idna::domain_to_unicode(&ascii);
        check_scripts(&unicode)?;
    }
    Ok(ascii)
}

fn idna_label_check(name: &str) -> Result<(), DomainProblem> {
    for label in name.split('.') {
        if label.starts_with("xn--") {
            let ok = Uts46::new()
                .to_ascii(
                    label.as_bytes(),
                    AsciiDenyList::STD3,
                    Hyphens::Allow,
                    DnsLength::Ignore,
                )
                .is_ok();
            if !ok {
                return Err(DomainProblem::Idna {
                    label: truncate(label, 40),
                });
            }
        }
    }
    Ok(())
}

fn first_bad_idna_label(name: &str) -> String {
    name.split(['.', '。', '．', '｡'])
        .find(|label| {
            Uts46::new()
                .to_ascii(
                    label.as_bytes(),
                    AsciiDenyList::STD3,
                    Hyphens::Allow,
                    DnsLength::Ignore,
                )
                .is_err()
        })
        .map(|l| truncate(l, 40))
        .unwrap_or_else(|| truncate(name, 40))
}

fn check_label(label: &str) -> Result<(), DomainProblem> {
    if label.is_empty() {
        return Err(DomainProblem::EmptyLabel);
    }
    if let Some(character) = label
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
    {
        return Err(DomainProblem::BadCharacter {
            character,
            label: truncate(label, 40),
        });
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(DomainProblem::LabelTooLong {
            label: label.to_string(),
            len: label.len(),
        });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(DomainProblem::HyphenAtEdge {
            label: label.to_string(),
        });
    }
    Ok(())
}

/// Alphabets whose letters imitate each other (Latin "a" vs Cyrillic "а" vs Greek "α").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    Latin,
    Cyrillic,
    Greek,
    Armenian,
    Cherokee,
}

fn script_of(c: char) -> Option<Script> {
    match c {
        'a'..='z' | 'A'..='Z' => Some(Script::Latin),
        '\u{00C0}'..='\u{024F}' | '\u{1E00}'..='\u{1EFF}' if c.is_alphabetic() => {
            Some(Script::Latin)
        }
        '\u{0370}'..='\u{03FF}' | '\u{1F00}'..='\u{1FFF}' => Some(Script::Greek),
        '\u{0400}'..='\u{052F}' | '\u{2DE0}'..='\u{2DFF}' | '\u{A640}'..='\u{A69F}' => {
            Some(Script::Cyrillic)
        }
        '\u{0530}'..='\u{058F}' => Some(Script::Armenian),
        '\u{13A0}'..='\u{13FF}' | '\u{AB70}'..='\u{ABBF}' => Some(Script::Cherokee),
        _ => None,
    }
}

/// A label that mixes look-alike alphabets (e.g. Latin with one Cyrillic letter) is the classic
/// homograph: browsers show such names as punycode. A label in one alphabet is fine.
fn check_scripts(name: &str) -> Result<(), DomainProblem> {
    for label in name.split(['.', '。', '．', '｡']) {
        let mut seen: Vec<Script> = Vec::new();
        for script in label.chars().filter_map(script_of) {
            if !seen.contains(&script) {
                seen.push(script);
            }
        }
        if seen.len() > 1 {
            let scripts = seen
                .iter()
                .map(|s| format!("{s:?}"))
                .collect::<Vec<_>>()
                .join(" and ");
            return Err(DomainProblem::MixedScript {
                label: truncate(label, 40),
                scripts,
            });
        }
    }
    Ok(())
}

/// Zero-width and bidi-control characters are not `is_control()` but hide text in logs.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}'
    )
}

fn describe_char(c: char) -> String {
    if c.is_ascii_graphic() {
        format!("'{c}'")
    } else {
        format!("U+{:04X}", c as u32)
    }
}

/// The input as it may appear in a message or a log line: escaped, and cut after 80 chars.
fn shown_input(input: &str) -> String {
    let escaped: String = input.chars().flat_map(char::escape_debug).collect();
    truncate(&escaped, 80)
}

fn truncate(text: &str, max_chars: usize) -> String {
    if text.chars().count() <= max_chars {
        text.to_string()
    } else {
        let cut: String = text.chars().take(max_chars).collect();
        format!("{cut}…")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_api_host_is_refused_in_any_spelling_and_nothing_else_is() {
        let api = "https://App.Closte.com:8443/api/client";
        for input in ["app.closte.com", "APP.closte.com.", "App.Closte.Com"] {
            let error = DomainName::parse(input)
                .unwrap()
                .refuse_api_host(api)
                .unwrap_err();
            assert_eq!(
                error.to_string(),
                "invalid domain \"app.closte.com\": it is the host of the Closte API itself \
                 (closte.api_url), not a site's domain",
                "{input}"
            );
        }
        for input in [
            "www.app.closte.com",
            "*.app.closte.com",
            "closte.com",
            "app.example.com",
        ] {
            let name = DomainName::parse(input).unwrap();
            assert_eq!(name.clone().refuse_api_host(api), Ok(name), "{input}");
        }
        // An API on an IP address (the simulator, a proxy) or an unparsable URL matches no name.
        let name = DomainName::parse("app.closte.com").unwrap();
        for other in ["http://127.0.0.1:8099/api/client", "not a url"] {
            assert_eq!(
                name.clone().refuse_api_host(other),
                Ok(name.clone()),
                "{other}"
            );
        }
    }

    #[test]
    fn an_input_of_exactly_the_input_limit_is_judged_by_the_other_rules() {
        let at_limit = format!("{}.com", "a".repeat(MAX_INPUT_LEN - 4));
        assert_eq!(at_limit.len(), MAX_INPUT_LEN);
        assert!(matches!(
            DomainName::parse(&at_limit).unwrap_err().problem,
            DomainProblem::LabelTooLong { .. }
        ));
        let over = format!("{}.com", "a".repeat(MAX_INPUT_LEN - 3));
        assert!(matches!(
            DomainName::parse(&over).unwrap_err().problem,
            DomainProblem::TooLongInput { len } if len == MAX_INPUT_LEN + 1
        ));
    }

    #[test]
    fn a_lone_star_an_empty_wildcard_and_an_empty_name_are_refused() {
        for (input, expected) in [
            ("*", DomainProblem::Wildcard),
            ("*.", DomainProblem::Wildcard), // the root dot goes first: a lone "*"
            ("*..", DomainProblem::EmptyLabel),
            ("*..com", DomainProblem::EmptyLabel),
            (".", DomainProblem::EmptyLabel),
        ] {
            assert_eq!(
                DomainName::parse(input).unwrap_err().problem,
                expected,
                "{input:?}"
            );
        }
    }

    #[test]
    fn an_idna_refusal_names_the_label_that_fails() {
        // A label may not start with a combining mark (UTS 46, validity criterion V5).
        let error = DomainName::parse("good.\u{0301}ab.example").unwrap_err();
        assert_eq!(
            error.problem,
            DomainProblem::Idna {
                label: "\u{0301}ab".to_string()
            }
        );
    }

    #[test]
    fn latin_mixed_with_armenian_or_cherokee_is_a_look_alike() {
        // U+0585 ARMENIAN SMALL LETTER OH looks like "o"; U+AB83 CHEROKEE SMALL LETTER NA
        // (what UTS 46 folds U+13B3 to) looks like "w".
        for input in ["g\u{0585}ogle.com", "\u{AB83}ikipedia.org"] {
            let error = DomainName::parse(input).unwrap_err();
            assert!(
                matches!(error.problem, DomainProblem::MixedScript { .. }),
                "{input:?}: {error}"
            );
        }
        // A sign in a Latin block is no Latin letter: × (U+00D7) beside Cyrillic is no mix.
        assert_eq!(
            DomainName::parse("\u{0430}\u{00D7}\u{0431}.com")
                .unwrap()
                .as_str(),
            "xn--rca72oea.com"
        );
        // Each alphabet alone is fine.
        assert!(DomainName::parse("\u{0585}\u{0585}.com").is_ok());
        assert!(DomainName::parse("\u{AB83}\u{AB83}.com").is_ok());
    }

    #[test]
    fn a_name_displays_as_its_normal_form_and_debugs_with_its_type() {
        let name = DomainName::parse("*.Shop.Example.COM.").unwrap();
        assert_eq!(name.to_string(), "*.shop.example.com");
        assert_eq!(format!("{name:?}"), "DomainName(\"*.shop.example.com\")");
    }

    fn ok(input: &str, expected: &str, wildcard: bool) {
        let name = DomainName::parse(input)
            .unwrap_or_else(|e| panic!("{input:?} should be valid, got: {e}"));
        assert_eq!(name.as_str(), expected, "normalised form of {input:?}");
        assert_eq!(name.is_wildcard(), wildcard, "wildcard flag of {input:?}");
    }

    fn bad(input: &str, expect: fn(&DomainProblem) -> bool) {
        match DomainName::parse(input) {
            Ok(name) => panic!("{input:?} should be rejected, got {name:?}"),
            Err(e) => assert!(
                expect(e.problem()),
                "{input:?}: unexpected problem {:?} ({e})",
                e.problem()
            ),
        }
    }

    #[test]
    fn good_names_are_normalised() {
        let corpus: &[(&str, &str, bool)] = &[
            ("example.com", "example.com", false),
            ("Example.COM", "example.com", false),
            ("example.com.", "example.com", false),
            ("www.example.com", "www.example.com", false),
            ("a.b.c.d.example.co.uk", "a.b.c.d.example.co.uk", false),
            ("*.example.com", "*.example.com", true),
            ("*.Shop.Example.com.", "*.shop.example.com", true),
            ("my-site.example.org", "my-site.example.org", false),
            ("ab--cd.example.org", "ab--cd.example.org", false),
            ("123.example.com", "123.example.com", false),
            ("x.io", "x.io", false),
            ("bücher.example", "xn--bcher-kva.example", false),
            ("BÜCHER.example", "xn--bcher-kva.example", false),
            ("xn--bcher-kva.example", "xn--bcher-kva.example", false),
            ("münchen.de", "xn--mnchen-3ya.de", false),
            ("例え.jp", "xn--r8jz45g.jp", false),
            ("*.例え.jp", "*.xn--r8jz45g.jp", true),
            ("пример.рф", "xn--e1afmkfd.xn--p1ai", false),
            ("пример.com", "xn--e1afmkfd.com", false),
            ("αβγ.gr", "xn--mxacd.gr", false),
            ("例え-shop.jp", "xn---shop-653dw88r.jp", false),
            ("straße.de", "xn--strae-oqa.de", false),
            ("site1.network.test", "site1.network.test", false),
            ("a.co", "a.co", false),
            ("xn--80ak6aa92e.com", "xn--80ak6aa92e.com", false),
            ("example.com\u{3002}", "example.com", false),
        ];
        for (input, expected, wildcard) in corpus {
            ok(input, expected, *wildcard);
        }
        // Limits are inclusive: a 63-char label and a 253-char name are fine.
        let label63 = "a".repeat(63);
        ok(&format!("{label63}.com"), &format!("{label63}.com"), false);
        let long = format!("{0}.{0}.{0}.{1}.com", "a".repeat(63), "b".repeat(57));
        assert_eq!(long.len(), 253);
        ok(&long, &long, false);
    }

    #[test]
    fn bad_names_are_rejected_with_the_reason() {
        use DomainProblem as P;
        bad("", |p| matches!(p, P::Empty));
        bad(" example.com", |p| {
            matches!(p, P::Whitespace { position: 0 })
        });
        bad("example .com", |p| {
            matches!(p, P::Whitespace { position: 7 })
        });
        bad("example.com ", |p| matches!(p, P::Whitespace { .. }));
        bad("exa\tmple.com", |p| {
            matches!(p, P::ControlCharacter { position: 3 })
        });
        bad("example.com\0", |p| matches!(p, P::ControlCharacter { .. }));
        bad("exa\u{200B}mple.com", |p| {
            matches!(p, P::ControlCharacter { .. })
        });
        bad(
            "https://example.com",
            |p| matches!(p, P::Scheme { scheme } if scheme == "https"),
        );
        bad("http://example.com/", |p| matches!(p, P::Scheme { .. }));
        bad("example.com/path", |p| {
            matches!(p, P::Path { position: 11 })
        });
        bad("example.com?x=1", |p| matches!(p, P::Path { .. }));
        bad("example.com#top", |p| matches!(p, P::Path { .. }));
        bad("../etc/passwd", |p| matches!(p, P::Path { .. }));
        bad("example.com\\x", |p| matches!(p, P::Path { .. }));
        bad("user@example.com", |p| matches!(p, P::UserInfo));
        bad(
            "example.com:8080",
            |p| matches!(p, P::Port { port } if port == "8080"),
        );
        bad("example.com:", |p| matches!(p, P::Port { .. }));
        bad("192.168.1.10", |p| matches!(p, P::IpLiteral { .. }));
        bad("127.0.0.1:80", |p| matches!(p, P::IpLiteral { .. }));
        bad("::1", |p| matches!(p, P::IpLiteral { .. }));
        bad("[2001:db8::1]", |p| matches!(p, P::IpLiteral { .. }));
        bad("1.2.3.4.", |p| matches!(p, P::IpLiteral { .. }));
        bad("10.0.0.256", |p| matches!(p, P::NumericTopLevel { .. }));
        bad("example..com", |p| matches!(p, P::EmptyLabel));
        bad(".example.com", |p| matches!(p, P::EmptyLabel));
        bad("example.com..", |p| matches!(p, P::EmptyLabel));
        bad(".", |p| matches!(p, P::EmptyLabel));
        bad("www.*.example.com", |p| matches!(p, P::Wildcard));
        bad("*example.com", |p| matches!(p, P::Wildcard));
        bad("*", |p| matches!(p, P::Wildcard));
        bad("*.*.example.com", |p| matches!(p, P::Wildcard));
        bad("*.com", |p| matches!(p, P::WildcardTooBroad));
        bad("*.", |p| matches!(p, P::Wildcard));
        bad("exa_mple.com", |p| {
            matches!(p, P::BadCharacter { character: '_', .. })
        });
        bad("exam!ple.com", |p| {
            matches!(p, P::BadCharacter { character: '!', .. })
        });
        bad(
            "-example.com",
            |p| matches!(p, P::HyphenAtEdge { label } if label == "-example"),
        );
        bad("example-.com", |p| matches!(p, P::HyphenAtEdge { .. }));
        bad(&format!("{}.com", "a".repeat(64)), |p| {
            matches!(p, P::LabelTooLong { len: 64, .. })
        });
        bad(
            &format!("{0}.{0}.{0}.{1}.com", "a".repeat(63), "b".repeat(58)),
            |p| matches!(p, P::NameTooLong { len: 254 }),
        );
        bad(&"a".repeat(5000), |p| matches!(p, P::TooLongInput { .. }));
        bad("localhost", |p| matches!(p, P::SingleLabel { .. }));
        bad("example.123", |p| matches!(p, P::NumericTopLevel { .. }));
        bad("xn--zzzzzzz-.com", |p| {
            matches!(p, P::Idna { .. } | P::HyphenAtEdge { .. })
        });
        bad("xn--a.com", |p| matches!(p, P::Idna { .. }));
        bad("ex\u{00A0}ample.com", |p| matches!(p, P::Whitespace { .. }));
        bad("exam\u{0301}\u{0000}.com", |p| {
            matches!(p, P::ControlCharacter { .. })
        });
    }

    #[test]
    fn look_alikes_mixing_scripts_are_refused_and_a_single_script_idn_is_not() {
        use DomainProblem as P;
        let refused = |input: &str| DomainName::parse(input).unwrap_err().problem().clone();
        // Latin with one Cyrillic "а" (U+0430), Latin with a Greek "ο" (U+03BF).
        assert!(matches!(
            refused("p\u{0430}ypal.com"),
            P::MixedScript { .. }
        ));
        assert!(matches!(
            refused("g\u{03BF}ogle.com"),
            P::MixedScript { .. }
        ));
        // Full-width Latin letters look like ASCII.
        assert!(matches!(refused("\u{FF45}xample.com"), P::FullWidth { .. }));
        // One script per label is legitimate, even next to a Latin top-level label.
        assert_eq!(
            DomainName::parse("пример.com").unwrap().as_str(),
            "xn--e1afmkfd.com"
        );
        assert_eq!(
            DomainName::parse("παράδειγμα.gr").unwrap().as_str(),
            "xn--hxajbheg2az3al.gr"
        );
        assert_eq!(
            DomainName::parse("bücher.de").unwrap().as_str(),
            "xn--bcher-kva.de"
        );
    }

    #[test]
    fn messages_name_the_bad_part_and_escape_the_input() {
        let e = DomainName::parse("exa_mple.com").unwrap_err().to_string();
        assert_eq!(
            e,
            "invalid domain \"exa_mple.com\": label \"exa_mple\" contains '_' (allowed: letters, digits, hyphen)"
        );
        let e = DomainName::parse("bad\nname.com").unwrap_err().to_string();
        assert!(e.contains("bad\\nname.com"), "newline must be escaped: {e}");
        assert!(!e.contains('\n'));
        let e = DomainName::parse(&"x".repeat(500)).unwrap_err().to_string();
        assert!(
            e.len() < 300,
            "long input is shortened in messages: {}",
            e.len()
        );
    }

    #[test]
    fn bytes_must_be_utf8() {
        let e = DomainName::parse_bytes(b"exa\xffmple.com").unwrap_err();
        assert_eq!(e.problem(), &DomainProblem::InvalidUtf8 { position: 3 });
        assert!(e.to_string().contains("offset 3"));
        assert_eq!(
            DomainName::parse_bytes(b"Example.com").unwrap().as_str(),
            "example.com"
        );
    }

    #[test]
    fn base_strips_the_wildcard() {
        let name = DomainName::parse("*.example.com").unwrap();
        assert_eq!(name.base(), "example.com");
        assert_eq!(
            DomainName::parse("example.com").unwrap().base(),
            "example.com"
        );
    }

    #[test]
    fn a_wildcard_is_refused_where_a_name_must_have_an_address() {
        let error = DomainName::parse("*.Example.com")
            .unwrap()
            .refuse_wildcard()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid domain \"*.example.com\": a wildcard name has no address of its own; \
             check a name under it"
        );
        let name = DomainName::parse("shop.example.com").unwrap();
        assert_eq!(name.clone().refuse_wildcard(), Ok(name));
    }
}
