//! A private Tansu broker per scenario: started on a free loopback port, killed on drop.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `TANSU_BIN`, else the copy `scripts/tansu.sh install` puts under `.tansu/`.
pub fn tansu_binary() -> Result<PathBuf> {
    if let Ok(p) = std::env::var("TANSU_BIN") {
        return Ok(PathBuf::from(p));
    }
    let root = repo_root();
    let status = Command::new("bash")
        .arg(root.join("scripts/tansu.sh"))
        .arg("install")
        .status()
        .context("running scripts/tansu.sh install")?;
    if !status.success() {
        bail!("scripts/tansu.sh install failed");
    }
    let out = Command::new("bash")
        .arg(root.join("scripts/tansu.sh"))
        .arg("path")
        .output()?;
    Ok(PathBuf::from(String::from_utf8(out.stdout)?.trim()))
}

pub struct Broker {
    pub addr: String,
    bin: PathBuf,
    child: Child,
}

impl Broker {
    pub fn start(bin: &PathBuf) -> Result<Broker> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let url = format!("tcp://127.0.0.1:{port}");
        let child = Command::new(bin)
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let addr = format!("127.0.0.1:{port}");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(&addr).is_err() {
            if Instant::now() > deadline {
                bail!("Tansu did not listen on {addr}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(Broker {
            addr,
            bin: bin.clone(),
            child,
        })
    }

    pub fn create_topic(&self, name: &str, partitions: i32) -> Result<()> {
        let status = Command::new(&self.bin)
            .args(["topic", "create", name, "--broker"])
            .arg(format!("tcp://{}", self.addr))
            .args(["--partitions", &partitions.to_string()])
            .stdout(Stdio::null())
            .status()?;
        if !status.success() {
            bail!("creating topic {name} failed");
        }
        Ok(())
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
