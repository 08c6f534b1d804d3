//! The orchestrator's side of the member processes: spawn `rafka demo-member`, read their event
//! lines, SIGKILL one, SIGTERM the rest at the end.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::Context;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio::sync::mpsc;

use super::protocol::MemberEvent;
use crate::args::GroupProtocol;

/// What the reader task of one member reports.
#[derive(Debug)]
pub enum MemberUpdate {
    /// A parsed event line.
    Event(MemberEvent),
    /// Its stdout closed: the process exited or was killed.
    Closed,
}

/// How to start a member (everything but its name).
#[derive(Debug, Clone)]
pub struct MemberSpec {
    /// The `rafka` executable (normally the running one).
    pub exe: PathBuf,
    /// Bootstrap brokers.
    pub bootstrap: String,
    /// Demo topic.
    pub topic: String,
    /// Group id.
    pub group_id: String,
    /// SQLite database.
    pub db: PathBuf,
    /// Session timeout, ms.
    pub session_timeout_ms: u64,
    /// Folder for the members' stderr logs.
    pub log_dir: PathBuf,
    /// Records per second per member (0: unlimited).
    pub max_rate: u64,
    /// `group.protocol` of the members.
    pub group_protocol: GroupProtocol,
    /// `group.remote.assignor` with the consumer protocol.
    pub group_remote_assignor: Option<String>,
}

/// The running member processes.
#[derive(Debug)]
pub struct Members {
    spec: MemberSpec,
    children: BTreeMap<String, Child>,
    started: usize,
    tx: mpsc::UnboundedSender<(String, MemberUpdate)>,
}

impl Members {
    /// No members yet; updates of all future members arrive on the returned receiver.
    pub fn new(spec: MemberSpec) -> (Self, mpsc::UnboundedReceiver<(String, MemberUpdate)>) {
        let (tx, rx) = mpsc::unbounded_channel();
        (
            Members {
                spec,
                children: BTreeMap::new(),
                started: 0,
                tx,
            },
            rx,
        )
    }

    /// Starts the next member (`member-1`, `member-2`, ...) and returns its name.
    ///
    /// # Errors
    /// When the process cannot be spawned.
    pub fn spawn(&mut self) -> anyhow::Result<String> {
        self.started += 1;
        let name = format!("member-{}", self.started);
        let log_path = self.spec.log_dir.join(format!("{name}.log"));
        let log = std::fs::File::create(&log_path)
            .with_context(|| format!("cannot create {}", log_path.display()))?;
        let mut command = Command::new(&self.spec.exe);
        command.arg("demo-member");
        if self.spec.group_protocol == GroupProtocol::Consumer {
            command.args(["--group-protocol", "consumer"]);
            if let Some(assignor) = &self.spec.group_remote_assignor {
                command.args(["--group-remote-assignor", assignor]);
            }
        }
        let mut child = command
            .args(["--bootstrap-server", &self.spec.bootstrap])
            .args(["--topic", &self.spec.topic])
            .args(["--group-id", &self.spec.group_id])
            .arg("--db")
            .arg(&self.spec.db)
            .args(["--name", &name])
            .args([
                "--session-timeout",
                &self.spec.session_timeout_ms.to_string(),
            ])
            .args(["--max-rate", &self.spec.max_rate.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("cannot start {}", self.spec.exe.display()))?;
        let stdout = child.stdout.take().context("member stdout not captured")?;
        let tx = self.tx.clone();
        let reader_name = name.clone();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stdout).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(event) = MemberEvent::parse(&line) {
                    if tx
                        .send((reader_name.clone(), MemberUpdate::Event(event)))
                        .is_err()
                    {
                        return;
                    }
                }
            }
            let _ = tx.send((reader_name, MemberUpdate::Closed));
        });
        self.children.insert(name.clone(), child);
        Ok(name)
    }

    /// How members are started.
    pub fn spec(&self) -> &MemberSpec {
        &self.spec
    }

    /// Names of the members still running (or not yet reaped).
    pub fn names(&self) -> Vec<String> {
        self.children.keys().cloned().collect()
    }

    /// SIGKILLs `name` (no chance to leave the group or commit) and reaps it.
    pub async fn kill(&mut self, name: &str) {
        if let Some(mut child) = self.children.remove(name) {
            if let Some(pid) = child.id() {
                crate::process::signal(pid, libc::SIGKILL);
            }
            let _ = child.wait().await;
        }
    }

    /// Forgets a member whose process already exited.
    pub async fn reap(&mut self, name: &str) -> Option<std::process::ExitStatus> {
        let mut child = self.children.remove(name)?;
        child.wait().await.ok()
    }

    /// SIGTERMs every member (they leave the group cleanly) and waits up to `grace` for each,
    /// then SIGKILLs stragglers. Returns the names that did not exit cleanly.
    pub async fn stop_all(&mut self, grace: Duration) -> Vec<String> {
        for child in self.children.values() {
            if let Some(pid) = child.id() {
                crate::process::signal(pid, libc::SIGTERM);
            }
        }
        let mut unclean = Vec::new();
        for (name, mut child) in std::mem::take(&mut self.children) {
            match tokio::time::timeout(grace, child.wait()).await {
                Ok(Ok(status)) if status.success() => {}
                _ => {
                    if let Some(pid) = child.id() {
                        crate::process::signal(pid, libc::SIGKILL);
                    }
                    let _ = child.wait().await;
                    unclean.push(name);
                }
            }
        }
        unclean
    }
}
