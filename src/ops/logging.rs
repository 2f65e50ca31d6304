//! Log setup: readable lines by default, JSON lines when configured, always on stderr.
//!
//! `RUST_LOG` wins over `[log] level`, so an operator can turn up one module
//! without editing the config. Only events are formatted, never the
//! environment or the config's secrets: the Discord token is read by the
//! front end straight from `DISCORD_TOKEN` and is in no struct that gets logged.

use std::io::IsTerminal;

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::{LogConfig, LogFormat};

/// Why logging could not be set up.
#[derive(Debug, thiserror::Error)]
pub(crate) enum LoggingError {
    #[error("RUST_LOG is not a valid log filter: {0}")]
    RustLog(String),
    #[error("log.level `{level}` is not a valid log filter: {message}")]
    Level { level: String, message: String },
    #[error("cannot set up logging: {0}")]
    Install(String),
}

/// Installs the global subscriber in the configured format. Fails on an
/// invalid filter or if logging is already set up.
pub(crate) fn init(config: &LogConfig) -> Result<(), LoggingError> {
    let filter = filter(config, std::env::var("RUST_LOG").ok().as_deref())?;
    let format = config.format;
    // Colours only for a person at a terminal, never in files or journald.
    let ansi = std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    let subscriber = subscriber(format, filter, ansi, std::io::stderr);
    tracing::subscriber::set_global_default(subscriber).map_err(|err| LoggingError::Install(err.to_string()))
}

/// The filter: `rust_log` when set and not blank, else `config.level`.
pub(crate) fn filter(config: &LogConfig, rust_log: Option<&str>) -> Result<EnvFilter, LoggingError> {
    match rust_log.map(str::trim).filter(|value| !value.is_empty()) {
        Some(value) => EnvFilter::try_new(value).map_err(|err| LoggingError::RustLog(err.to_string())),
        None => EnvFilter::try_new(&config.level)
            .map_err(|err| LoggingError::Level { level: config.level.clone(), message: err.to_string() }),
    }
}

/// A subscriber writing `format` to `writer`; `init` uses stderr, tests a buffer.
pub(crate) fn subscriber<W>(
    format: LogFormat,
    filter: EnvFilter,
    ansi: bool,
    writer: W,
) -> Box<dyn tracing::Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(writer);
    match format {
        LogFormat::Text => Box::new(builder.finish()),
        // The current span (`question`) goes in each line so its fields are searchable.
        LogFormat::Json => Box::new(builder.json().with_current_span(true).with_span_list(false).finish()),
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    /// An in-memory log sink.
    #[derive(Clone, Debug, Default)]
    struct Buffer(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

    impl Buffer {
        fn contents(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|p| p.into_inner())).into_owned()
        }
    }

    impl Write for Buffer {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap_or_else(|p| p.into_inner()).extend_from_slice(bytes);
            Ok(bytes.len())
        }

        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;

        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    use std::time::Duration;

    use super::*;
    use crate::config::Config;
    use crate::ops::events::{QuestionEvent, Surface, VoteEvent};
    use crate::ops::telemetry::{question_span, Telemetry};

    const SECRET: &str = "MTk4NjIyNDgzNDcxOTI1MjQ4.Cl2FMQ.ZnCjm1XVW7vRze4b7Cq4se7kKWs";

    fn event() -> QuestionEvent {
        QuestionEvent {
            surface: Surface::Slash,
            question: "What is RAG?".into(),
            guild_id: Some(1),
            channel_id: Some(2),
            answered: true,
            offered: false,
            top_unit: Some("faq/what-is-rag".into()),
            score: 0.8,
            latency: Duration::from_micros(420),
        }
    }

    fn capture(format: LogFormat, work: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        let filter = filter(&LogConfig::default(), None).unwrap();
        tracing::subscriber::with_default(subscriber(format, filter, false, buffer.clone()), work);
        buffer.contents()
    }

    #[test]
    fn json_lines_carry_the_question_span_fields() {
        let out = capture(LogFormat::Json, || {
            let span = question_span(Surface::Slash);
            let _entered = span.enter();
            Telemetry::default().question(event());
        });
        let line: serde_json::Value = serde_json::from_str(out.lines().next().expect("one line")).unwrap();
        assert_eq!(line["fields"]["message"], "question");
        assert_eq!(line["fields"]["top_unit"], "faq/what-is-rag");
        assert_eq!(line["span"]["name"], "question");
        assert_eq!(line["span"]["surface"], "slash");
        assert_eq!(line["span"]["answered"], true);
        assert_eq!(line["span"]["latency_us"], 420);
    }

    #[test]
    fn text_format_is_readable_and_omits_question_text() {
        let out = capture(LogFormat::Text, || Telemetry::default().question(event()));
        assert!(out.contains("question") && out.contains("top_unit=\"faq/what-is-rag\""), "{out}");
        assert!(!out.contains("What is RAG?"), "question text must not reach the log: {out}");
        assert!(
            serde_json::from_str::<serde_json::Value>(out.lines().next().unwrap()).is_err(),
            "text format is not JSON"
        );
    }

    #[test]
    fn rust_log_wins_over_the_configured_level() {
        let config = LogConfig { level: "warn".into(), ..LogConfig::default() };
        assert_eq!(filter(&config, Some("debug")).unwrap().to_string(), "debug");
        assert_eq!(filter(&config, Some("  ")).unwrap().to_string(), "warn");
        assert_eq!(filter(&config, None).unwrap().to_string(), "warn");
        assert!(filter(&config, Some("=[bad")).unwrap_err().to_string().starts_with("RUST_LOG"));
    }

    #[test]
    fn the_token_in_the_environment_reaches_neither_config_nor_logs() {
        // The token lives in DISCORD_TOKEN; a misplaced copy under the config prefix must
        // be rejected without echoing its value.
        let vars = vec![("DISCORD_TOKEN".to_string(), SECRET.to_string())];
        let config = Config::from_toml_and_env("", vars.into_iter()).unwrap();
        assert!(!format!("{config:?}").contains(SECRET));
        let misplaced = vec![("TRANSITION_BOT_DISCORD__TOKEN".to_string(), SECRET.to_string())];
        let err = Config::from_toml_and_env("", misplaced.into_iter()).unwrap_err();
        assert!(!format!("{err:#}").contains(SECRET), "{err:#}");
        let out = capture(LogFormat::Json, || {
            let telemetry = Telemetry::default();
            telemetry.question(event());
            telemetry.vote(VoteEvent { unit: "u".into(), helpful: true, guild_id: None, channel_id: None, user_id: 1 });
        });
        assert!(!out.contains(SECRET));
    }
}
