//! systemd notifications (`READY=1`, `WATCHDOG=1`, ...); nothing outside systemd.

use sd_notify::NotifyState;

pub(super) fn notify(states: &[NotifyState]) {
    // Outside systemd NOTIFY_SOCKET is unset and this does nothing.
    if let Err(e) = sd_notify::notify(states) {
        tracing::debug!("sd_notify: {e}");
    }
}

pub(super) fn monotonic() -> NotifyState<'static> {
    NotifyState::monotonic_usec_now().unwrap_or(NotifyState::Custom(""))
}
