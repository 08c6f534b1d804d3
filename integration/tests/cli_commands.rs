//! The `rafka` binary against a private Tansu: topics, metadata, produce → consume round trips
//! with keys, headers, partitions and every codec, consumer groups, and the one-line errors.

mod cli_support;

use cli_support::{rafka, rafka_ok, unique};
use rafka_integration::TestBroker;

fn broker() -> TestBroker {
    TestBroker::start().expect("start tansu")
}

#[test]
fn topic_create_list_metadata_delete() {
    let b = broker();
    let addr = b.addr();
    let topic = unique("cli-topic");
    rafka_ok(
        &["-b", &addr, "topic", "create", &topic, "--partitions", "3"],
        b"",
    );
    let listed = rafka_ok(&["-b", &addr, "topic", "list"], b"");
    assert!(
        listed.lines().any(|l| l == format!("{topic}\t3")),
        "topic list did not show {topic} with 3 partitions:\n{listed}"
    );
    let meta = rafka_ok(&["-b", &addr, "metadata", "-t", &topic], b"");
    assert!(
        meta.contains(&format!("topic \"{topic}\" with 3 partitions")),
        "{meta}"
    );
    for p in 0..3 {
        assert!(
            meta.contains(&format!("partition {p}, leader 111")),
            "{meta}"
        );
    }
    rafka_ok(&["-b", &addr, "topic", "delete", &topic], b"");
    let listed = rafka_ok(&["-b", &addr, "topic", "list"], b"");
    assert!(
        !listed.lines().any(|l| l.starts_with(&format!("{topic}\t"))),
        "{listed}"
    );
}

