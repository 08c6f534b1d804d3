//! The peers that run as their own programs: franz-go (`peers/franz`, built with `go build`)
//! and the Java client (`peers/java/Bench.java`, compiled with `javac` against the jars of
//! `scripts/kafka.sh libs`). Both take the scenario as `key=value` arguments and print one
//! JSON `Outcome` line, and are measured exactly like this binary's own children (`wait4`).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::SystemTime;

use anyhow::{bail, Context, Result};

use crate::broker::repo_root;
use crate::scenario::{ClientKind, Mode, Scenario};

fn peers_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("peers")
}

fn mtime(p: &Path) -> Option<SystemTime> {
    std::fs::metadata(p).and_then(|m| m.modified()).ok()
}

/// True when `out` is missing or older than any of `sources`.
fn stale(out: &Path, sources: &[PathBuf]) -> bool {
    let Some(built) = mtime(out) else {
        return true;
    };
    sources.iter().any(|s| mtime(s).is_none_or(|t| t > built))
}

/// The first of `candidates` that runs with `--version` / `version`.
fn find_tool(candidates: &[PathBuf], version_arg: &str) -> Option<PathBuf> {
    candidates.iter().find_map(|c| {
        let ok = Command::new(c)
            .arg(version_arg)
            .output()
            .is_ok_and(|o| o.status.success());
        ok.then(|| c.clone())
    })
}

/// Builds the peer when needed and returns the command line that runs it (program first),
/// to which [`args`] are appended. An error names the missing toolchain.
pub fn prepare(kind: ClientKind) -> Result<Vec<OsString>> {
    match kind {
        ClientKind::Franz => prepare_franz(),
        ClientKind::Java => prepare_java(),
        _ => bail!("{} runs inside this binary", kind.name()),
    }
}

fn prepare_franz() -> Result<Vec<OsString>> {
    let dir = peers_dir().join("franz");
    let bin = dir.join("franz-bench");
    let sources: Vec<PathBuf> = ["main.go", "go.mod", "go.sum"]
        .iter()
        .map(|f| dir.join(f))
        .collect();
    if stale(&bin, &sources) {
        let mut candidates: Vec<PathBuf> = std::env::var_os("GO")
            .map(PathBuf::from)
            .into_iter()
            .collect();
        candidates.push("go".into());
        candidates.push("/usr/local/go/bin/go".into());
        let go = find_tool(&candidates, "version")
            .context("the franz-go peer needs Go (set GO, or put go on PATH)")?;
        eprintln!("building the franz-go peer ({})", bin.display());
        let status = Command::new(&go)
            .args(["build", "-trimpath", "-o"])
            .arg(&bin)
            .arg(".")
            .current_dir(&dir)
            .status()
            .with_context(|| format!("running {}", go.display()))?;
        if !status.success() {
            bail!("go build of {} failed", dir.display());
        }
    }
    Ok(vec![bin.into_os_string()])
}

fn java_home_tool(name: &str) -> Vec<PathBuf> {
    let mut out: Vec<PathBuf> = std::env::var_os("JAVA_HOME")
        .map(|h| PathBuf::from(h).join("bin").join(name))
        .into_iter()
        .collect();
    out.push(name.into());
    out
}

fn prepare_java() -> Result<Vec<OsString>> {
    let javac = find_tool(&java_home_tool("javac"), "-version")
        .context("the Java peer needs a JDK's javac (JAVA_HOME, or javac on PATH)")?;
    let java = find_tool(&java_home_tool("java"), "-version")
        .context("the Java peer needs java (JAVA_HOME, or java on PATH)")?;
    // The project's installer: kafka-clients and its dependencies, with the broker's jars.
    let out = Command::new("bash")
        .arg(repo_root().join("scripts/kafka.sh"))
        .arg("libs")
        .output()
        .context("running scripts/kafka.sh libs")?;
    if !out.status.success() {
        bail!(
            "scripts/kafka.sh libs failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let libs = PathBuf::from(
        String::from_utf8(out.stdout)?
            .lines()
            .last()
            .context("scripts/kafka.sh libs printed nothing")?
            .trim(),
    );
    let src = peers_dir().join("java").join("Bench.java");
    let classes = peers_dir().join("java").join("build");
    let class_file = classes.join("Bench.class");
    let classpath = format!("{}:{}/*", classes.display(), libs.display());
    if stale(&class_file, std::slice::from_ref(&src)) {
        eprintln!("compiling the Java peer ({})", src.display());
        let status = Command::new(&javac)
            .arg("-d")
            .arg(&classes)
            .arg("-cp")
            .arg(format!("{}/*", libs.display()))
            .arg(&src)
            .status()
            .with_context(|| format!("running {}", javac.display()))?;
        if !status.success() {
            bail!("javac {} failed", src.display());
        }
    }
    let mut cmd: Vec<OsString> = vec![java.into_os_string()];
    // JVM defaults (heap sized from RAM, G1 on 2+ cores); RAFKA_BENCH_JAVA_OPTS adds flags.
    if let Ok(opts) = std::env::var("RAFKA_BENCH_JAVA_OPTS") {
        cmd.extend(opts.split_whitespace().map(OsString::from));
    }
    // kafka-clients logs through log4j2: WARN and above, to stderr (stdout carries the result).
    if let Some(config) = libs.parent().map(|d| d.join("log4j2-tools.yaml")) {
        let mut flag = OsString::from("-Dlog4j2.configurationFile=");
        flag.push(config);
        cmd.push(flag);
    }
    cmd.extend(["-cp".into(), classpath.into(), "Bench".into()]);
    Ok(cmd)
}

/// The scenario as the peers' `key=value` arguments.
pub fn args(s: &Scenario) -> Result<Vec<String>> {
    let mode = match s.mode {
        Mode::Produce => "produce",
        Mode::Consume => "consume",
        other => bail!("{} has no {other:?} run", s.client.name()),
    };
    Ok(vec![
        format!("mode={mode}"),
        format!("broker={}", s.broker),
        format!("topic={}", s.topic),
        format!("partitions={}", s.partitions),
        format!("count={}", s.count),
        format!("size={}", s.size),
        format!("linger_ms={}", s.linger_ms),
        format!("batch_size={}", s.batch_size),
        format!("codec={}", s.codec),
        format!("fetch_max_wait_ms={}", s.fetch_max_wait_ms),
    ])
}
