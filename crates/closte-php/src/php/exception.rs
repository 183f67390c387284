//! `Closte\Exception`: the base of every exception the extension throws. Remote failures are
//! never thrown: they come back as result arrays. Exceptions are for mistakes the caller can fix
//! before any request is made.

use ext_php_rs::prelude::*;
use ext_php_rs::zend::ce;

#[php_class]
#[php(name = "Closte\\Exception")]
#[php(extends(ce = ce::exception, stub = "\\Exception"))]
#[derive(Default)]
pub struct ClosteException;
