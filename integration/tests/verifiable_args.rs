//! The verifiable clients' argument lists against the Java tools of the Kafka version
//! `scripts/kafka.sh` installs (4.4): every flag the Java `--help` lists is a flag of
//! `rafka verifiable-consumer` / `verifiable-producer`, and rafka lists no visible flag Java
//! does not have. And what the consumer protocol forbids (`--session-timeout` with
//! `--group-protocol consumer`, as in Java) fails clearly before anything is printed on stdout.
//!
//! The Java side needs the jars (`scripts/kafka.sh install`); without them, and outside
//! `scripts/test.sh`, the comparison prints a SKIP line.

mod cli_support;

use std::collections::BTreeSet;
use std::process::Command;

use cli_support::{rafka, rafka_bin};

/// `--flag` tokens of a help text (`--help` itself left out).
fn flags(help: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (i, _) in help.match_indices("--") {
        let rest = &help[i + 2..];
        let name: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
            .collect();
        let name = name.trim_end_matches('.');
        // "--" preceded by a letter is not a flag (e.g. inside a word).
        let before = help[..i].chars().last();
        if name.is_empty() || before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '-') {
            continue;
        }
        if name != "help" {
            out.insert(format!("--{name}"));
        }
    }
    out
}

/// The Java tool's `--help`, or `None` (after a SKIP line) when the jars are not installed.
fn java_help(class: &str) -> Option<String> {
    if !cli_support::kafka_installed() {
        return None;
    }
    let root = rafka_integration::env::repo_root();
    let out = Command::new("bash")
        .arg(root.join("scripts/kafka.sh"))
        .args(["tool", class, "--help"])
        .output()
        .expect("run scripts/kafka.sh tool");
    let help = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        help.contains("usage:"),
        "{class} --help printed no usage ({}):\n{help}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    Some(help)
}

fn rafka_flags(sub: &str) -> BTreeSet<String> {
    let out = rafka(&[sub, "--help"], b"");
    assert!(out.status.success(), "rafka {sub} --help failed");
    let mut f = flags(&String::from_utf8_lossy(&out.stdout));
    // Global options of every rafka subcommand and clap's own.
    for global in ["--brokers", "--version"] {
        f.remove(global);
    }
    f
}

fn assert_same_flags(class: &str, sub: &str) {
    let Some(help) = java_help(class) else {
        return;
    };
    let java = flags(&help);
    assert!(
        java.contains("--topic") && java.contains("--bootstrap-server"),
        "no flags read from {class} --help:\n{help}"
    );
    let ours = rafka_flags(sub);
    let missing: Vec<&String> = java.difference(&ours).collect();
    assert!(
        missing.is_empty(),
        "rafka {sub} lacks Java flags {missing:?}"
    );
    let extra: Vec<&String> = ours.difference(&java).collect();
    assert!(
        extra.is_empty(),
        "rafka {sub} has flags Java does not: {extra:?}"
    );
}

#[test]
fn verifiable_consumer_has_exactly_the_java_flags() {
    assert_same_flags(
        "org.apache.kafka.tools.VerifiableConsumer",
        "verifiable-consumer",
    );
}

#[test]
fn verifiable_producer_has_exactly_the_java_flags() {
    assert_same_flags(
        "org.apache.kafka.tools.VerifiableProducer",
        "verifiable-producer",
    );
}

#[test]
fn flag_reader_reads_usage_lines() {
    let f = flags("usage: x [-h] --topic TOPIC [--consumer.config CONFIG-FILE]\n  -h, --help  help\n Use --command-config instead.");
    let want: BTreeSet<String> = ["--topic", "--consumer.config", "--command-config"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(f, want);
}

/// Runs `rafka verifiable-consumer ARGS` against a port nothing listens on: the argument
/// checks come before any connection.
fn consumer_fails(extra: &[&str]) -> (String, String) {
    let mut args = vec![
        "verifiable-consumer",
        "--bootstrap-server",
        "127.0.0.1:1",
        "--topic",
        "t",
        "--group-id",
        "g",
    ];
    args.extend_from_slice(extra);
    let out = Command::new(rafka_bin())
        .args(&args)
        .env_remove("RAFKA_BROKERS")
        .output()
        .expect("run rafka");
    assert_eq!(out.status.code(), Some(1), "rafka {args:?}");
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn kip_848_arguments_fail_with_a_clear_error() {
    // The consumer protocol is supported; what it forbids is refused, as in Java.
    for protocol in ["consumer", "CONSUMER"] {
        let (stdout, stderr) =
            consumer_fails(&["--group-protocol", protocol, "--session-timeout", "6000"]);
        assert_eq!(stdout, "", "no events before the argument check");
        assert_eq!(
            stderr.trim_end(),
            "rafka: error: --session-timeout is not supported with --group-protocol consumer \
             (KIP-848): the broker's group.consumer.session.timeout.ms applies"
        );
    }
    // An unknown protocol is a usage error (exit 2), as Java's GroupProtocol.of rejects it.
    let out = rafka(
        &[
            "verifiable-consumer",
            "--topic",
            "t",
            "--group-id",
            "g",
            "--group-protocol",
            "share",
        ],
        b"",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("CLASSIC, CONSUMER"));
}
