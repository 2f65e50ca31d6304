//! Writing to stdout without panicking when the reader goes away early
//! (`transition-bot faq | head -3`): a broken pipe becomes an error that
//! `main` turns into a quiet, successful exit. And the one line an error
//! becomes on stderr.

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

/// `error` and its causes on one line, as `{:#}` joins them, each message
/// once: some errors (serenity's JSON error) display their source and also
/// return it from `source()`, which `{:#}` would print twice in a row.
pub(crate) fn error_line(error: &anyhow::Error) -> String {
    let mut messages: Vec<String> = Vec::new();
    for cause in error.chain() {
        let message = cause.to_string().replace('\n', " ");
        if messages.last() != Some(&message) {
            messages.push(message);
        }
    }
    messages.join(": ")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Displays its source, as `serenity::Error::Json` does, and returns it.
    #[derive(Debug)]
    struct Echoing(std::io::Error);

    impl std::fmt::Display for Echoing {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            self.0.fmt(f)
        }
    }

    impl std::error::Error for Echoing {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn an_error_line_names_each_cause_once() {
        let cause = Echoing(std::io::Error::other("invalid type: map,\nexpected a sequence"));
        let error = anyhow::Error::new(cause).context("cannot register").context("setup failed");
        assert_eq!(error_line(&error), "setup failed: cannot register: invalid type: map, expected a sequence");
    }
}
