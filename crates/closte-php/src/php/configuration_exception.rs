//! `Closte\ConfigurationException`: no API key, or a setting that cannot be used. Thrown before
//! any network call; the message names the constant or INI setting, never the key's value.

use ext_php_rs::prelude::*;

use super::exception::ClosteException;

#[php_class]
#[php(name = "Closte\\ConfigurationException")]
#[php(extends(ClosteException))]
#[derive(Default)]
pub struct ConfigurationException;
