//! The `mqbroker` log: the `tracing` subscriber the binary installs, built from the
//! configuration file's logging settings ([`Logging`]), `-v` (mosquitto's `log_type all`) and a
//! `RUST_LOG` filter, which replaces `log_type` and `connection_messages` when set. The
//! destinations (`log_dest`) and the time format apply in every case.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;

use anyhow::Context;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Filter, Layer, SubscriberExt};
use tracing_subscriber::{EnvFilter, Registry};

use crate::broker::logging::{LogDest, LogTypes, Logging};

/// The subscriber for `logging` (the defaults without a file): `verbose` selects every type,
/// `env` (a `RUST_LOG` filter) replaces the selection; `color` allows ANSI colours when the only
/// destination is stderr. Fails when a `log_dest file` cannot be opened.
pub fn subscriber(
    logging: Option<&Logging>,
    verbose: bool,
    env: Option<EnvFilter>,
    color: bool,
) -> anyhow::Result<impl tracing::Subscriber + Send + Sync> {
    let mut logging = logging.cloned().unwrap_or_default();
    if verbose {
        logging.types = LogTypes::ALL;
    }
    let ansi = color && logging.dests == [LogDest::Stderr];
    let writer = Destinations::open(&logging.dests)?;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_target(false);
    let layer: Box<dyn Layer<Registry> + Send + Sync> =
        match (logging.timestamp, logging.timestamp_format.clone()) {
            (false, _) => layer.without_time().boxed(),
            (true, Some(format)) => layer.with_timer(Strftime(format)).boxed(),
            (true, None) => layer.boxed(),
        };
    let filter: Box<dyn Filter<Registry> + Send + Sync> = match env {
        Some(env) => Box::new(env),
        None => Box::new(tracing_subscriber::filter::filter_fn(move |metadata| {
            logging.enabled(metadata)
        })),
    };
    Ok(tracing_subscriber::registry().with(layer.with_filter(filter)))
}

/// `log_timestamp_format`: local time through a strftime format (checked when read).
struct Strftime(String);

impl FormatTime for Strftime {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", chrono::Local::now().format(&self.0))
    }
}

/// Every `log_dest`, each line written to each of them.
struct Destinations {
    stderr: bool,
    stdout: bool,
    file: Option<File>,
}

impl Destinations {
    fn open(dests: &[LogDest]) -> anyhow::Result<Destinations> {
        let file = dests
            .iter()
            .find_map(|d| match d {
                LogDest::File(path) => Some(append(path)),
                _ => None,
            })
            .transpose()?;
        Ok(Destinations {
            stderr: dests.contains(&LogDest::Stderr),
            stdout: dests.contains(&LogDest::Stdout),
            file,
        })
    }
}

fn append(path: &Path) -> anyhow::Result<File> {
    File::options()
        .create(true)
        .append(true)
        .open(path)
        .with_context(|| format!("log_dest file {}: cannot open", path.display()))
}

impl<'a> MakeWriter<'a> for Destinations {
    type Writer = Tee<'a>;

    fn make_writer(&'a self) -> Tee<'a> {
        Tee(self)
    }
}

/// One log line on its way to every destination. A destination that fails to take it does
/// not keep it from the others (as mosquitto, logging never stops the broker).
struct Tee<'a>(&'a Destinations);

impl Write for Tee<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_all(buf)?;
        Ok(buf.len())
    }

    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        let d = self.0;
        if d.stderr {
            let _ = io::stderr().write_all(buf);
        }
        if d.stdout {
            let _ = io::stdout().write_all(buf);
        }
        if let Some(mut file) = d.file.as_ref() {
            let _ = file.write_all(buf);
        }
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}
