//! Logging to stderr: one line per request, level from `RUST_LOG` (default `info`), as
//! compact text or, with `KEYHOLD_LOG_FORMAT=json`, one JSON object per line for log
//! shippers. Security events are lines of target `keyhold::audit`.

use tracing_subscriber::{fmt, EnvFilter};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

impl LogFormat {
    /// `text` or `json` (any case).
    pub fn parse(text: &str) -> Option<Self> {
        match text.trim().to_ascii_lowercase().as_str() {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            _ => None,
        }
    }

    /// The format `KEYHOLD_LOG_FORMAT` asks for (text when unset or invalid: the
    /// configuration then refuses to start and says why).
    pub fn from_env() -> Self {
        std::env::var("KEYHOLD_LOG_FORMAT")
            .ok()
            .and_then(|text| Self::parse(&text))
            .unwrap_or(Self::Text)
    }
}

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    // A second call (tests) keeps the first subscriber.
    let _ = match format {
        LogFormat::Text => builder.with_target(false).compact().try_init(),
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init(),
    };
}
