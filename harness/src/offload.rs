//! Runs CPU-bound work on the rayon pool so that it never blocks tokio's worker threads.

/// The offloaded closure panicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a crypto task on the rayon pool panicked")]
pub struct OffloadPanicked;

/// Runs `work` on the rayon pool and waits for its result without blocking the async thread.
///
/// # Errors
///
/// Returns [`OffloadPanicked`] when `work` panicked.
pub async fn on_rayon<T, F>(work: F) -> Result<T, OffloadPanicked>
where
    T: Send + 'static,
    F: FnOnce() -> T + Send + 'static,
{
    let (sender, receiver) = tokio::sync::oneshot::channel();
    rayon::spawn(move || {
        // rayon aborts the process when a spawned job panics, so the panic is caught here and
        // becomes an error of this one call.
        let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(work));
        // The receiver is gone only when the waiting task was cancelled; the result is then unused.
        let _ = sender.send(result);
    });
    match receiver.await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(_)) | Err(_) => Err(OffloadPanicked),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn result_comes_back() {
        assert_eq!(on_rayon(|| 6 * 7).await, Ok(42));
    }

    #[tokio::test]
    async fn panic_becomes_error() {
        let result = on_rayon(|| -> u32 { panic!("crypto failure") }).await;
        assert_eq!(result, Err(OffloadPanicked));
    }
}
