//! `Closte\InvalidDomainException`: the domain argument is not a host name Closte can serve.
//! Thrown before any network call; the message names the offending part.

use ext_php_rs::prelude::*;

use super::exception::ClosteException;

#[php_class]
#[php(name = "Closte\\InvalidDomainException")]
#[php(extends(ClosteException))]
#[derive(Default)]
pub struct InvalidDomainException;
