//! Record-batch codec throughput: rafka's `records` codec against kafka-protocol's
//! `RecordBatchEncoder`/`RecordBatchDecoder`, and a memcpy of the same bytes as the floor.
//!
//! Workload: one batch of 1,000 records with 100-byte values, null keys and no headers, for
//! every codec. Throughput is counted in uncompressed batch bytes for every row, so rows
//! compare directly. `decode` means: walk the batch, check the CRC, decompress, and visit
//! every record's value. After criterion's own output a summary table in GB/s is printed.
//!
//! Run: `cargo bench -p rafka-benches --bench codec`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use criterion::{BenchmarkId, Criterion, Throughput};
use kafka_protocol::records as kp;
use rafka_wire::records::{decode_batches, encode_batch, BatchMeta, Compression, RecordRef};

const RECORDS: usize = 1_000;
const VALUE_LEN: usize = 100;
const BASE_TS: i64 = 1_700_000_000_000;

/// Values that compress roughly like text (a small alphabet, pseudo-random order).
fn values() -> Vec<Vec<u8>> {
    let mut x: u32 = 0x9e37_79b9;
    (0..RECORDS)
        .map(|_| {
            (0..VALUE_LEN)
                .map(|_| {
                    x ^= x << 13;
                    x ^= x >> 17;
                    x ^= x << 5;
                    b"abcdefghijklmnop ,.0123"[(x % 23) as usize]
                })
                .collect()
        })
        .collect()
}

struct Workload {
    values: Vec<Vec<u8>>,
    kp_records: Vec<kp::Record>,
    uncompressed_len: usize,
}

impl Workload {
    fn new() -> Self {
        let values = values();
        let kp_records = values
            .iter()
            .enumerate()
            .map(|(i, v)| kp::Record {
                transactional: false,
                control: false,
                delete_horizon: false,
                partition_leader_epoch: -1,
                producer_id: -1,
                producer_epoch: -1,
                timestamp_type: kp::TimestampType::Creation,
                offset: i as i64,
                sequence: -1,
                timestamp: BASE_TS + i as i64,
                key: None,
                value: Some(Bytes::copy_from_slice(v)),
                headers: Default::default(),
            })
            .collect();
        let mut w = Workload {
            values,
            kp_records,
            uncompressed_len: 0,
        };
        w.uncompressed_len = w.encode_ours(Compression::None).len();
        w
    }

    fn refs(&self) -> Vec<RecordRef<'_>> {
        self.values
            .iter()
            .enumerate()
            .map(|(i, v)| RecordRef {
                timestamp: BASE_TS + i as i64,
                key: None,
                value: Some(v),
                headers: &[],
            })
            .collect()
    }

    fn encode_ours(&self, compression: Compression) -> Bytes {
        let mut out = BytesMut::new();
        let meta = BatchMeta {
            compression,
            ..BatchMeta::default()
        };
        encode_batch(&meta, &self.refs(), &mut out).unwrap();
        out.freeze()
    }
}

fn kp_compression(c: Compression) -> kp::Compression {
    match c {
        Compression::None => kp::Compression::None,
        Compression::Gzip => kp::Compression::Gzip,
        Compression::Snappy => kp::Compression::Snappy,
        Compression::Lz4 => kp::Compression::Lz4,
        Compression::Zstd => kp::Compression::Zstd,
    }
}

/// The operations measured, each returning something to keep the optimizer honest.
enum Op {
    OursEncode,
    /// Borrowed views (`RecordBatch::section` + `RecordSection::views`).
    OursDecode,
    /// Owned `Record`s (`RecordBatch::records`), one `Bytes` per key/value.
    OursDecodeOwned,
    KpEncode,
    KpDecode,
    Memcpy,
}

impl Op {
    const ALL: [(Op, &'static str); 6] = [
        (Op::OursEncode, "rafka encode"),
        (Op::KpEncode, "kafka-protocol encode"),
        (Op::OursDecode, "rafka decode"),
        (Op::OursDecodeOwned, "rafka decode owned"),
        (Op::KpDecode, "kafka-protocol decode"),
        (Op::Memcpy, "memcpy"),
    ];
}

/// Pre-built inputs for one codec, reused across iterations.
struct Case<'a> {
    w: &'a Workload,
    compression: Compression,
    refs: Vec<RecordRef<'a>>,
    ours: Bytes,
    kp: Bytes,
    out: BytesMut,
    copy: Vec<u8>,
}

impl<'a> Case<'a> {
    fn new(w: &'a Workload, compression: Compression) -> Self {
        let mut kp_buf = BytesMut::new();
        let opts = kp::RecordEncodeOptions {
            version: 2,
            compression: kp_compression(compression),
        };
        kp::RecordBatchEncoder::encode(&mut kp_buf, &w.kp_records, &opts).unwrap();
        Case {
            w,
            compression,
            refs: w.refs(),
            ours: w.encode_ours(compression),
            kp: kp_buf.freeze(),
            out: BytesMut::with_capacity(2 * w.uncompressed_len),
            copy: Vec::with_capacity(w.uncompressed_len),
        }
    }

    /// Checks that every decoder sees all the value bytes, so no row measures less work.
    fn verify(&mut self) {
        for op in [Op::OursDecode, Op::OursDecodeOwned, Op::KpDecode] {
            assert_eq!(self.run(&op), RECORDS * VALUE_LEN);
        }
    }

