//! The decision to stop, passed down instead of read from a global.
//!
//! A [`StopToken`] is handed to an experiment and, through the run
//! context, to every model: they look at it between workers and while
//! waiting, and stop early when it is set. paralab's own token is the one
//! its signal thread sets on a stop signal ([`super::signals::stop_token`]);
//! a test or a library user makes a fresh one and sets it by hand.

use std::sync::Arc;
use std::sync::atomic::{AtomicI32, Ordering};

use nix::sys::signal::Signal;

/// A shared "please stop", with the signal that asked for it.
#[derive(Clone, Debug, Default)]
pub struct StopToken(Arc<AtomicI32>);

impl StopToken {
    /// A token nobody has set.
    pub fn new() -> StopToken {
        StopToken::default()
    }

    /// Asks every holder to stop because of `signal`; returns whether this
    /// was the first request (later ones keep the first signal).
    pub fn request(&self, signal: Signal) -> bool {
        self.0
            .compare_exchange(0, signal as i32, Ordering::SeqCst, Ordering::SeqCst)
            .is_ok()
    }

    /// The signal that asked to stop, if one did.
    pub fn requested(&self) -> Option<Signal> {
        Signal::try_from(self.0.load(Ordering::SeqCst)).ok()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn stop_token_example() {
        use nix::sys::signal::Signal;
        let token = crate::sys::stop::StopToken::new();
        let seen_by_a_model = token.clone();
        assert_eq!(seen_by_a_model.requested(), None);
        token.request(Signal::SIGTERM);
        token.request(Signal::SIGINT); // the first request wins
        assert_eq!(seen_by_a_model.requested(), Some(Signal::SIGTERM));
    }
}
