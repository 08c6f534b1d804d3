//! Progress on stderr: an indicatif bar when stderr is a terminal, otherwise a plain line every
//! few seconds (logs and CI output stay readable), or nothing for short runs.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How often the plain-line mode prints.
const LINE_INTERVAL: Duration = Duration::from_secs(2);

/// A progress reporter for a count of records.
#[derive(Debug)]
pub enum Progress {
    /// An indicatif bar (stderr is a terminal).
    Bar(ProgressBar),
    /// Periodic `label: n/total` lines.
    Lines {
        /// What is being counted.
        label: String,
        /// Expected total, if known.
        total: Option<u64>,
        /// Current count.
        position: u64,
        /// When the last line was printed.
        last_print: Instant,
        /// When counting started (for the rate).
        started: Instant,
    },
    /// Silent.
    Hidden,
}

impl Progress {
    /// A bar on a terminal, periodic lines otherwise.
    pub fn new(label: &str, total: Option<u64>) -> Self {
        if std::io::stderr().is_terminal() {
            let bar = match total {
                Some(n) => ProgressBar::new(n),
                None => ProgressBar::new_spinner(),
            };
            let template = if total.is_some() {
                "{prefix:>10} [{elapsed_precise}] {wide_bar} {human_pos}/{human_len} ({per_sec})"
            } else {
                "{prefix:>10} [{elapsed_precise}] {spinner} {human_pos} ({per_sec})"
            };
            if let Ok(style) = ProgressStyle::with_template(template) {
                bar.set_style(style);
            }
            bar.set_prefix(label.to_string());
            bar.enable_steady_tick(Duration::from_millis(200));
            Progress::Bar(bar)
        } else {
            Progress::Lines {
                label: label.to_string(),
                total,
                position: 0,
                last_print: Instant::now(),
                started: Instant::now(),
            }
        }
    }

    /// Only shows a bar on a terminal; silent otherwise (for interactive-only niceties such as
    /// `rafka produce`, whose summary line is printed anyway).
    pub fn terminal_only(label: &str, total: Option<u64>) -> Self {
        if std::io::stderr().is_terminal() {
            Self::new(label, total)
        } else {
            Progress::Hidden
        }
    }

    /// Sets the absolute count.
    pub fn set(&mut self, n: u64) {
        match self {
            Progress::Bar(bar) => bar.set_position(n),
            Progress::Lines { position, .. } => {
                *position = n;
                self.maybe_print();
            }
            Progress::Hidden => {}
        }
    }

    /// Adds to the count.
    pub fn inc(&mut self, delta: u64) {
        match self {
            Progress::Bar(bar) => bar.inc(delta),
            Progress::Lines { position, .. } => {
                *position += delta;
                self.maybe_print();
            }
            Progress::Hidden => {}
        }
    }

    /// Prints a message above the bar (or as a plain line).
    pub fn println(&self, msg: &str) {
        match self {
            Progress::Bar(bar) => bar.println(msg),
            _ => eprintln!("{msg}"),
        }
    }

    /// Removes the bar.
    pub fn finish(&self) {
        if let Progress::Bar(bar) = self {
            bar.finish_and_clear();
        }
    }

    fn maybe_print(&mut self) {
        if let Progress::Lines {
            label,
            total,
            position,
            last_print,
            started,
        } = self
        {
            if last_print.elapsed() < LINE_INTERVAL {
                return;
            }
            *last_print = Instant::now();
            let secs = started.elapsed().as_secs_f64().max(1e-3);
            let rate = *position as f64 / secs;
            match total {
                Some(t) => eprintln!("{label}: {position}/{t} ({rate:.0}/s)"),
                None => eprintln!("{label}: {position} ({rate:.0}/s)"),
            }
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.finish();
    }
}
