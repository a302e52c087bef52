//! The process-level shutdown signal: Ctrl-C (SIGINT) or SIGTERM, whichever comes first.

use std::future::Future;

/// Starts watching for Ctrl-C (SIGINT) and SIGTERM at once, so a signal that arrives before the
/// returned future is first polled still counts (a broker announces it is ready before it waits
/// for the end); the future completes when one arrives. Call it inside the Tokio runtime.
pub fn signal() -> impl Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, Signal, SignalKind};
        let interrupt = signal(SignalKind::interrupt()).ok();
        let terminate = signal(SignalKind::terminate()).ok();
        async fn arrives(signal: Option<Signal>) {
            match signal {
                Some(mut s) => drop(s.recv().await),
                None => std::future::pending().await,
            }
        }
        async move {
            tokio::select! {
                _ = arrives(interrupt) => {}
                _ = arrives(terminate) => {}
            }
        }
    }
    #[cfg(not(unix))]
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
