//! Writing to stdout without panicking when the reader goes away early
//! (`transition-bot faq | head -3`): a broken pipe becomes an error that
//! `main` turns into a quiet, successful exit.

use std::io::Write;

/// Writes `text` and a newline to stdout.
pub(crate) fn line(text: &str) -> std::io::Result<()> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.write_all(b"\n")
}

/// Whether `error` (or its cause) is a closed stdout.
pub(crate) fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