#[test]
fn produce_then_consume_keys_values_headers_and_format() {
    let b = broker();
    let addr = b.addr();
    let topic = unique("cli-rt");
    rafka_ok(
        &["-b", &addr, "topic", "create", &topic, "--partitions", "1"],
        b"",
    );
    let input = b"k1:v1\nk2:v2\nnokey\nk4:with:colons\n";
    let out = rafka(
        &[
            "-b", &addr, "produce", "-t", &topic, "-K", ":", "-H", "h1=x", "-H", "h2=y",
        ],
        input,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let summary = String::from_utf8_lossy(&out.stderr);
    assert!(summary.contains("4 records"), "summary: {summary}");
    assert!(summary.contains("0 errors"), "summary: {summary}");

    let consumed = rafka_ok(
        &[
            "-b",
            &addr,
            "consume",
            "-t",
            &topic,
            "-o",
            "beginning",
            "-e",
            "-f",
            "%p|%o|%k|%s|%h\\n",
        ],
        b"",
    );
    assert_eq!(
        consumed,
        "0|0|k1|v1|h1=x,h2=y\n0|1|k2|v2|h1=x,h2=y\n0|2||nokey|h1=x,h2=y\n0|3|k4|with:colons|h1=x,h2=y\n"
    );
    // -c stops early, -o N starts in the middle.
    let two = rafka_ok(
        &[
            "-b", &addr, "consume", "-t", &topic, "-o", "1", "-c", "2", "-f", "%o %s\\n",
        ],
        b"",
    );
    assert_eq!(two, "1 v2\n2 nokey\n");
    // -o -N reads the last N records.
    let last = rafka_ok(
        &["-b", &addr, "consume", "-t", &topic, "-o", "-1", "-e"],
        b"",
    );
    assert_eq!(last, "with:colons\n");
}

#[test]
fn every_codec_round_trips_and_explicit_partitions_are_kept() {
    let b = broker();
    let addr = b.addr();
    let topic = unique("cli-codec");
    rafka_ok(
        &["-b", &addr, "topic", "create", &topic, "--partitions", "5"],
        b"",
    );
    let codecs = ["none", "gzip", "snappy", "lz4", "zstd"];
    for (p, codec) in codecs.iter().enumerate() {
        let lines: String = (0..50).map(|i| format!("{codec}-{i}\n")).collect();
        rafka_ok(
            &[
                "-b",
                &addr,
                "produce",
                "-t",
                &topic,
                "-p",
                &p.to_string(),
                "-z",
                codec,
                "--acks",
                "all",
            ],
            lines.as_bytes(),
        );
    }
    for (p, codec) in codecs.iter().enumerate() {
        let out = rafka_ok(
            &[
                "-b",
                &addr,
                "consume",
                "-t",
                &topic,
                "-p",
                &p.to_string(),
                "-o",
                "beginning",
                "-e",
            ],
            b"",
        );
        let expected: String = (0..50).map(|i| format!("{codec}-{i}\n")).collect();
        assert_eq!(out, expected, "partition {p} ({codec})");
    }
}

#[test]
fn group_consume_commits_and_group_commands_show_and_reset_it() {
    let b = broker();
    let addr = b.addr();
    let topic = unique("cli-grp");
    let group = unique("cli-group");
    rafka_ok(
        &["-b", &addr, "topic", "create", &topic, "--partitions", "2"],
        b"",
    );
    let lines: String = (0..100).map(|i| format!("k{i}:v{i}\n")).collect();
    rafka_ok(
        &["-b", &addr, "produce", "-t", &topic, "-K", ":"],
        lines.as_bytes(),
    );
    let first = rafka_ok(
        &[
            "-b", &addr, "consume", "-t", &topic, "-G", &group, "-c", "100", "-f", "%s\\n",
        ],
        b"",
    );
    assert_eq!(first.lines().count(), 100);

    let groups = rafka_ok(&["-b", &addr, "group", "list"], b"");
    assert!(
        groups
            .lines()
            .any(|l| l.split_whitespace().next() == Some(group.as_str())),
        "{groups}"
    );
    let described = rafka_ok(&["-b", &addr, "group", "describe", &group], b"");
    // Committed offsets sum to 100 and the lag is 0 on both partitions.
    let mut committed = 0;
    for line in described
        .lines()
        .filter(|l| l.trim_start().starts_with(&topic))
    {
        let cols: Vec<&str> = line.split_whitespace().collect();
        // TOPIC PARTITION COMMITTED END LAG
        committed += cols[2].parse::<i64>().unwrap();
        assert_eq!(cols[4], "0", "lag in: {line}");
    }
    assert_eq!(committed, 100, "{described}");

    rafka_ok(
        &[
            "-b",
            &addr,
            "group",
            "reset-offsets",
            &group,
            "--to",
            "earliest",
        ],
        b"",
    );
    let again = rafka_ok(
        &[
            "-b", &addr, "consume", "-t", &topic, "-G", &group, "-c", "100", "-f", "%s\\n",
        ],
        b"",
    );
    let mut a: Vec<&str> = first.lines().collect();
    let mut b2: Vec<&str> = again.lines().collect();
    a.sort_unstable();
    b2.sort_unstable();
    assert_eq!(
        a, b2,
        "after a reset to earliest the group reads everything again"
    );
}

#[test]
fn bad_input_fails_with_one_line_errors() {
    let b = broker();
    let addr = b.addr();
    let one_line_error = |args: &[&str], needle: &str| {
        let out = rafka(args, b"");
        assert!(!out.status.success(), "rafka {args:?} should fail");
        let err = String::from_utf8_lossy(&out.stderr);
        let last = err.lines().last().unwrap_or_default();
        assert!(last.starts_with("rafka: error: "), "rafka {args:?}: {err}");
        assert!(
            last.contains(needle),
            "rafka {args:?}: expected '{needle}' in: {err}"
        );
    };
    // Nothing listens on port 1.
    one_line_error(&["-b", "127.0.0.1:1", "topic", "list"], "127.0.0.1:1");
    one_line_error(
        &["-b", &addr, "-X", "no.such.setting=1", "topic", "list"],
        "no.such.setting",
    );
    one_line_error(
        &[
            "-b",
            &addr,
            "-F",
            "/nonexistent/c.properties",
            "topic",
            "list",
        ],
        "/nonexistent/c.properties",
    );
    one_line_error(&["topic", "list"], "no brokers");
    let missing = unique("missing-topic");
    one_line_error(&["-b", &addr, "consume", "-t", &missing, "-e"], &missing);
    one_line_error(
        &["-b", &addr, "produce", "-t", &missing, "-p", "0"],
        &missing,
    );
    // clap usage errors exit 2.
    let out = rafka(&["-b", &addr, "produce", "-t", "x", "-z", "brotli"], b"");
    assert_eq!(out.status.code(), Some(2));
}

/// Standalone (no group) `consume` commits nothing: the consumer used to try an auto-commit
/// every `auto.commit.interval.ms` and log `WARN auto-commit failed error=commit needs group.id
/// to be set` each time. As in Java, enable.auto.commit has no effect without a group, and
/// asking for it explicitly is an error.
#[test]
fn standalone_consume_never_tries_to_auto_commit() {
    let b = broker();
    let addr = b.addr();
    let topic = unique("cli-standalone");
    rafka_ok(
        &["-b", &addr, "topic", "create", &topic, "--partitions", "1"],
        b"",
    );
    rafka_ok(&["-b", &addr, "produce", "-t", &topic], b"a\nb\nc\n");
    // A short interval so the old behaviour would warn many times within the run.
    let child = std::process::Command::new(cli_support::rafka_bin())
        .args(["-b", &addr, "-X", "auto.commit.interval.ms=100"])
        .args(["consume", "-t", &topic, "-o", "beginning"])
        .env_remove("RUST_LOG")
        .env_remove("RAFKA_BROKERS")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn rafka consume");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let status = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(status.success());
    let out = child.wait_with_output().expect("wait for rafka consume");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "consume failed: {stderr}");
    assert_eq!(stdout, "a\nb\nc\n");
    assert!(
        !stderr.contains("auto-commit"),
        "standalone consume tried to auto-commit:\n{stderr}"
    );
    assert!(
        !stderr.contains("group.id"),
        "standalone consume complained about group.id:\n{stderr}"
    );

    let out = rafka(
        &[
            "-b",
            &addr,
            "-X",
            "enable.auto.commit=true",
            "consume",
            "-t",
            &topic,
            "-e",
        ],
        b"",
    );
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.trim_end()
            .starts_with("rafka: error: enable.auto.commit=true needs a consumer group"),
        "{err}"
    );
}
