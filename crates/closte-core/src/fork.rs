//! Process-wide locks across fork(2).
//!
//! PHP forks in two ways: a PHP-FPM master forks its workers, and scripts call `pcntl_fork()`.
//! Runtime threads do not survive a fork, and a lock one of them held at that instant would stay
//! taken in the child for ever (a hang on its next call; seen under a fork storm). So, once the
//! runtime exists, `pthread_atfork` handlers take every process-wide lock of this crate before
//! each fork (the job table, the SSL-endpoint cache, the runtime accessor) in the forking
//! thread, and release them in parent and child right after: the child starts with all of them
//! free. What lives outside those locks is handled where it lives: the runtime and its client
//! are rebuilt in the child (runtime.rs), the job table's wake-up notifier is replaced
//! (jobs.rs), and the counters are atomics.
//!
//! Lock order in `prepare`: job table, SSL cache, runtime accessor. No code path holds one of
//! them while taking another, so this order cannot deadlock with a runtime thread.

#[cfg(unix)]
mod imp {
    use std::any::Any;
    use std::cell::RefCell;
    use std::sync::Once;

    thread_local! {
        /// The guards taken by `prepare`, in the forking thread, until `release`.
        static HELD: RefCell<Vec<Box<dyn Any>>> = const { RefCell::new(Vec::new()) };
    }

    extern "C" fn prepare() {
        // A panic must not unwind into libc: the fork then goes ahead without the guards.
        let _ = std::panic::catch_unwind(|| {
            let guards = vec![
                crate::jobs::hold_for_fork(),
                crate::client::ssl_cache::hold_for_fork(),
                crate::runtime::hold_for_fork(),
            ];
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

    pub fn install_handlers() {
        static INSTALLED: Once = Once::new();
        INSTALLED.call_once(|| {
            // SAFETY: the three handlers are plain `extern "C"` functions without arguments
            // that never unwind (catch_unwind) and only lock or unlock this crate's mutexes;
            // pthread_atfork only records them.
            unsafe {
                libc::pthread_atfork(Some(prepare), Some(release), Some(release));
            }
        });
    }
}

#[cfg(unix)]
pub use imp::install_handlers;

#[cfg(not(unix))]
pub fn install_handlers() {}

// `cfg(test)` on its own line: cargo-mutants skips what it marks, and mutated this module
// under `cfg(all(test, unix))`.
#[cfg(test)]
#[cfg(unix)]
mod tests {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    /// Takes every lock the handlers must cover, as a runtime thread would.
    fn hold_all() -> Vec<Box<dyn std::any::Any>> {
        vec![
            crate::jobs::hold_for_fork(),
            crate::client::ssl_cache::hold_for_fork(),
            crate::runtime::hold_for_fork(),
        ]
    }

    #[test]
    fn a_child_forked_while_another_thread_holds_the_locks_finds_them_free() {
        super::install_handlers();
        let stop = Arc::new(AtomicBool::new(false));
        let holder = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let guards = hold_all();
                    std::thread::sleep(Duration::from_millis(2));
                    drop(guards);
                    std::thread::yield_now();
                }
            })
        };
        let mut hung = 0;
        for _ in 0..20 {
            if hung > 0 {
                break; // one is proof enough
            }
            // SAFETY: the child only takes and drops this crate's mutexes (which the handlers
            // left free) and leaves with _exit, running nothing else of the test harness.
            let pid = unsafe { libc::fork() };
            assert!(pid >= 0, "fork failed");
            if pid == 0 {
                drop(hold_all());
                // SAFETY: ends the child at once, without the parent's atexit work.
                unsafe { libc::_exit(0) };
            }
            let deadline = Instant::now() + Duration::from_secs(3);
            let mut status = 0;
            loop {
                // SAFETY: waits for our own child; status is a valid out pointer.
                let done = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
                if done == pid {
                    break;
                }
                if Instant::now() > deadline {
                    // SAFETY: kills and reaps our own hung child.
                    unsafe {
                        libc::kill(pid, libc::SIGKILL);
                        libc::waitpid(pid, &mut status, 0);
                    }
                    hung += 1;
                    break;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
        }
        stop.store(true, Ordering::Relaxed);
        holder.join().unwrap();
        assert_eq!(hung, 0, "children that found a lock taken for ever");
    }
}
