//! The `mqbroker` log: the `tracing` subscriber the binary installs, built from the
//! configuration file's logging settings ([`Logging`]), `-v` (mosquitto's `log_type all`) and a
//! `RUST_LOG` filter, which replaces `log_type` and `connection_messages` when set. The
//! destinations (`log_dest`) and the time format apply in every case.

use std::fs::File;
use std::io::{self, Write};
use std::path::Path;
use std::sync::OnceLock;

use anyhow::Context;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::{Layer, Layered, SubscriberExt};
use tracing_subscriber::{reload, EnvFilter, Registry};

use crate::broker::logging::{LogDest, LogTypes, Logging};

/// The filter, a global one: per-layer filters cannot be swapped by a reload.
type FilterLayer = Box<dyn Layer<Registry> + Send + Sync>;
/// The registry under the (reloadable) filter: what the output layer sits on.
type Filtered = Layered<reload::Layer<FilterLayer, Registry>, Registry>;
/// The output layer: destinations and time format.
type OutputLayer = Box<dyn Layer<Filtered> + Send + Sync>;

/// How the running log was set up, to rebuild it on a reload (SIGHUP).
struct Setup {
    filter: reload::Handle<FilterLayer, Registry>,
    output: reload::Handle<OutputLayer, Filtered>,
    verbose: bool,
    color: bool,
}

/// The installed log's setup (the subscriber is process-wide, so is this).
static SETUP: OnceLock<Setup> = OnceLock::new();

/// The subscriber for `logging` (the defaults without a file): `verbose` selects every type,
/// `env` (a `RUST_LOG` filter) replaces the selection; `color` allows ANSI colours when the only
/// destination is stderr. Fails when a `log_dest file` cannot be opened. [`reload`] can later
/// replace the settings of the subscriber built last.
pub fn subscriber(
    logging: Option<&Logging>,
    verbose: bool,
    env: Option<EnvFilter>,
    color: bool,
) -> anyhow::Result<impl tracing::Subscriber + Send + Sync> {
    let logging = effective(logging, verbose);
    let (filter, filter_handle) = reload::Layer::new(filter_layer(&logging, env));
    let (output, output_handle) = reload::Layer::new(output_layer(&logging, color)?);
    let _ = SETUP.set(Setup {
        filter: filter_handle,
        output: output_handle,
        verbose,
        color,
    });
    Ok(tracing_subscriber::registry().with(filter).with(output))
}

/// Applies reloaded logging settings (`RUST_LOG` and `-v` still win); an error (a `log_dest
/// file` that cannot be opened) keeps the running log.
pub fn reload(logging: &Logging) -> anyhow::Result<()> {
    let Some(setup) = SETUP.get() else {
        return Ok(());
    };
    let logging = effective(Some(logging), setup.verbose);
    let output = output_layer(&logging, setup.color)?;
    let env = EnvFilter::try_from_default_env().ok();
    let replaced = setup.output.reload(output);
    replaced
        .and_then(|()| setup.filter.reload(filter_layer(&logging, env)))
        .context("cannot replace the log settings")
}

/// The settings in force: `-v` selects every type.
fn effective(logging: Option<&Logging>, verbose: bool) -> Logging {
    let mut logging = logging.cloned().unwrap_or_default();
    if verbose {
        logging.types = LogTypes::ALL;
    }
    logging
}

/// What is logged: `RUST_LOG` if set, else the `log_type` selection.
fn filter_layer(logging: &Logging, env: Option<EnvFilter>) -> FilterLayer {
    match env {
        Some(env) => env.boxed(),
        None => {
            let logging = logging.clone();
            tracing_subscriber::filter::filter_fn(move |metadata| logging.enabled(metadata)).boxed()
        }
    }
}

/// Where and how it is written: the destinations and the time format.
fn output_layer(logging: &Logging, color: bool) -> anyhow::Result<OutputLayer> {
    let ansi = color && logging.dests == [LogDest::Stderr];
    let writer = Destinations::open(&logging.dests)?;
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(writer)
        .with_ansi(ansi)
        .with_target(false);
    Ok(
        match (logging.timestamp, logging.timestamp_format.clone()) {
            (false, _) => layer.without_time().boxed(),
            (true, Some(format)) => layer.with_timer(Strftime(format)).boxed(),
            (true, None) => layer.boxed(),
        },
    )
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
