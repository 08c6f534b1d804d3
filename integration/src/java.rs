//! The Apache Kafka Java client (4.4) as a live interop peer: Kafka's tools run by main class
//! through `scripts/kafka.sh tool CLASS ARGS...` (e.g. `org.apache.kafka.tools.VerifiableConsumer`),
//! with their stdout read line by line and JSON lines parsed into events.
//!
//! [`Peer`] is not Java-specific: [`Peer::spawn`] runs any command that prints JSON lines (the
//! `rafka verifiable-consumer` CLI prints the same events as the Java tool), so a test can drive
//! Java and rafka members of one group through one type.
//!
//! A JVM needs 2-5 s to start on a loaded 2-core machine (the tools run with a small heap and the
//! C1 compiler only); wait for the tool's first event (e.g. `startup_complete`) with a timeout of
//! tens of seconds, not a fixed sleep. The tools log WARN and above to stderr, which goes to a
//! file ([`Peer::stderr`]) so that a failing test can show it.

use std::ffi::OsStr;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{channel, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};
pub use serde_json::Value;

use crate::env::repo_root;

/// A running (or finished) process whose stdout is read as JSON lines.
#[derive(Debug)]
pub struct Peer {
    name: String,
    child: Option<Child>,
    status: Option<ExitStatus>,
    rx: Receiver<String>,
    eof: bool,
    lines: Vec<String>,
    events: Vec<Value>,
    /// Index in `events` of the first event [`Peer::next_event`] has not returned yet.
    cursor: usize,
    stderr_path: PathBuf,
}

impl Peer {
    /// Starts a Kafka tool by main class: `bash scripts/kafka.sh tool CLASS ARGS...` (which
    /// `exec`s the JVM, so the child's pid is the JVM's and signals reach it directly).
    ///
    /// # Errors
    /// When the process cannot be spawned.
    pub fn java<S: AsRef<OsStr>>(class: &str, args: &[S]) -> anyhow::Result<Peer> {
        let short = class.rsplit('.').next().unwrap_or(class);
        let mut cmd = Command::new("bash");
        cmd.arg(repo_root().join("scripts/kafka.sh"))
            .arg("tool")
            .arg(class)
            .args(args);
        Peer::spawn(short, cmd)
    }