    fn run(&mut self, op: &Op) -> usize {
        match op {
            Op::OursEncode => {
                self.out.clear();
                let meta = BatchMeta {
                    compression: self.compression,
                    ..BatchMeta::default()
                };
                encode_batch(&meta, &self.refs, &mut self.out).unwrap();
                self.out.len()
            }
            Op::OursDecode => {
                let mut n = 0;
                for batch in decode_batches(self.ours.clone()) {
                    let section = batch.unwrap().section().unwrap();
                    for r in section.views() {
                        n += r.unwrap().value.map_or(0, |v| v.len());
                    }
                }
                n
            }
            Op::OursDecodeOwned => {
                let mut n = 0;
                for batch in decode_batches(self.ours.clone()) {
                    for r in batch.unwrap().records().unwrap() {
                        n += r.unwrap().value.map_or(0, |v| v.len());
                    }
                }
                n
            }
            Op::KpEncode => {
                self.out.clear();
                let opts = kp::RecordEncodeOptions {
                    version: 2,
                    compression: kp_compression(self.compression),
                };
                kp::RecordBatchEncoder::encode(&mut self.out, &self.w.kp_records, &opts).unwrap();
                self.out.len()
            }
            Op::KpDecode => {
                // kafka-protocol splits the records over several batches: decode them all
                let mut buf = self.kp.clone();
                let sets = kp::RecordBatchDecoder::decode_all(&mut buf).unwrap();
                sets.iter()
                    .flat_map(|s| &s.records)
                    .map(|r| r.value.as_ref().map_or(0, |v| v.len()))
                    .sum()
            }
            Op::Memcpy => {
                let src = black_box(&self.ours[..]);
                self.copy.clear();
                self.copy.extend_from_slice(src);
                black_box(&self.copy);
                self.copy.len()
            }
        }
    }
}

fn codec(c: &mut Criterion) {
    let w = Workload::new();
    for compression in Compression::ALL {
        let mut case = Case::new(&w, compression);
        case.verify();
        let mut group = c.benchmark_group(format!("codec/{compression}"));
        group.throughput(Throughput::Bytes(w.uncompressed_len as u64));
        for (op, name) in Op::ALL.iter() {
            if matches!(op, Op::Memcpy) && compression != Compression::None {
                continue;
            }
            group.bench_function(BenchmarkId::from_parameter(name), |b| {
                b.iter(|| black_box(case.run(op)))
            });
        }
        group.finish();
    }
}

/// Best time per call of `op` over `samples` timed runs of enough calls to take ~5 ms. The
/// minimum, not the median: on a shared machine interference only ever adds time.
fn best_time(case: &mut Case<'_>, op: &Op, samples: usize) -> Duration {
    let start = Instant::now();
    let mut calls = 0u32;
    while start.elapsed() < Duration::from_millis(5) {
        black_box(case.run(op));
        calls += 1;
    }
    (0..samples)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..calls {
                black_box(case.run(op));
            }
            t.elapsed() / calls
        })
        .min()
        .unwrap_or_default()
}

fn summary() {
    let w = Workload::new();
    let gbps = |d: Duration| w.uncompressed_len as f64 / d.as_secs_f64() / 1e9;
    println!();
    println!(
        "codec summary: 1 batch of {RECORDS} records x {VALUE_LEN} B values ({} B uncompressed); GB/s of uncompressed bytes",
        w.uncompressed_len
    );
    println!(
        "| codec | compressed B | rafka enc | kp enc | enc ratio | rafka dec | rafka dec owned | kp dec | dec ratio | owned ratio |"
    );
    println!("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |");
    let mut memcpy = 0.0;
    let mut none = [0.0; 3];
    for compression in Compression::ALL {
        let mut case = Case::new(&w, compression);
        case.verify();
        let t: Vec<f64> = [
            Op::OursEncode,
            Op::KpEncode,
            Op::OursDecode,
            Op::OursDecodeOwned,
            Op::KpDecode,
        ]
        .iter()
        .map(|op| gbps(best_time(&mut case, op, 40)))
        .collect();
        if compression == Compression::None {
            memcpy = gbps(best_time(&mut case, &Op::Memcpy, 40));
            none = [t[0], t[2], t[3]];
        }
        println!(
            "| {compression} | {} | {:.2} | {:.2} | {:.1}x | {:.2} | {:.2} | {:.2} | {:.1}x | {:.1}x |",
            case.ours.len(),
            t[0],
            t[1],
            t[0] / t[1],
            t[2],
            t[3],
            t[4],
            t[2] / t[4],
            t[3] / t[4],
        );
    }
    println!(
        "memcpy: {memcpy:.2} GB/s; uncompressed, in memcpy times: encode {:.1}x, decode {:.1}x, decode owned {:.1}x",
        memcpy / none[0],
        memcpy / none[1],
        memcpy / none[2],
    );
}

/// Runs the criterion benches with short measurement times (the whole run takes ~1 min).
fn benches() {
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(20)
        .configure_from_args();
    codec(&mut c);
}

fn main() {
    benches();
    Criterion::default().configure_from_args().final_summary();
    // `cargo test --benches` runs this binary in test mode; skip the slow table there.
    if !std::env::args().any(|a| a == "--test" || a == "--list") {
        summary();
    }
}
