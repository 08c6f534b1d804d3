//! Shared helpers of the `rafka` binary tests (cli_*.rs, verifiable_*.rs): build and locate the
//! binary, run it, and read the verifiable clients' JSON lines.
#![allow(dead_code)] // each test file uses a different subset

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::sync::OnceLock;

/// The `rafka` binary of this build profile, built once per test process with
/// `cargo build -p rafka-cli` (cargo releases its lock while tests run, so this is safe).
pub fn rafka_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if let Some(bin) = std::env::var_os("RAFKA_BIN").filter(|v| !v.is_empty()) {
            return PathBuf::from(bin);
        }
        // The test executable lives in <target>/<profile>/deps/.
        let exe = std::env::current_exe().expect("test executable path");
        let profile_dir = exe
            .parent()
            .and_then(|d| d.parent())
            .expect("target/<profile>");
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "-q", "-p", "rafka-cli", "--bin", "rafka"]);
        if release {
            cmd.arg("--release");
        }
        let status = cmd
            .current_dir(rafka_integration::env::repo_root())
            .status()
            .expect("run cargo build -p rafka-cli");
        assert!(status.success(), "cargo build -p rafka-cli failed");
        let bin = profile_dir.join("rafka");
        assert!(bin.is_file(), "{} missing after build", bin.display());
        bin
    })
    .clone()
}

/// True when the Apache Kafka jars `scripts/kafka.sh` uses are installed. Otherwise prints a
/// SKIP line and returns false, unless under `scripts/test.sh` (`RAFKA_TEST_STRICT=1`), which
/// installs them: there it returns true and the script installs what is missing.
pub fn kafka_installed() -> bool {
    let version = std::env::var("KAFKA_VERSION").unwrap_or_else(|_| "4.4.0".into());
    let installed = rafka_integration::env::repo_root()
        .join(".kafka")
        .join(&version)
        .join("libs/.complete")
        .is_file();
    if !installed && !rafka_integration::env::strict() {
        eprintln!(
            "\n*** SKIP: the Apache Kafka {version} jars are not installed; run \
             `bash scripts/kafka.sh install` ***\n"
        );
        return false;
    }
    true
}

/// `rafka ARGS` with `stdin` fed in; waits for it to exit.
pub fn rafka(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(rafka_bin())
        .args(args)
        .env_remove("RAFKA_BROKERS")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn rafka");
    let mut input = child.stdin.take().expect("stdin");
    let data = stdin.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = input.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for rafka");
    let _ = writer.join();
    out
}

