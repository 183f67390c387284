//! The few Zend engine calls that ext-php-rs does not wrap: reading an INI value and a user
//! constant at call time, writing to PHP's error log, and printing INI entries in phpinfo().
//! Every raw pointer in the binding layer lives here.

use std::ffi::{c_char, c_int, CStr, CString};

use ext_php_rs::ffi::{zend_ini_entry, zend_string};
use ext_php_rs::types::Zval;
use ext_php_rs::zend::ModuleEntry;

extern "C" {
    fn zend_ini_string_ex(
        name: *const c_char,
        name_length: usize,
        orig: c_int,
        exists: *mut bool,
    ) -> *mut c_char;
    fn zend_get_constant_str(name: *const c_char, name_len: usize) -> *mut Zval;
    fn display_ini_entries(module: *mut ModuleEntry);
    fn php_log_err_with_severity(log_message: *const c_char, syslog_type_int: c_int);
    fn php_output_write(text: *const c_char, len: usize) -> usize;
}

/// The current value of a registered INI setting (after `ini_set()`), `None` when unknown.
pub fn ini_string(name: &str) -> Option<String> {
    let mut exists = false;
    // SAFETY: name/len describe a valid buffer; the engine returns a pointer into its own
    // NUL-terminated value (or null), which we copy before returning.
    let value = unsafe { zend_ini_string_ex(name.as_ptr().cast(), name.len(), 0, &mut exists) };
    if !exists || value.is_null() {
        return None;
    }
    Some(
        unsafe { CStr::from_ptr(value) }
            .to_string_lossy()
            .into_owned(),
    )
}

/// The value of a user constant as a string (`define('X', ...)` in wp-config.php), read at call
/// time. Non-scalar values count as absent.
pub fn constant_string(name: &str) -> Option<String> {
    // SAFETY: as above; the returned zval is owned by the engine's constant table and is only
    // read here, on the PHP thread, during a call.
    let zval = unsafe { zend_get_constant_str(name.as_ptr().cast(), name.len()) };
    if zval.is_null() {
        return None;
    }
    let zval = unsafe { &*zval };
    if let Some(bytes) = zval.binary_slice::<u8>() {
        return Some(String::from_utf8_lossy(bytes).into_owned());
    }
    if let Some(n) = zval.long() {
        return Some(n.to_string());
    }
    if zval.is_true() {
        return Some("1".to_string());
    }
    None
}

/// A line in PHP's error log (the `error_log` INI setting; stderr for the CLI by default).
pub fn log_error(message: &str) {
    let clean = message.replace('\0', "\\0");
    if let Ok(text) = CString::new(clean) {
        const LOG_WARNING: c_int = 4;
        // SAFETY: a valid NUL-terminated string; the engine copies it.
        unsafe { php_log_err_with_severity(text.as_ptr(), LOG_WARNING) };
    }
}

/// Prints this module's INI table in phpinfo() / `php --ri`.
pub fn print_ini_entries(module: *mut ModuleEntry) {
    unsafe { display_ini_entries(module) };
}

/// The displayer of every secret setting (`SettingSpec::secret`: the key, the proxy URL):
/// phpinfo() shows whether it is set, never the value.
///
/// # Safety
/// Called by the engine with a valid INI entry.
pub unsafe extern "C" fn masked_ini_displayer(entry: *mut zend_ini_entry, kind: c_int) {
    const ZEND_INI_DISPLAY_ORIG: c_int = 1;
    let entry = &*entry;
    let value = if kind == ZEND_INI_DISPLAY_ORIG && entry.modified != 0 {
        entry.orig_value
    } else {
        entry.value
    };
    let set = !value.is_null() && (*value).len > 0;
    let text: &[u8] = if set { b"******** (set)" } else { b"no value" };
    php_output_write(text.as_ptr().cast(), text.len());
}

/// `on_modify` for every closte.* entry: accepts the value (it is validated at call time, where
/// a bad value becomes a `Closte\ConfigurationException` naming the setting). Without a handler
/// the engine refuses `ini_restore()` at runtime.
///
/// # Safety
/// Called by the engine; touches nothing.
pub unsafe extern "C" fn accept_ini_value(
    _entry: *mut zend_ini_entry,
    _new_value: *mut zend_string,
    _mh_arg1: *mut std::ffi::c_void,
    _mh_arg2: *mut std::ffi::c_void,
    _mh_arg3: *mut std::ffi::c_void,
    _stage: c_int,
) -> c_int {
    0 // SUCCESS
}
