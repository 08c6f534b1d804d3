//! `rafka demo` end to end with a smaller count: it starts its own Tansu (or, with
//! `--broker kafka`, its own 3-node Apache Kafka cluster), produces, runs three member processes
//! into SQLite, SIGKILLs one midway (and on Kafka also the broker leading the most partitions,
//! restarted later), adds a replacement, and must report exactly-once processing — with the
//! classic group protocol, and on Kafka with KIP-848's (`--group-protocol consumer`) too.

mod cli_support;

use std::process::Command;

use cli_support::rafka_bin;

#[test]
fn demo_processes_every_record_exactly_once_despite_a_sigkill() {
    let tansu = rafka_integration::broker::tansu_bin().expect("tansu binary");
    let dir = std::env::temp_dir().join(cli_support::unique("rafka-demo"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("demo.sqlite");
    let out = Command::new(rafka_bin())
        .args(["demo", "--records", "20000", "--db"])
        .arg(&db)
        .env("TANSU_BIN", &tansu)
        .env_remove("RAFKA_DEMO_BROKER")
        .output()
        .expect("run rafka demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout
            .lines()
            .any(|l| l == "exactly-once: produced=20000 processed=20000 missing=0 duplicates=0"),
        "{stdout}"
    );
    let rebalances: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("rebalance: "))
        .collect();
    assert_eq!(rebalances.len(), 3, "join, kill and replacement: {stdout}");
    assert!(rebalances[1].contains("SIGKILLed"), "{stdout}");
    assert!(stdout.contains("produce: 20000 records"), "{stdout}");
    assert!(
        db.is_file(),
        "the database stays behind at {}",
        db.display()
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_on_kafka_survives_a_broker_sigkill_too() {
    if !cli_support::kafka_installed() {
        return;
    }
    let dir = std::env::temp_dir().join(cli_support::unique("rafka-demo-kafka"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("demo.sqlite");
    let out = Command::new(rafka_bin())
        .args([
            "demo",
            "--broker",
            "kafka",
            "--kill-broker",
            "--records",
            "20000",
        ])
        .arg("--db")
        .arg(&db)
        .env_remove("RAFKA_DEMO_BROKER")
        .output()
        .expect("run rafka demo --broker kafka");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stdout
            .lines()
            .any(|l| l == "exactly-once: produced=20000 processed=20000 missing=0 duplicates=0"),
        "{stdout}"
    );
    assert!(
        stdout.contains("positions: 6/6 partitions stored at their end offsets"),
        "{stdout}"
    );
    let broker: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("broker: node "))
        .collect();
    assert_eq!(broker.len(), 2, "kill and restart lines: {stdout}");
    assert!(
        broker[0].contains("SIGKILLed (leader of partitions")
            && broker[0].contains("new leaders in"),
        "{stdout}"
    );
    assert!(
        broker[1].contains("restarted after") && broker[1].contains("back in every ISR in"),
        "{stdout}"
    );
    assert!(
        stderr.contains("replication factor 3, min.insync.replicas=2"),
        "{stderr}"
    );
    // The demo stopped its cluster: no node of it is left running.
    for node in 1..=3 {
        let pid_file = dir.join("kafka").join(format!("n{node}.pid"));
        assert!(!pid_file.exists(), "{} left behind", pid_file.display());
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn demo_on_kafka_with_the_consumer_group_protocol() {
    if !cli_support::kafka_installed() {
        return;
    }
    let dir = std::env::temp_dir().join(cli_support::unique("rafka-demo-kip848"));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join("demo.sqlite");
    let out = Command::new(rafka_bin())
        .args([
            "demo",
            "--broker",
            "kafka",
            "--group-protocol",
            "consumer",
            "--records",
            "20000",
        ])
        .arg("--db")
        .arg(&db)
        .env_remove("RAFKA_DEMO_BROKER")
        .output()
        .expect("run rafka demo --group-protocol consumer");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "demo failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    assert!(
        stderr.contains("group protocol consumer (KIP-848"),
        "{stderr}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l == "exactly-once: produced=20000 processed=20000 missing=0 duplicates=0"),
        "{stdout}"
    );
    let rebalances: Vec<&str> = stdout
        .lines()
        .filter(|l| l.starts_with("rebalance: "))
        .collect();
    assert_eq!(rebalances.len(), 3, "join, kill and replacement: {stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