/// Like [`rafka`] but panics (with stderr) unless it exits 0; returns stdout.
pub fn rafka_ok(args: &[&str], stdin: &[u8]) -> String {
    let out = rafka(args, stdin);
    assert!(
        out.status.success(),
        "rafka {args:?} failed ({}):\nstdout: {}\nstderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A unique-ish name for topics and groups of one test.
pub fn unique(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    format!(
        "{prefix}-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// A JSON value: just enough to read the verifiable clients' events without extra dependencies.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    /// null
    Null,
    /// true / false
    Bool(bool),
    /// Any number (as f64; offsets in tests stay far below 2^53).
    Num(f64),
    /// A string.
    Str(String),
    /// An array.
    Arr(Vec<Json>),
    /// An object (key order is not kept).
    Obj(BTreeMap<String, Json>),
}

impl Json {
    /// Parses one JSON document; `None` when `text` is not exactly one valid value.
    pub fn parse(text: &str) -> Option<Json> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let v = p.value()?;
        p.ws();
        (p.i == p.s.len()).then_some(v)
    }

    /// `self[key]` for objects, `Null` otherwise.
    pub fn get(&self, key: &str) -> &Json {
        match self {
            Json::Obj(m) => m.get(key).unwrap_or(&Json::Null),
            _ => &Json::Null,
        }
    }

    /// The string, if this is one.
    pub fn str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The number as i64, if this is one.
    pub fn i64(&self) -> Option<i64> {
        match self {
            Json::Num(n) => Some(*n as i64),
            _ => None,
        }
    }

    /// The elements, if this is an array.
    pub fn arr(&self) -> &[Json] {
        match self {
            Json::Arr(a) => a,
            _ => &[],
        }
    }
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }

    fn eat(&mut self, b: u8) -> Option<()> {
        self.ws();
        (self.s.get(self.i) == Some(&b)).then(|| self.i += 1)
    }

    fn lit(&mut self, word: &str, v: Json) -> Option<Json> {
        self.s[self.i..].starts_with(word.as_bytes()).then(|| {
            self.i += word.len();
            v
        })
    }

    fn value(&mut self) -> Option<Json> {
        self.ws();
        match *self.s.get(self.i)? {
            b'n' => self.lit("null", Json::Null),
            b't' => self.lit("true", Json::Bool(true)),
            b'f' => self.lit("false", Json::Bool(false)),
            b'"' => self.string().map(Json::Str),
            b'[' => {
                self.i += 1;
                let mut items = Vec::new();
                if self.eat(b']').is_some() {
                    return Some(Json::Arr(items));
                }
                loop {
                    items.push(self.value()?);
                    if self.eat(b']').is_some() {
                        return Some(Json::Arr(items));
                    }
                    self.eat(b',')?;
                }
            }
            b'{' => {
                self.i += 1;
                let mut map = BTreeMap::new();
                if self.eat(b'}').is_some() {
                    return Some(Json::Obj(map));
                }
                loop {
                    self.ws();
                    let k = self.string()?;
                    self.eat(b':')?;
                    map.insert(k, self.value()?);
                    if self.eat(b'}').is_some() {
                        return Some(Json::Obj(map));
                    }
                    self.eat(b',')?;
                }
            }
            _ => {
                let start = self.i;
                while self.i < self.s.len() && b"+-0123456789.eE".contains(&self.s[self.i]) {
                    self.i += 1;
                }
                std::str::from_utf8(&self.s[start..self.i])
                    .ok()?
                    .parse()
                    .ok()
                    .map(Json::Num)
            }
        }
    }

    fn string(&mut self) -> Option<String> {
        if self.s.get(self.i) != Some(&b'"') {
            return None;
        }
        self.i += 1;
        let mut out = Vec::new();
        loop {
            let b = *self.s.get(self.i)?;
            self.i += 1;
            match b {
                b'"' => return String::from_utf8(out).ok(),
                b'\\' => {
                    let e = *self.s.get(self.i)?;
                    self.i += 1;
                    match e {
                        b'n' => out.push(b'\n'),
                        b't' => out.push(b'\t'),
                        b'r' => out.push(b'\r'),
                        b'b' => out.push(8),
                        b'f' => out.push(12),
                        b'u' => {
                            let hex = std::str::from_utf8(self.s.get(self.i..self.i + 4)?).ok()?;
                            self.i += 4;
                            let c = char::from_u32(u32::from_str_radix(hex, 16).ok()?)
                                .unwrap_or('\u{fffd}');
                            let mut buf = [0u8; 4];
                            out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
    }
}

/// Every stdout line that parses as a JSON object.
pub fn json_lines(stdout: &str) -> Vec<Json> {
    stdout
        .lines()
        .filter_map(|l| Json::parse(l.trim()))
        .collect()
}

#[test]
fn json_reader_reads_verifiable_events() {
    let v = Json::parse(
        r#"{"timestamp":1,"name":"records_consumed","count":2,"partitions":[{"topic":"t\"x","partition":0,"minOffset":5,"maxOffset":6}],"ok":true,"e":null}"#,
    )
    .unwrap();
    assert_eq!(v.get("name").str(), Some("records_consumed"));
    assert_eq!(
        v.get("partitions").arr()[0].get("topic").str(),
        Some("t\"x")
    );
    assert_eq!(v.get("partitions").arr()[0].get("maxOffset").i64(), Some(6));
    assert_eq!(v.get("ok"), &Json::Bool(true));
    assert!(Json::parse("not json").is_none());
    assert!(Json::parse("{\"a\":1} trailing").is_none());
}
