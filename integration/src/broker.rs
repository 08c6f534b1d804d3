//! [`TestBroker`]: a private Tansu broker per test, with memory storage, on a free loopback port.
//!
//! Tansu is a single process that answers as node 111 and leads every partition (see
//! `docs/brokers.md`). A private broker lets a test restart or kill it without disturbing others;
//! tests that only produce and consume can use [`shared_broker_addr`] instead.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::thread::sleep;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::env::{repo_root, BROKERS, TANSU_BIN};

/// How long a starting broker may take to answer ApiVersions (it usually takes about 0.2 s).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The shared broker `scripts/test.sh` starts (`RAFKA_TEST_BROKERS`, e.g. `127.0.0.1:19092`),
/// or `None` when the variable is unset.
pub fn shared_broker_addr() -> Option<String> {
    std::env::var(BROKERS).ok().filter(|v| !v.is_empty())
}

/// The Tansu binary: `$TANSU_BIN`, else `<repo>/.tansu/bin/tansu`, else whatever
/// `scripts/tansu.sh install` installs (downloaded once per test process).
///
/// # Errors
/// When `$TANSU_BIN` is not a file or the install script fails.
pub fn tansu_bin() -> anyhow::Result<PathBuf> {
    static BIN: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    BIN.get_or_init(|| find_or_install_tansu().map_err(|e| format!("{e:#}")))
        .clone()
        .map_err(anyhow::Error::msg)
}

fn find_or_install_tansu() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os(TANSU_BIN).filter(|v| !v.is_empty()) {
        let bin = PathBuf::from(bin);
        if !bin.is_file() {
            bail!("TANSU_BIN={} is not a file", bin.display());
        }
        return Ok(bin);
    }
    let local = repo_root().join(".tansu/bin/tansu");
    if local.is_file() {
        return Ok(local);
    }
    let script = repo_root().join("scripts/tansu.sh");
    let status = Command::new("bash")
        .arg(&script)
        .arg("install")
        .status()
        .with_context(|| format!("running {}", script.display()))?;
    if !status.success() || !local.is_file() {
        bail!("{} install failed ({status})", script.display());
    }
    Ok(local)
}

/// A private Tansu broker (memory storage) on `127.0.0.1:<free port>`, killed on drop.
#[derive(Debug)]
pub struct TestBroker {
    bin: PathBuf,
    port: u16,
    log_path: PathBuf,
    child: Option<Child>,
}

impl TestBroker {
    /// Starts a broker on a free loopback port and waits until it answers ApiVersions.
    ///
    /// # Errors
    /// When the binary cannot be found or installed, the process cannot be spawned, or it does
    /// not answer within 30 s (the error carries the end of its log).
    pub fn start() -> anyhow::Result<TestBroker> {
        let bin = tansu_bin()?;
        // Several attempts: another process may take the port between probe and bind.
        let mut last_err = None;
        for _ in 0..3 {
            let port = free_port()?;
            let mut broker = TestBroker {
                log_path: std::env::temp_dir().join(format!("rafka-tansu-{port}.log")),
                bin: bin.clone(),
                port,
                child: None,
            };
            match broker.spawn() {
                Ok(()) => return Ok(broker),
                Err(e) => last_err = Some(e),
            }
        }
        Err(last_err.unwrap_or_else(|| anyhow::anyhow!("could not start tansu")))
    }

    /// `"127.0.0.1:PORT"`, the bootstrap address.
    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The loopback port the broker listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Where the broker's stdout and stderr go.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }

