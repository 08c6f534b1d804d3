//! SASL and TLS against real Apache Kafka 4.4 listeners (a private 1-node KRaft cluster per
//! test, several listeners on it; the fake-broker tests are in `client_sasl.rs` and
//! rafka-client's `tests/tls.rs`).
//!
//! - SASL_PLAINTEXT: PLAIN users from the listener's JAAS config; SCRAM-SHA-256 and -512 users
//!   created, described and deleted with rafka's own Admin (AlterUserScramCredentials /
//!   DescribeUserScramCredentials, KIP-554) over the PLAINTEXT listener; produce and consume
//!   with each login; wrong passwords, unknown users and removed credentials give typed
//!   authentication errors, fast.
//! - SSL: a CA and broker certificates made here with rcgen, served by Kafka from PEM files
//!   (`ssl.keystore.type=PEM`, KIP-651); host-name checking against a certificate for another
//!   name; mutual TLS (`ssl.client.auth=required`); SASL_SSL with SCRAM-SHA-512.
//!
//! Run: `cargo test -p rafka-integration --test kafka_security -- --test-threads=1`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;
use rafka::client::admin::scram::ScramCredentialInfo;
use rafka::client::admin::ScramCredentialAlteration;
use rafka::client::sasl::scram::ScramHash;
use rafka::consumer::{AutoOffsetReset, Consumer, ConsumerConfig, ConsumerError};
use rafka::producer::{ProduceError, Producer, ProducerConfig, ProducerRecord};
use rafka::wire::{ErrorCode, TopicPartition};
use rafka_client::sasl::SaslError;
use rafka_client::{Admin, Client, ClientConfig, Error, SaslMechanism, SecurityProtocol};
use rafka_integration::{unique_name, KafkaCluster};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

/// Records per produce-and-consume round.
const RECORDS: usize = 25;
/// How long a refused login may take before it counts as a hang.
const REFUSAL_WITHIN: Duration = Duration::from_secs(15);

const PLAIN_JAAS: &str = r#"org.apache.kafka.common.security.plain.PlainLoginModule required username="admin" password="admin-secret" user_admin="admin-secret" user_alice="alice-secret";"#;
const SCRAM_JAAS: &str = "org.apache.kafka.common.security.scram.ScramLoginModule required;";

