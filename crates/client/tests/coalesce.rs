//! Concurrent metadata refreshes coalesce into one Metadata request: a fake broker holds the
//! first Metadata answer until every caller is queued behind it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use kafka_protocol::messages::api_versions_response::ApiVersion;
use kafka_protocol::messages::metadata_response::MetadataResponseBroker;
use kafka_protocol::messages::{ApiVersionsResponse, BrokerId, MetadataResponse};
use kafka_protocol::protocol::{Encodable, HeaderVersion, StrBytes};
use rafka_client::rafka_wire::{frame, header};
use rafka_client::{Client, ClientConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Semaphore;

struct FakeBroker {
    port: u16,
    metadata_requests: AtomicUsize,
    /// One permit per Metadata answer the test allows.
    release: Semaphore,
}

fn respond<M: Encodable + HeaderVersion>(cid: i32, version: i16, msg: &M) -> BytesMut {
    let mut body = BytesMut::new();
    header::encode_response_header(cid, M::header_version(version), &mut body);
    msg.encode(&mut body, version).unwrap();
    let mut out = BytesMut::new();
    frame::encode_frame(&body, &mut out).unwrap();
    out
}

async fn serve(broker: Arc<FakeBroker>, mut stream: tokio::net::TcpStream) {
    let mut buf = BytesMut::new();
    loop {
        while let Some(f) = frame::decode_frame(&mut buf, 1 << 20).unwrap() {
            let mut f = f;
            let (key, version, cid) = (f.get_i16(), f.get_i16(), f.get_i32());
            let out = match key {
                18 => respond(
                    cid,
                    version,
                    &ApiVersionsResponse::default().with_api_keys(vec![
                        ApiVersion::default().with_api_key(18).with_max_version(3),
                        ApiVersion::default().with_api_key(3).with_max_version(12),
                    ]),
                ),
                3 => {
                    broker.metadata_requests.fetch_add(1, Ordering::SeqCst);
                    broker.release.acquire().await.unwrap().forget();
                    respond(
                        cid,
                        version,
                        &MetadataResponse::default().with_brokers(vec![
                            MetadataResponseBroker::default()
                                .with_node_id(BrokerId(1))
                                .with_host(StrBytes::from_static_str("127.0.0.1"))
                                .with_port(broker.port as i32),
                        ]),
                    )
                }
                _ => return,
            };
            if stream.write_all(&out).await.is_err() {
                return;
            }
        }
        match stream.read_buf(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_refreshes_share_one_request() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let broker = Arc::new(FakeBroker {
        port: listener.local_addr().unwrap().port(),
        metadata_requests: AtomicUsize::new(0),
        release: Semaphore::new(1),
    });
    let b = broker.clone();
    tokio::spawn(async move {
        loop {
            let (s, _) = listener.accept().await.unwrap();
            tokio::spawn(serve(b.clone(), s));
        }
    });
    let config = ClientConfig::new(&format!("127.0.0.1:{}", broker.port));
    let client = Client::connect(config).await.unwrap();
    assert_eq!(broker.metadata_requests.load(Ordering::SeqCst), 1);

    let callers: Vec<_> = (0..20)
        .map(|_| {
            let c = client.clone();
            tokio::spawn(async move { c.refresh_metadata().await })
        })
        .collect();
    // Wait (bounded) for the first refresh to reach the broker, then give every caller time
    // to queue behind it before the answer is released.
    for _ in 0..200 {
        if broker.metadata_requests.load(Ordering::SeqCst) == 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(broker.metadata_requests.load(Ordering::SeqCst), 2);
    tokio::time::sleep(Duration::from_millis(300)).await;
    broker.release.add_permits(100);
    for c in callers {
        let cluster = c.await.unwrap().unwrap();
        assert_eq!(cluster.brokers.len(), 1);
    }
    assert_eq!(
        broker.metadata_requests.load(Ordering::SeqCst),
        2,
        "refreshes did not coalesce"
    );
}
