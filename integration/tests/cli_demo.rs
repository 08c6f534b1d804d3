//! `rafka demo` end to end with a smaller count: it starts its own Tansu, produces, runs three
//! member processes into SQLite, SIGKILLs one midway, adds a replacement, and must report
//! exactly-once processing.

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