    /// Starts `cmd` with stdin closed, stdout read by a thread and stderr written to a file
    /// under the temp dir. `name` labels the peer in messages.
    ///
    /// # Errors
    /// When the process cannot be spawned.
    pub fn spawn(name: &str, mut cmd: Command) -> anyhow::Result<Peer> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let stderr_path =
            std::env::temp_dir().join(format!("rafka-peer-{}-{n}-{name}.log", std::process::id()));
        let stderr = std::fs::File::create(&stderr_path)
            .with_context(|| format!("creating {}", stderr_path.display()))?;
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr)
            .spawn()
            .with_context(|| format!("spawning {name}: {cmd:?}"))?;
        let stdout = child.stdout.take().context("stdout is piped")?;
        let (tx, rx) = channel();
        // An unread pipe fills up and blocks the tool, so a thread reads it as it comes.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Ok(Peer {
            name: format!("{name}#{n}"),
            child: Some(child),
            status: None,
            rx,
            eof: false,
            lines: Vec::new(),
            events: Vec::new(),
            cursor: 0,
            stderr_path,
        })
    }

    /// The label given at spawn, with a sequence number.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id while it has not been reaped.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(Child::id)
    }

    fn take(&mut self, line: String) {
        if let Ok(v @ Value::Object(_)) = serde_json::from_str::<Value>(line.trim()) {
            self.events.push(v);
        }
        self.lines.push(line);
    }

    /// Reads what stdout has delivered so far without blocking; returns true when anything came.
    pub fn drain(&mut self) -> bool {
        let mut any = false;
        loop {
            match self.rx.try_recv() {
                Ok(line) => {
                    self.take(line);
                    any = true;
                }
                Err(std::sync::mpsc::TryRecvError::Empty) => return any,
                Err(std::sync::mpsc::TryRecvError::Disconnected) => {
                    self.eof = true;
                    return any;
                }
            }
        }
    }

    /// Waits up to `timeout` for one more stdout line; false on timeout or end of output.
    fn read_line(&mut self, timeout: Duration) -> bool {
        if self.eof {
            return false;
        }
        match self.rx.recv_timeout(timeout) {
            Ok(line) => {
                self.take(line);
                true
            }
            Err(RecvTimeoutError::Timeout) => false,
            Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                false
            }
        }
    }

    /// The next event not returned before, waiting up to `timeout`; `None` on timeout or when
    /// stdout ended.
    pub fn next_event(&mut self, timeout: Duration) -> Option<Value> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(e) = self.events.get(self.cursor) {
                self.cursor += 1;
                return Some(e.clone());
            }
            let left = deadline.checked_duration_since(Instant::now())?;
            if !self.read_line(left) && (self.eof || Instant::now() >= deadline) {
                return None;
            }
        }
    }

    /// Reads until an event with `"name": name` arrives (it may already have) and returns it.
    ///
    /// # Errors
    /// When none arrives within `timeout` or stdout ends first (the error carries the output
    /// and the end of stderr).
    pub fn wait_for(&mut self, name: &str, timeout: Duration) -> anyhow::Result<Value> {
        self.wait_until(timeout, |e| event_name(e) == name)
            .with_context(|| format!("waiting for {name}"))
    }

    /// Reads until an event satisfying `pred` arrives (searching every event read so far
    /// first) and returns it.
    ///
    /// # Errors
    /// As [`Peer::wait_for`].
    pub fn wait_until(
        &mut self,
        timeout: Duration,
        pred: impl Fn(&Value) -> bool,
    ) -> anyhow::Result<Value> {
        let deadline = Instant::now() + timeout;
        let mut checked = 0;
        loop {
            if let Some(e) = self.events[checked..].iter().find(|e| pred(e)) {
                return Ok(e.clone());
            }
            checked = self.events.len();
            let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                bail!(
                    "{}: no such event within {timeout:?}\n{}",
                    self.name,
                    self.report()
                );
            };
            if !self.read_line(left.min(Duration::from_millis(200))) && self.eof {
                bail!(
                    "{}: output ended without such an event\n{}",
                    self.name,
                    self.report()
                );
            }
        }
    }

    /// Every JSON object printed so far (call [`Peer::drain`] first to include the newest).
    pub fn events(&self) -> &[Value] {
        &self.events
    }

    /// The events named `name` printed so far.
    pub fn events_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Value> + 'a {
        self.events.iter().filter(move |e| event_name(e) == name)
    }

    /// Every stdout line so far, JSON or not.
    pub fn lines(&self) -> &[String] {
        &self.lines
    }

    /// What the process wrote to stderr so far.
    pub fn stderr(&self) -> String {
        std::fs::read_to_string(&self.stderr_path).unwrap_or_default()
    }

    /// The last stdout lines and stderr, for failure messages.
    pub fn report(&self) -> String {
        let from = self.lines.len().saturating_sub(20);
        let stderr = self.stderr();
        let tail: Vec<&str> = stderr.lines().rev().take(40).collect();
        format!(
            "--- {} stdout (last {} of {} lines) ---\n{}\n--- stderr (last lines) ---\n{}",
            self.name,
            self.lines.len() - from,
            self.lines.len(),
            self.lines[from..].join("\n"),
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        )
    }

    /// Sends `signal` (e.g. `"TERM"`, `"KILL"`) to the process if it still runs.
    ///
    /// # Errors
    /// When `kill` cannot be run.
    pub fn signal(&mut self, signal: &str) -> anyhow::Result<()> {
        if self.try_status().is_some() {
            return Ok(());
        }
        if let Some(pid) = self.pid() {
            Command::new("kill")
                .arg(format!("-{signal}"))
                .arg(pid.to_string())
                .status()
                .context("running kill")?;
        }
        Ok(())
    }

    fn try_status(&mut self) -> Option<ExitStatus> {
        if self.status.is_none() {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(s)) = child.try_wait() {
                    self.status = Some(s);
                }
            }
        }
        self.status
    }

    /// True while the process has not exited.
    pub fn running(&mut self) -> bool {
        self.try_status().is_none()
    }

    /// Waits up to `timeout` for the process to exit by itself, reading its output meanwhile,
    /// then reads the rest of stdout.
    ///
    /// # Errors
    /// When it is still running after `timeout` (it is left running).
    pub fn wait(&mut self, timeout: Duration) -> anyhow::Result<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(s) = self.try_status() {
                // The reader thread ends at EOF; everything printed is in the channel.
                while self.read_line(Duration::from_secs(5)) {}
                return Ok(s);
            }
            if Instant::now() >= deadline {
                bail!(
                    "{} still running after {timeout:?}\n{}",
                    self.name,
                    self.report()
                );
            }
            self.read_line(Duration::from_millis(100));
        }
    }

    /// SIGTERM (a clean shutdown: the Java tools' shutdown hooks close their clients), then
    /// SIGKILL if the process has not exited after `grace`. Returns the exit status and whether
    /// it exited by itself within `grace`.
    ///
    /// # Errors
    /// When signalling or waiting fails.
    pub fn terminate(&mut self, grace: Duration) -> anyhow::Result<(ExitStatus, bool)> {
        self.signal("TERM")?;
        match self.wait(grace) {
            Ok(s) => Ok((s, true)),
            Err(_) => Ok((self.kill()?, false)),
        }
    }

    /// SIGKILL, then waits for the exit and reads the rest of stdout.
    ///
    /// # Errors
    /// When signalling or waiting fails.
    pub fn kill(&mut self) -> anyhow::Result<ExitStatus> {
        self.signal("KILL")?;
        self.wait(Duration::from_secs(30))
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            if self.status.is_none() {
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }
}

