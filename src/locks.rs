//! Locks that a contained panic does not break for good.
//!
//! A panic while a `Mutex` is held poisons it, and std then refuses every
//! later `lock()`: the path that takes it fails (or, written as `if let
//! Ok(..)`, silently does nothing) until the process restarts, though the
//! engine contained the panic and went on. These take the lock back and
//! clear the poison:
//!
//! - [`relock`] where every change under the lock leaves the data whole
//!   (a flag set, a map insert, a queue push or pop, a bit flipped): what
//!   a panic interrupted is the holder's own work, not the data.
//! - [`relock_reset`] where a change may be cut half-way (a connection in
//!   the middle of a command): the data is first reset to a state that is
//!   known to be good (no connection: the next user makes a fresh one).

use std::sync::{Mutex, MutexGuard};

/// Locks `mutex`; when a panic poisoned it, takes it back as it is (its
/// data is whole whatever the panic cut short) and clears the poison.
pub fn relock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| {
        tracing::warn!("a lock poisoned by an earlier panic was taken back");
        mutex.clear_poison();
        poisoned.into_inner()
    })
}

/// Locks `mutex`; when a panic poisoned it, `reset` puts its data back in
/// a known good state first (a change cut half-way may have left it
/// wrong), and the poison is cleared.
pub fn relock_reset<T>(mutex: &Mutex<T>, reset: impl FnOnce(&mut T)) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(|poisoned| {
        tracing::warn!("a lock poisoned by an earlier panic was taken back, its state reset");
        mutex.clear_poison();
        let mut guard = poisoned.into_inner();
        reset(&mut guard);
        guard
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn poison(mutex: &Mutex<Vec<u32>>) {
        let panicked = std::thread::scope(|s| {
            s.spawn(|| {
                let mut held = mutex.lock().expect("not poisoned yet");
                held.push(2);
                panic!("a bug met while the lock was held");
            })
            .join()
        });
        assert!(panicked.is_err() && mutex.is_poisoned());
    }

    #[test]
    fn a_poisoned_lock_is_taken_back_whole_or_reset() {
        let mutex = Mutex::new(vec![1]);
        poison(&mutex);
        assert_eq!(*relock(&mutex), [1, 2]);
        assert!(!mutex.is_poisoned());
        poison(&mutex);
        assert!(relock_reset(&mutex, |v| v.clear()).is_empty());
        assert!(!mutex.is_poisoned());
        // Not poisoned: nothing is reset.
        mutex.lock().unwrap().push(7);
        assert_eq!(*relock_reset(&mutex, |v| v.clear()), [7]);
    }
}
