//! The demo's broker: an address given by the user (`--broker HOST:PORT` /
//! `RAFKA_DEMO_BROKER`), a Tansu the demo installs (through `scripts/tansu.sh install`) and starts
//! on a free port itself (the default), or a 3-node Apache Kafka cluster it starts through
//! `scripts/kafka.sh` (`--broker kafka`, see [`super::kafka`]), so a fresh machine needs nothing
//! running beforehand.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

/// How long a freshly started Tansu may take to answer ApiVersions (it usually needs ~0.2 s).
const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// A broker the demo talks to.
#[derive(Debug)]
pub struct DemoBroker {
    /// `host:port` for `bootstrap.servers`.
    pub bootstrap: String,
    /// The Tansu process when the demo started one.
    child: Option<Child>,
    /// The Kafka cluster when the demo started one.
    kafka: Option<super::kafka::DemoKafka>,
}

impl DemoBroker {
    /// A broker someone else runs.
    pub fn external(bootstrap: String) -> Self {
        DemoBroker {
            bootstrap,
            child: None,
            kafka: None,
        }
    }

    /// Installs Tansu if needed and starts it on a free port, logging to `log`.
    ///
    /// # Errors
    /// When no Tansu binary can be found or installed, or it does not become ready.
    pub fn start_tansu(log: &Path) -> anyhow::Result<Self> {
        let bin = locate_tansu()?;
        let port = free_port()?;
        let url = format!("tcp://127.0.0.1:{port}");
        let log_file = std::fs::File::create(log)
            .with_context(|| format!("cannot create broker log {}", log.display()))?;
        let child = Command::new(&bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdin(Stdio::null())
            .stdout(log_file.try_clone()?)
            .stderr(log_file)
            .spawn()
            .with_context(|| format!("cannot start {}", bin.display()))?;
        let mut broker = DemoBroker {
            bootstrap: format!("127.0.0.1:{port}"),
            child: Some(child),
            kafka: None,
        };
        let deadline = Instant::now() + READY_TIMEOUT;
        loop {
            if answers_api_versions(&broker.bootstrap) {
                return Ok(broker);
            }
            if let Some(child) = broker.child.as_mut() {
                if let Some(status) = child.try_wait()? {
                    bail!(
                        "tansu exited ({status}) before answering; see {}",
                        log.display()
                    );
                }
            }
            if Instant::now() > deadline {
                broker.stop();
                bail!("tansu did not answer on {} within {READY_TIMEOUT:?}", url);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Starts a fresh 3-node Apache Kafka cluster in `dir` (see [`super::kafka::DemoKafka`]).
    ///
    /// # Errors
    /// When the cluster does not start.
    pub fn start_kafka(
        dir: &Path,
        port: Option<u16>,
        confs: &[(String, String)],
    ) -> anyhow::Result<Self> {
        let kafka = super::kafka::DemoKafka::start(dir, port, confs)?;
        Ok(DemoBroker {
            bootstrap: kafka.bootstrap(),
            child: None,
            kafka: Some(kafka),
        })
    }

    /// True when the demo started this broker (and so will stop it).
    pub fn is_owned(&self) -> bool {
        self.child.is_some() || self.kafka.is_some()
    }

    /// The Kafka cluster, when the demo started one.
    pub fn kafka(&self) -> Option<&super::kafka::DemoKafka> {
        self.kafka.as_ref()
    }

    /// Stops a broker the demo started (Tansu: SIGTERM, then SIGKILL after 5 s; Kafka: every
    /// node through the script); no-op otherwise.
    pub fn stop(&mut self) {
        if let Some(mut kafka) = self.kafka.take() {
            kafka.stop();
        }
        if let Some(mut child) = self.child.take() {
            crate::process::signal(child.id(), libc::SIGTERM);
            let deadline = Instant::now() + Duration::from_secs(5);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = child.try_wait() {
                    return;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for DemoBroker {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Finds the Tansu binary: `TANSU_BIN`, then the repository's `.tansu/bin/tansu` (installing it
/// with `scripts/tansu.sh install` when missing), then `tansu` on `PATH`.
///
/// # Errors
/// When none of these yields an executable.
pub fn locate_tansu() -> anyhow::Result<PathBuf> {
    if let Some(bin) = std::env::var_os("TANSU_BIN") {
        let bin = PathBuf::from(bin);
        if is_executable(&bin) {
            return Ok(bin);
        }
        bail!("TANSU_BIN={} is not an executable file", bin.display());
    }
    if let Some(root) = super::repo_root() {
        let installed = root.join(".tansu/bin/tansu");
        if is_executable(&installed) {
            return Ok(installed);
        }
        let script = root.join("scripts/tansu.sh");
        if script.exists() {
            eprintln!("demo: installing tansu with scripts/tansu.sh install");
            let status = Command::new("bash")
                .arg(&script)
                .arg("install")
                .stdin(Stdio::null())
                .status()
                .context("cannot run scripts/tansu.sh install")?;
            if !status.success() {
                bail!("scripts/tansu.sh install failed ({status})");
            }
            if is_executable(&installed) {
                return Ok(installed);
            }
        }
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let bin = dir.join("tansu");
            if is_executable(&bin) {
                return Ok(bin);
            }
        }
    }
    bail!(
        "no tansu broker found: set TANSU_BIN, run scripts/tansu.sh install, \
         or pass --broker kafka or --broker HOST:PORT"
    )
}

fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// A port that was free a moment ago (bind to port 0, read it, release it).
fn free_port() -> anyhow::Result<u16> {
    let listener = TcpListener::bind("127.0.0.1:0").context("cannot find a free port")?;
    Ok(listener.local_addr()?.port())
}

/// True when `addr` answers a v0 ApiVersions request with our correlation id and no error.
pub fn answers_api_versions(addr: &str) -> bool {
    let Ok(sock) = addr.parse::<SocketAddr>() else {
        return false;
    };
    let Ok(mut stream) = TcpStream::connect_timeout(&sock, Duration::from_millis(500)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    // Request header v0: api_key 18 (ApiVersions), version 0, correlation id, client id.
    let client_id = b"rafka-demo";
    let mut body = Vec::new();
    body.extend_from_slice(&18i16.to_be_bytes());
    body.extend_from_slice(&0i16.to_be_bytes());
    body.extend_from_slice(&0x5A17i32.to_be_bytes());
    body.extend_from_slice(&(client_id.len() as i16).to_be_bytes());
    body.extend_from_slice(client_id);
    let mut frame = (body.len() as i32).to_be_bytes().to_vec();
    frame.extend_from_slice(&body);
    if stream.write_all(&frame).is_err() {
        return false;
    }
    let mut head = [0u8; 10];
    if stream.read_exact(&mut head).is_err() {
        return false;
    }
    let correlation = i32::from_be_bytes([head[4], head[5], head[6], head[7]]);
    let error = i16::from_be_bytes([head[8], head[9]]);
    correlation == 0x5A17 && error == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_listening_does_not_answer() {
        let port = free_port().unwrap();
        assert!(!answers_api_versions(&format!("127.0.0.1:{port}")));
        assert!(!answers_api_versions("not an address"));
    }
}