    /// Kills the broker and starts a new one on the same port, then waits until it answers.
    /// Memory storage means all topics and records are gone afterwards. Connections open at the
    /// time are cut, which is how tests lose a connection mid-request.
    ///
    /// # Errors
    /// As [`TestBroker::start`]; it also retries binding for a few seconds.
    pub fn restart(&mut self) -> anyhow::Result<()> {
        self.kill();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match self.spawn() {
                Ok(()) => return Ok(()),
                Err(e) if Instant::now() >= deadline => return Err(e),
                Err(_) => sleep(Duration::from_millis(200)),
            }
        }
    }

    /// Kills the broker (SIGKILL) and waits for it to exit. Idempotent.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// True while the broker process runs.
    pub fn is_running(&mut self) -> bool {
        matches!(self.child.as_mut().map(|c| c.try_wait()), Some(Ok(None)))
    }

    /// Creates `name` with `partitions` partitions through `tansu topic create`.
    ///
    /// # Errors
    /// When the CLI exits unsuccessfully (for example the topic exists); the error carries its
    /// output.
    pub fn create_topic(&self, name: &str, partitions: i32) -> anyhow::Result<()> {
        create_topic_at(&self.bin, &self.addr(), name, partitions)
    }

    fn spawn(&mut self) -> anyhow::Result<()> {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let log = File::create(&self.log_path)
            .with_context(|| format!("creating {}", self.log_path.display()))?;
        let child = Command::new(&self.bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("spawning {}", self.bin.display()))?;
        self.child = Some(child);
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if answers_api_versions(self.port) {
                return Ok(());
            }
            if !self.is_running() {
                self.kill();
                bail!(
                    "tansu on port {} exited early: {}",
                    self.port,
                    self.log_tail()
                );
            }
            if Instant::now() >= deadline {
                self.kill();
                bail!(
                    "tansu on port {} did not answer within {READY_TIMEOUT:?}: {}",
                    self.port,
                    self.log_tail()
                );
            }
            sleep(Duration::from_millis(50));
        }
    }

    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log_path).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for TestBroker {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Creates a topic on any Tansu at `addr` (`host:port`) with the `tansu topic create` CLI.
///
/// # Errors
/// When the binary is missing or the CLI fails; the error carries its output.
pub fn create_topic(addr: &str, name: &str, partitions: i32) -> anyhow::Result<()> {
    create_topic_at(&tansu_bin()?, addr, name, partitions)
}

fn create_topic_at(bin: &Path, addr: &str, name: &str, partitions: i32) -> anyhow::Result<()> {
    let out = Command::new(bin)
        .args([
            "topic",
            "create",
            name,
            "--broker",
            &format!("tcp://{addr}"),
        ])
        .args(["--partitions", &partitions.to_string()])
        .output()
        .with_context(|| format!("running {} topic create", bin.display()))?;
    if !out.status.success() {
        bail!(
            "tansu topic create {name} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("finding a free port")?;
    Ok(listener.local_addr()?.port())
}

/// True when the port answers a v0 ApiVersions request with our correlation id and no error.
pub(crate) fn answers_api_versions(port: u16) -> bool {
    let probe = || -> std::io::Result<bool> {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let mut s = TcpStream::connect_timeout(&addr, Duration::from_millis(500))?;
        s.set_read_timeout(Some(Duration::from_secs(2)))?;
        // Header v0: api_key 18, version 0, correlation id, client id; the v0 body is empty.
        let client_id = b"rafka-test";
        let mut frame = Vec::new();
        frame.extend_from_slice(&(10 + client_id.len() as i32).to_be_bytes());
        frame.extend_from_slice(&18i16.to_be_bytes());
        frame.extend_from_slice(&0i16.to_be_bytes());
        frame.extend_from_slice(&0x7A5Ai32.to_be_bytes());
        frame.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
        frame.extend_from_slice(client_id);
        s.write_all(&frame)?;
        let mut reply = [0u8; 10];
        s.read_exact(&mut reply)?;
        let corr = i32::from_be_bytes([reply[4], reply[5], reply[6], reply[7]]);
        let err = i16::from_be_bytes([reply[8], reply[9]]);
        Ok(corr == 0x7A5A && err == 0)
    };
    probe().unwrap_or(false)
}
