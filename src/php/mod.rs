//! The thin PHP binding layer: functions, exception classes, INI, phpinfo. Logic lives in the
//! engine-free modules; this layer validates, converts and throws.

mod call;
mod checks;
mod convert;
mod engine;
mod errors;
mod functions;
mod info;
mod ini;
mod jobs;
mod sync;
#[cfg(feature = "test-hooks")]
mod test_hooks;

use ext_php_rs::prelude::*;
use ext_php_rs::zend::IniEntryDef;

pub use errors::{ClosteException, ConfigurationException, InvalidDomainException};

/// MINIT: registers the INI entries. Starts no thread and makes no request (see runtime.rs).
pub fn startup(_ty: i32, module_number: i32) -> i32 {
    IniEntryDef::register(ini::INI_ENTRIES.as_slice(), module_number);
    0
}

/// Everything the module exports. Parent exception classes come before their children.
pub fn build(module: ModuleBuilder) -> ModuleBuilder {
    let module = module
        .class::<ClosteException>()
        .class::<InvalidDomainException>()
        .class::<ConfigurationException>()
        .info_function(info::module_info);
    let module = checks::register(sync::register(jobs::register(functions::register(module))));
    #[cfg(feature = "test-hooks")]
    let module = test_hooks::register(module);
    module
}