/// The `"name"` field of a verifiable-tool event (`""` when missing).
pub fn event_name(e: &Value) -> &str {
    e.get("name").and_then(Value::as_str).unwrap_or_default()
}

/// `e[key]` as an i64 (`None` when missing or not an integer).
pub fn int(e: &Value, key: &str) -> Option<i64> {
    e.get(key).and_then(Value::as_i64)
}

/// `e[key]` as a string (`None` when missing, null or not a string).
pub fn string<'a>(e: &'a Value, key: &str) -> Option<&'a str> {
    e.get(key).and_then(Value::as_str)
}

/// The partition numbers of a `partitions_assigned` / `partitions_revoked` event.
pub fn partitions(e: &Value) -> Vec<i32> {
    e.get("partitions")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| int(p, "partition"))
                .map(|p| p as i32)
                .collect()
        })
        .unwrap_or_default()
}

/// Writes a Java properties file (`key=value` lines) under the temp dir and returns its path,
/// for a tool's `--command-config` / `--consumer.config`.
///
/// # Errors
/// When the file cannot be written.
pub fn properties_file(prefix: &str, entries: &[(&str, &str)]) -> anyhow::Result<PathBuf> {
    let path = std::env::temp_dir().join(format!("{}.properties", crate::unique_name(prefix)));
    let text: String = entries.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
    std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_json_lines_and_keeps_other_lines() {
        let mut cmd = Command::new("sh");
        cmd.arg("-c").arg(
            r#"echo '{"name":"startup_complete","timestamp":1}'; echo plain; echo '{"name":"records_consumed","count":2,"partitions":[{"topic":"t","partition":1}]}'; echo oops >&2"#,
        );
        let mut peer = Peer::spawn("sh", cmd).unwrap();
        let e = peer
            .wait_for("records_consumed", Duration::from_secs(10))
            .unwrap();
        assert_eq!(int(&e, "count"), Some(2));
        assert_eq!(partitions(&e), vec![1]);
        assert!(peer.wait(Duration::from_secs(10)).unwrap().success());
        assert_eq!(peer.lines().len(), 3);
        assert_eq!(peer.events().len(), 2);
        assert_eq!(
            peer.next_event(Duration::ZERO).as_ref().map(event_name),
            Some("startup_complete")
        );
        assert!(peer.stderr().contains("oops"));
        assert!(peer.wait_for("never", Duration::from_secs(1)).is_err());
    }

    #[test]
    fn terminate_falls_back_to_sigkill() {
        let mut cmd = Command::new("sh");
        cmd.arg("-c")
            .arg("trap '' TERM; echo '{\"name\":\"up\"}'; while true; do sleep 1; done");
        let mut peer = Peer::spawn("sh", cmd).unwrap();
        peer.wait_for("up", Duration::from_secs(10)).unwrap();
        let (status, clean) = peer.terminate(Duration::from_millis(500)).unwrap();
        assert!(!clean);
        assert!(!status.success());
        assert!(!peer.running());
    }
}
