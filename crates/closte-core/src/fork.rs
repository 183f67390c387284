//! Process-wide locks across fork(2): the `pthread_atfork` mechanism.
//!
//! PHP forks in two ways: a PHP-FPM master forks its workers, and scripts call `pcntl_fork()`.
//! Runtime threads do not survive a fork, and a lock one of them held at that instant would stay
//! taken in the child for ever (a hang on its next call; seen under a fork storm). So, once the
//! runtime exists, `pthread_atfork` handlers take every process-wide lock of this crate before
//! each fork in the forking thread, and release them in parent and child right after: the child
//! starts with all of them free. Which locks, in which order, is said by the runtime module
//! (`runtime::EveryLock`), which installs the handlers before it starts the first thread; this
//! module knows no lock of its own, so it depends on nothing else in the crate. What lives
//! outside those locks is handled where it lives: the runtime and its client are rebuilt in the
//! child (runtime.rs), the job table's wake-up notifier is replaced (jobs.rs), and the counters
//! are atomics.

use std::any::Any;

/// The process-wide locks a fork must find free.
pub trait ProcessLocks {
    /// Takes every lock, in a fixed order; the guards are dropped in reverse order after the fork.
    fn hold() -> Vec<Box<dyn Any>>;
}

#[cfg(unix)]
mod imp {
    use std::any::Any;
    use std::cell::RefCell;
    use std::sync::Once;

    use super::ProcessLocks;

    thread_local! {
        /// The guards taken by `prepare`, in the forking thread, until `release`.
        static HELD: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
    }

    extern "C" fn prepare<L: ProcessLocks>() {
        // A panic must not unwind into libc: the fork then goes ahead without the guards.
        let _ = std::panic::catch_unwind(|| {
            let guards = L::hold();
            HELD.with(|held| *held.borrow_mut() = guards);
        });
    }

    /// In the parent, and in the child (whose only thread is the one that took the guards).
    extern "C" fn release() {
        let _ = std::panic::catch_unwind(|| {
            HELD.with(|held| {
                // Released in reverse order of taking.
                let mut guards = held.borrow_mut();
                while let Some(guard) = guards.pop() {
                    drop(guard);
                }
            })
        });
    }

    pub fn install_handlers<L: ProcessLocks>() {
        static INSTALLED: Once = Once::new();
        INSTALLED.call_once(|| {
            // SAFETY: the three handlers are plain `extern "C"` functions without arguments
            // that never unwind (catch_unwind) and only lock or unlock this crate's mutexes;
            // pthread_atfork only records them.
            unsafe {
                libc::pthread_atfork(Some(prepare::<L>), Some(release), Some(release));
            }
        });
    }
}

#[cfg(unix)]
pub use imp::install_handlers;

#[cfg(not(unix))]
pub fn install_handlers<L: ProcessLocks>() {}
