//! rafka-client SASL against Tansu started with `--authentication`.
//!
//! What can be checked: the SCRAM-SHA-256/512 exchange runs to the broker's final message
//! (Tansu answers an unknown user with a fake salt, takes our client-final and only then says
//! `e=unknown-user`), and refusals come back as typed errors. A successful login cannot be
//! tested against this Tansu build: `tansu user create` needs an authenticated connection to
//! a broker with `--authentication`, users live in the broker's memory storage (not shared
//! between processes), and the PyPI build has no PostgreSQL storage. The successful SCRAM and
//! PLAIN exchanges are covered by rafka-client's unit tests (RFC 7677 vectors, and a fake
//! broker that checks the SCRAM proof).

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rafka_client::sasl::SaslError;
use rafka_client::{Client, ClientConfig, Error, SaslMechanism, SecurityProtocol};

struct AuthBroker {
    child: Child,
    addr: String,
}

impl Drop for AuthBroker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_auth_broker() -> AuthBroker {
    let bin = rafka_integration::broker::tansu_bin().expect("tansu binary");
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let url = format!("tcp://{addr}");
    let child = Command::new(bin)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", "memory://tansu/", "--authentication"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tansu");
    let broker = AuthBroker { child, addr };
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(&broker.addr).is_err() {
        assert!(Instant::now() < deadline, "tansu did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    broker
}

fn sasl_config(addr: &str, mechanism: SaslMechanism) -> ClientConfig {
    ClientConfig::builder()
        .bootstrap_servers(addr)
        .security_protocol(SecurityProtocol::SaslPlaintext)
        .sasl_mechanism(mechanism)
        .sasl_credentials("nobody", "secret")
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn scram_exchange_reaches_the_brokers_verdict() {
    let broker = start_auth_broker();
    for mechanism in [SaslMechanism::ScramSha256, SaslMechanism::ScramSha512] {
        let err = Client::connect(sasl_config(&broker.addr, mechanism))
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::Sasl { source: SaslError::Scram(m), .. } if m == "server error: unknown-user"),
            "{mechanism:?}: {err:?}"
        );
        assert!(!err.is_retriable());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mechanisms_and_plaintext_refused() {
    let broker = start_auth_broker();
    // Tansu offers no PLAIN and hangs up instead of answering UNSUPPORTED_SASL_MECHANISM.
    let err = Client::connect(sasl_config(&broker.addr, SaslMechanism::Plain))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::ConnectionClosed { api: Some(api), .. } if api.name == "SaslHandshake"),
        "{err:?}"
    );
    // Without SASL the first request after ApiVersions is refused the same way.
    let plain = ClientConfig::builder()
        .bootstrap_servers(&broker.addr)
        .request_timeout(Duration::from_secs(5))
        .build()
        .unwrap();
    let err = Client::connect(plain).await.unwrap_err();
    assert!(
        matches!(err, Error::ConnectionClosed { .. } | Error::Io { .. }),
        "{err:?}"
    );
}