fn sasl_config(
    bootstrap: &str,
    protocol: SecurityProtocol,
    mechanism: SaslMechanism,
    user: &str,
    password: &str,
) -> ClientConfig {
    ClientConfig::builder()
        .bootstrap_servers(bootstrap)
        .security_protocol(protocol)
        .sasl_mechanism(mechanism)
        .sasl_credentials(user, password)
        .request_timeout(Duration::from_secs(10))
        .default_api_timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// Creates `topic` (1 partition) through a client of `cfg`, produces [`RECORDS`] records with
/// rafka's producer and reads them back with rafka's consumer, all over `cfg`'s listener. With
/// `group`, the consumer subscribes in that group and commits, and the commit is read back.
async fn produce_and_consume(
    cfg: &ClientConfig,
    topic: &str,
    group: Option<&str>,
) -> anyhow::Result<()> {
    let bootstrap = cfg.bootstrap_servers.join(",");
    let admin = Admin::new(Client::connect(cfg.clone()).await.context("connect")?);
    admin
        .create_topic(topic, 1, 1)
        .await
        .context("create topic")?;

    let producer = Producer::new(
        ProducerConfig::builder(&bootstrap)
            .client(cfg.clone())
            .build()?,
    )?;
    let sent: Vec<String> = (0..RECORDS).map(|i| format!("{topic}-{i}")).collect();
    let mut deliveries = Vec::new();
    for v in &sent {
        deliveries.push(
            producer
                .send(ProducerRecord::new(topic).key(v.clone()).value(v.clone()))
                .await?,
        );
    }
    for (i, d) in deliveries.into_iter().enumerate() {
        let meta = d.await.context("delivery")?;
        assert_eq!((meta.partition, meta.offset), (0, i as i64), "{topic}");
    }
    producer.close(Duration::from_secs(10)).await?;

    let mut builder = ConsumerConfig::builder(&bootstrap)
        .client(cfg.clone())
        .auto_offset_reset(AutoOffsetReset::Earliest)
        .fetch_max_wait(Duration::from_millis(100));
    if let Some(g) = group {
        builder = builder.group_id(g);
    }
    let mut consumer = Consumer::new(builder.build()?)?;
    let tp = TopicPartition::new(topic, 0);
    match group {
        Some(_) => consumer.subscribe([topic])?,
        None => consumer.assign(std::slice::from_ref(&tp))?,
    }
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while got.len() < RECORDS && Instant::now() < deadline {
        for r in consumer.poll(Duration::from_millis(200)).await? {
            assert_eq!(r.key, r.value);
            got.push(String::from_utf8(r.value.unwrap_or_default().to_vec())?);
        }
    }
    assert_eq!(got, sent, "{topic}: consumed what was produced, in order");
    if group.is_some() {
        consumer.commit_sync().await?;
        let committed = consumer.committed(std::slice::from_ref(&tp)).await?;
        assert_eq!(committed.get(&tp), Some(&(RECORDS as i64)), "{topic}");
    }
    consumer.close().await?;
    Ok(())
}

/// Connects with `cfg` and returns the error, failing the test when the connection succeeds or
/// takes longer than [`REFUSAL_WITHIN`].
async fn refused(cfg: ClientConfig) -> Error {
    let started = Instant::now();
    let result = tokio::time::timeout(REFUSAL_WITHIN, Client::connect(cfg))
        .await
        .expect("a refused connection must not hang");
    let Err(err) = result else {
        panic!("the connection must be refused");
    };
    assert!(
        started.elapsed() < REFUSAL_WITHIN,
        "{:?}",
        started.elapsed()
    );
    err
}

fn assert_auth_failed(err: &Error, what: &str) {
    assert!(
        matches!(
            err,
            Error::Sasl {
                source: SaslError::AuthenticationFailed(_),
                ..
            }
        ),
        "{what}: {err:?}"
    );
    assert!(!err.is_retriable(), "{what}: {err:?}");
}

/// Logs in with `cfg` until it works: a new SCRAM credential reaches the broker through the
/// metadata log, a moment after AlterUserScramCredentials returns.
async fn login_eventually(cfg: &ClientConfig) -> anyhow::Result<Client> {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match Client::connect(cfg.clone()).await {
            Ok(c) => return Ok(c),
            Err(Error::Sasl {
                source: SaslError::AuthenticationFailed(m),
                ..
            }) if Instant::now() < deadline => {
                tracing::debug!("not yet: {m}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Starts a SCRAM login as `user` by hand on the first node of `bootstrap` and returns the
/// salt and iteration count of the broker's server-first message (RFC 5802 `s=` and `i=`).
async fn server_first(
    bootstrap: &str,
    mechanism: &str,
    user: &str,
) -> anyhow::Result<(Vec<u8>, u32)> {
    use base64::Engine;
    use kafka_protocol::messages::{SaslAuthenticateRequest, SaslHandshakeRequest};
    use kafka_protocol::protocol::StrBytes;

    let addr = bootstrap.split(',').next().unwrap();
    let mut conn = rafka_integration::raw::RawConnection::connect(addr).await?;
    let handshake = conn
        .call(
            1,
            &SaslHandshakeRequest::default()
                .with_mechanism(StrBytes::from_string(mechanism.to_string())),
        )
        .await?;
    anyhow::ensure!(handshake.error_code == 0, "SaslHandshake: {handshake:?}");
    let first = format!("n,,n={user},r=rafkaTestNonce");
    let answer = conn
        .call(
            2,
            &SaslAuthenticateRequest::default().with_auth_bytes(bytes::Bytes::from(first)),
        )
        .await?;
    anyhow::ensure!(answer.error_code == 0, "SaslAuthenticate: {answer:?}");
    let text = String::from_utf8(answer.auth_bytes.to_vec())?;
    let field = |k: &str| {
        text.split(',')
            .find_map(|a| a.strip_prefix(k))
            .with_context(|| format!("no {k} in {text}"))
    };
    anyhow::ensure!(field("r=")?.starts_with("rafkaTestNonce"), "{text}");
    let salt = base64::engine::general_purpose::STANDARD.decode(field("s=")?)?;
    Ok((salt, field("i=")?.parse()?))
}

type Described = BTreeMap<String, Result<Vec<ScramCredentialInfo>, Error>>;

/// DescribeUserScramCredentials for `users` until `done` holds (15 s at most), then the last
/// answer: the broker answers from its metadata image, which takes in an alteration a moment
/// after AlterUserScramCredentials returns.
async fn described_eventually(
    admin: &Admin,
    users: &[&str],
    done: impl Fn(&Described) -> bool,
) -> Described {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let described = admin
            .describe_user_scram_credentials(Some(users))
            .await
            .unwrap();
        if done(&described) || Instant::now() >= deadline {
            return described;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn sorted(mut infos: Vec<ScramCredentialInfo>) -> Vec<(i8, i32)> {
    let mut out: Vec<(i8, i32)> = infos
        .drain(..)
        .map(|c| {
            (
                rafka::client::admin::scram::mechanism_type(c.mechanism),
                c.iterations,
            )
        })
        .collect();
    out.sort();
    out
}

fn code_of(results: &BTreeMap<String, Result<(), Error>>, user: &str) -> Option<ErrorCode> {
    match results
        .get(user)
        .unwrap_or_else(|| panic!("no result for {user}"))
    {
        Ok(()) => None,
        Err(e) => Some(e.code().unwrap_or_else(|| panic!("{user}: {e:?}"))),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sasl_plain_and_scram_users_made_with_the_admin_api() {
    let started = Instant::now();
    let cluster = KafkaCluster::start_with_listeners(
        1,
        &[("SASL_PLAINTEXT", "SASL_PLAINTEXT")],
        &[
            (
                "sasl.enabled.mechanisms",
                "PLAIN,SCRAM-SHA-256,SCRAM-SHA-512",
            ),
            (
                "listener.name.sasl_plaintext.plain.sasl.jaas.config",
                PLAIN_JAAS,
            ),
            (
                "listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config",
                SCRAM_JAAS,
            ),
            (
                "listener.name.sasl_plaintext.scram-sha-512.sasl.jaas.config",
                SCRAM_JAAS,
            ),
        ],
    )
    .expect("start Kafka with a SASL_PLAINTEXT listener");
    eprintln!("cluster up in {:?}", started.elapsed());
    let sasl = cluster.listener_bootstrap("SASL_PLAINTEXT").unwrap();
    let cfg =
        |m, user: &str, pw: &str| sasl_config(&sasl, SecurityProtocol::SaslPlaintext, m, user, pw);

    // PLAIN: users from the listener's JAAS config.
    produce_and_consume(
        &cfg(SaslMechanism::Plain, "alice", "alice-secret"),
        &unique_name("plain"),
        Some(&unique_name("plain-group")),
    )
    .await
    .expect("PLAIN as alice");
    let err = refused(cfg(SaslMechanism::Plain, "alice", "wrong")).await;
    assert_auth_failed(&err, "PLAIN, wrong password");
    let err = refused(cfg(SaslMechanism::Plain, "mallory", "alice-secret")).await;
    assert_auth_failed(&err, "PLAIN, unknown user");
    // Without SASL on a SASL listener the broker hangs up; that must not hang the client.
    let err = refused(
        ClientConfig::builder()
            .bootstrap_servers(&sasl)
            .request_timeout(Duration::from_secs(5))
            .build()
            .unwrap(),
    )
    .await;
    assert!(
        matches!(
            err,
            Error::ConnectionClosed { .. } | Error::Io { .. } | Error::Timeout { .. }
        ),
        "no SASL on a SASL listener: {err:?}"
    );

    // SCRAM users, made with the Admin API over the PLAINTEXT listener.
    let admin = Admin::new(cluster.client().await.unwrap());
    let before = admin.describe_user_scram_credentials(None).await.unwrap();
    assert!(before.is_empty(), "no SCRAM users yet: {before:?}");
    let results = admin
        .alter_user_scram_credentials(&[
            ScramCredentialAlteration::upsert("bob", ScramHash::Sha256, 8192, "bob-256"),
            ScramCredentialAlteration::upsert("carol", ScramHash::Sha512, 16384, "carol-512")
                .with_salt(b"a fixed salt".to_vec()),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 2, "{results:?}");
    assert!(results.values().all(Result::is_ok), "{results:?}");
    // Kafka takes one alteration per user and request: bob's second mechanism comes alone.
    let results = admin
        .alter_user_scram_credentials(&[ScramCredentialAlteration::upsert(
            "bob",
            ScramHash::Sha512,
            4096,
            "bob-512",
        )])
        .await
        .unwrap();
    assert!(results["bob"].is_ok(), "{results:?}");

    let described = described_eventually(
        &admin,
        &["bob", "carol", "nobody"],
        |d| matches!(d.get("bob"), Some(Ok(c)) if c.len() == 2),
    )
    .await;
    assert_eq!(
        sorted(described["bob"].clone().unwrap()),
        [(1, 8192), (2, 4096)]
    );
    assert_eq!(sorted(described["carol"].clone().unwrap()), [(2, 16384)]);
    assert_eq!(
        described["nobody"].as_ref().unwrap_err().code(),
        Some(ErrorCode::RESOURCE_NOT_FOUND)
    );
    let all = admin.describe_user_scram_credentials(None).await.unwrap();
    assert_eq!(
        all.keys().map(String::as_str).collect::<Vec<_>>(),
        ["bob", "carol"]
    );

    // SCRAM-SHA-256 and SCRAM-SHA-512 logins with those credentials.
    let bob256 = cfg(SaslMechanism::ScramSha256, "bob", "bob-256");
    login_eventually(&bob256).await.expect("bob, SCRAM-SHA-256");
    produce_and_consume(&bob256, &unique_name("scram256"), None)
        .await
        .expect("SCRAM-SHA-256 as bob");
    let bob512 = cfg(SaslMechanism::ScramSha512, "bob", "bob-512");
    login_eventually(&bob512).await.expect("bob, SCRAM-SHA-512");
    produce_and_consume(
        &bob512,
        &unique_name("scram512"),
        Some(&unique_name("scram512-group")),
    )
    .await
    .expect("SCRAM-SHA-512 as bob");
    login_eventually(&cfg(SaslMechanism::ScramSha512, "carol", "carol-512"))
        .await
        .expect("carol, SCRAM-SHA-512, 16384 iterations, fixed salt");
    // The broker's server-first message carries the salt and iterations the upsertion sent.
    assert_eq!(
        server_first(&sasl, "SCRAM-SHA-512", "carol").await.unwrap(),
        (b"a fixed salt".to_vec(), 16384)
    );

    for (m, user, pw, what) in [
        (
            SaslMechanism::ScramSha256,
            "bob",
            "bob-512",
            "the other mechanism's password",
        ),
        (SaslMechanism::ScramSha512, "bob", "wrong", "wrong password"),
        (
            SaslMechanism::ScramSha256,
            "carol",
            "carol-512",
            "no SHA-256 credential",
        ),
        (SaslMechanism::ScramSha512, "nobody", "x", "unknown user"),
    ] {
        let err = refused(cfg(m, user, pw)).await;
        assert_auth_failed(&err, what);
    }

    // The broker's refusals, per user.
    let results = admin
        .alter_user_scram_credentials(&[
            ScramCredentialAlteration::upsert("dave", ScramHash::Sha256, 4095, "pw"),
            ScramCredentialAlteration::delete("erin", ScramHash::Sha256),
            ScramCredentialAlteration::upsert("frank", ScramHash::Sha256, 4096, "pw"),
            ScramCredentialAlteration::upsert("frank", ScramHash::Sha512, 4096, "pw"),
            ScramCredentialAlteration::upsert("", ScramHash::Sha512, 4096, "pw"),
            ScramCredentialAlteration::upsert("gina", ScramHash::Sha512, 16385, "pw"),
        ])
        .await
        .unwrap();
    assert_eq!(results.len(), 5, "{results:?}");
    assert_eq!(
        code_of(&results, "dave"),
        Some(ErrorCode::UNACCEPTABLE_CREDENTIAL),
        "too few iterations: {results:?}"
    );
    assert_eq!(
        code_of(&results, "erin"),
        Some(ErrorCode::RESOURCE_NOT_FOUND),
        "{results:?}"
    );
    assert_eq!(
        code_of(&results, "frank"),
        Some(ErrorCode::DUPLICATE_RESOURCE),
        "{results:?}"
    );
    assert_eq!(
        code_of(&results, ""),
        Some(ErrorCode::UNACCEPTABLE_CREDENTIAL),
        "{results:?}"
    );
    assert_eq!(
        code_of(&results, "gina"),
        Some(ErrorCode::UNACCEPTABLE_CREDENTIAL),
        "{results:?}"
    );
    let all = admin.describe_user_scram_credentials(None).await.unwrap();
    assert_eq!(all.len(), 2, "nothing refused was stored: {all:?}");

    // Deleting bob's SHA-256 credential ends those logins; SHA-512 still works.
    let results = admin
        .alter_user_scram_credentials(&[ScramCredentialAlteration::delete(
            "bob",
            ScramHash::Sha256,
        )])
        .await
        .unwrap();
    assert!(results["bob"].is_ok(), "{results:?}");
    let described = described_eventually(
        &admin,
        &["bob"],
        |d| matches!(d.get("bob"), Some(Ok(c)) if c.len() == 1),
    )
    .await;
    assert_eq!(sorted(described["bob"].clone().unwrap()), [(2, 4096)]);
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match Client::connect(bob256.clone()).await {
            Err(err) => {
                assert_auth_failed(&err, "deleted credential");
                break;
            }
            Ok(_) => {
                assert!(
                    Instant::now() < deadline,
                    "deleted credential still accepted"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
    Client::connect(bob512.clone())
        .await
        .expect("bob's SHA-512 credential survives");

    // A producer and a consumer with a wrong password fail with the authentication error
    // instead of retrying until their timeouts.
    let wrong = cfg(SaslMechanism::ScramSha512, "bob", "wrong");
    let producer = Producer::new(
        ProducerConfig::builder(&sasl)
            .client(wrong.clone())
            .build()
            .unwrap(),
    )
    .unwrap();
    let outcome = tokio::time::timeout(REFUSAL_WITHIN, async {
        producer
            .send(ProducerRecord::new("any").value("x"))
            .await?
            .await
    })
    .await
    .expect("producer with a wrong password must not hang");
    let err = outcome.expect_err("producer with a wrong password");
    assert!(
        matches!(&err, ProduceError::Authentication(e @ rafka_client::Error::Sasl { .. }) if e.to_string().contains("authentication failed")),
        "producer: {err:?}"
    );
    assert!(!err.is_retriable(), "producer: {err:?}");
    let mut consumer = Consumer::new(
        ConsumerConfig::builder(&sasl)
            .client(wrong)
            .group_id(unique_name("wrong"))
            .build()
            .unwrap(),
    )
    .unwrap();
    consumer.subscribe(["any"]).unwrap();
    let outcome = tokio::time::timeout(REFUSAL_WITHIN, async {
        loop {
            consumer.poll(Duration::from_millis(200)).await?;
        }
        #[allow(unreachable_code)]
        Ok::<(), ConsumerError>(())
    })
    .await
    .expect("consumer with a wrong password must not hang");
    let err = outcome.expect_err("consumer with a wrong password");
    assert!(
        matches!(&err, ConsumerError::Client(e) if matches!(e, Error::Sasl { source: SaslError::AuthenticationFailed(_), .. })),
        "consumer: {err:?}"
    );
    eprintln!("SASL test done in {:?}", started.elapsed());
}

/// A CA and PEM files for the broker and clients, in a temporary folder.
struct Pki {
    dir: tempfile::TempDir,
    ca: rcgen::Certificate,
    ca_key: KeyPair,
}

impl Pki {
    fn new(name: &str) -> Pki {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, format!("rafka test CA {name}"));
        let ca_key = KeyPair::generate().unwrap();
        let ca = params.self_signed(&ca_key).unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.pem"), ca.pem()).unwrap();
        Pki { dir, ca, ca_key }
    }

    fn ca_path(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// A certificate for `names` signed by the CA, written as `file.pem` (certificate),
    /// `file.key` (PKCS#8 key) and `file.keystore.pem` (key then certificate: Kafka's PEM
    /// keystore file). Returns the folder's paths of the three.
    fn leaf(&self, file: &str, names: &[&str]) -> (PathBuf, PathBuf, PathBuf) {
        let mut params =
            CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>())
                .unwrap();
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, file);
        let key = KeyPair::generate().unwrap();
        let cert = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        let path = |ext: &str| self.dir.path().join(format!("{file}.{ext}"));
        std::fs::write(path("pem"), cert.pem()).unwrap();
        std::fs::write(path("key"), key.serialize_pem()).unwrap();
        std::fs::write(
            path("keystore.pem"),
            format!("{}{}", key.serialize_pem(), cert.pem()),
        )
        .unwrap();
        (path("pem"), path("key"), path("keystore.pem"))
    }
}

fn tls_config(bootstrap: &str, ca: &Path) -> ClientConfig {
    ClientConfig::builder()
        .bootstrap_servers(bootstrap)
        .security_protocol(SecurityProtocol::Ssl)
        .ssl_ca_location(Some(ca.to_path_buf()))
        .request_timeout(Duration::from_secs(10))
        .default_api_timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_mutual_tls_and_sasl_ssl() {
    let started = Instant::now();
    let pki = Pki::new("main");
    let (_, _, server_store) = pki.leaf("broker", &["localhost", "127.0.0.1"]);
    let (_, _, wrong_name_store) = pki.leaf("elsewhere", &["kafka.example.invalid"]);
    let (client_cert, client_key, _) = pki.leaf("client", &["rafka-client"]);
    let other = Pki::new("other");
    let (stranger_cert, stranger_key, _) = other.leaf("stranger", &["rafka-client"]);
    let path = |p: &Path| p.display().to_string();
    let server_store = path(&server_store);
    let wrong_name_store = path(&wrong_name_store);
    let ca = path(&pki.ca_path());
    let cluster = KafkaCluster::start_with_listeners(
        1,
        &[
            ("SSL", "SSL"),
            ("MTLS", "SSL"),
            ("WRONGNAME", "SSL"),
            ("SASL_SSL", "SASL_SSL"),
        ],
        &[
            ("ssl.keystore.type", "PEM"),
            ("ssl.keystore.location", &server_store),
            ("ssl.truststore.type", "PEM"),
            ("ssl.truststore.location", &ca),
            ("listener.name.mtls.ssl.client.auth", "required"),
            ("listener.name.wrongname.ssl.keystore.type", "PEM"),
            (
                "listener.name.wrongname.ssl.keystore.location",
                &wrong_name_store,
            ),
            ("sasl.enabled.mechanisms", "SCRAM-SHA-512"),
            (
                "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config",
                SCRAM_JAAS,
            ),
        ],
    )
    .expect("start Kafka with TLS listeners");
    eprintln!("cluster up in {:?}", started.elapsed());
    let ssl = cluster.listener_bootstrap("SSL").unwrap();
    let mtls = cluster.listener_bootstrap("MTLS").unwrap();
    let wrong_name = cluster.listener_bootstrap("WRONGNAME").unwrap();
    let sasl_ssl = cluster.listener_bootstrap("SASL_SSL").unwrap();

    // TLS, server verified against the test CA, host name checked (IP SAN 127.0.0.1).
    produce_and_consume(
        &tls_config(&ssl, &pki.ca_path()),
        &unique_name("tls"),
        Some(&unique_name("tls-group")),
    )
    .await
    .expect("TLS");
    // A client trusting another CA refuses the broker.
    let err = refused(tls_config(&ssl, &other.ca_path())).await;
    assert!(
        matches!(&err, Error::Tls { message, .. } if message.contains("UnknownIssuer")),
        "untrusted CA: {err:?}"
    );
    assert!(!err.is_retriable());
    // A certificate for another name: refused with host-name checking, accepted without it
    // (the chain is still checked).
    let err = refused(tls_config(&wrong_name, &pki.ca_path())).await;
    assert!(
        matches!(&err, Error::Tls { message, .. } if message.contains("not valid for name")),
        "certificate for another name: {err:?}"
    );
    let mut no_name_check = tls_config(&wrong_name, &pki.ca_path());
    no_name_check.ssl_endpoint_identification = false;
    let md = Client::connect(no_name_check)
        .await
        .expect("no host-name check")
        .refresh_metadata()
        .await
        .unwrap();
    assert_eq!(
        md.brokers[&1].port.to_string(),
        wrong_name.rsplit(':').next().unwrap(),
        "the broker advertises the listener it was asked on"
    );
    let mut no_name_check_other_ca = tls_config(&wrong_name, &other.ca_path());
    no_name_check_other_ca.ssl_endpoint_identification = false;
    let err = refused(no_name_check_other_ca).await;
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");

    // Mutual TLS: a certificate from the CA the broker trusts gets through; none, or one from
    // another CA, does not.
    let mut with_cert = tls_config(&mtls, &pki.ca_path());
    with_cert.ssl_certificate_location = Some(client_cert);
    with_cert.ssl_key_location = Some(client_key);
    produce_and_consume(&with_cert, &unique_name("mtls"), None)
        .await
        .expect("mutual TLS");
    let err = refused(tls_config(&mtls, &pki.ca_path())).await;
    assert!(
        matches!(&err, Error::Tls { message, .. } if message.contains("BadCertificate")),
        "mTLS without a client certificate: {err:?}"
    );
    assert!(!err.is_retriable());
    let mut stranger = tls_config(&mtls, &pki.ca_path());
    stranger.ssl_certificate_location = Some(stranger_cert);
    stranger.ssl_key_location = Some(stranger_key);
    let err = refused(stranger).await;
    assert!(
        matches!(&err, Error::Tls { message, .. } if message.contains("CertificateUnknown")),
        "mTLS with an untrusted client certificate: {err:?}"
    );
    assert!(!err.is_retriable());

    // SASL_SSL with a SCRAM-SHA-512 user made over PLAINTEXT.
    let admin = Admin::new(cluster.client().await.unwrap());
    let results = admin
        .alter_user_scram_credentials(&[ScramCredentialAlteration::upsert(
            "tls-user",
            ScramHash::Sha512,
            4096,
            "tls-secret",
        )])
        .await
        .unwrap();
    assert!(results["tls-user"].is_ok(), "{results:?}");
    let sasl_ssl_cfg = |pw: &str| {
        let mut c = sasl_config(
            &sasl_ssl,
            SecurityProtocol::SaslSsl,
            SaslMechanism::ScramSha512,
            "tls-user",
            pw,
        );
        c.ssl_ca_location = Some(pki.ca_path());
        c
    };
    login_eventually(&sasl_ssl_cfg("tls-secret"))
        .await
        .expect("SASL_SSL login");
    produce_and_consume(&sasl_ssl_cfg("tls-secret"), &unique_name("sasl-ssl"), None)
        .await
        .expect("SASL_SSL");
    let err = refused(sasl_ssl_cfg("wrong")).await;
    assert_auth_failed(&err, "SASL_SSL, wrong password");
    eprintln!("TLS test done in {:?}", started.elapsed());
}
