//! The report: a markdown table of medians, spreads and ratios against librdkafka, written
//! into `docs/benchmarks.md` between markers, and a PNG bar chart of throughput.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Result;
use plotters::prelude::*;

use crate::scenario::{ClientKind, Mode};
use crate::{Measured, Row};

const BEGIN: &str = "<!-- throughput:begin (written by benches/throughput) -->";
const END: &str = "<!-- throughput:end -->";

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    if v.is_empty() {
        return f64::NAN;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// `(max - min) / median` in percent.
fn spread(v: &[f64]) -> f64 {
    let med = median(v.to_vec());
    let max = v.iter().cloned().fold(f64::MIN, f64::max);
    let min = v.iter().cloned().fold(f64::MAX, f64::min);
    if med == 0.0 {
        0.0
    } else {
        (max - min) / med * 100.0
    }
}

fn stat(runs: &[Measured], f: impl Fn(&Measured) -> f64) -> (f64, f64) {
    let v: Vec<f64> = runs.iter().map(f).collect();
    (median(v.clone()), spread(&v))
}

fn msgs_per_s(m: &Measured) -> f64 {
    m.outcome.records as f64 / m.outcome.seconds
}

fn mb_per_s(m: &Measured) -> f64 {
    m.outcome.bytes as f64 / m.outcome.seconds / 1e6
}

/// CPU inside the clock (the child's own count), else the whole process's.
fn clock_cpu(m: &Measured) -> f64 {
    if m.outcome.clock_cpu_s > 0.0 {
        m.outcome.clock_cpu_s
    } else {
        m.cpu_seconds
    }
}

fn cpu_us_per_record(m: &Measured) -> f64 {
    clock_cpu(m) / m.outcome.records.max(1) as f64 * 1e6
}

fn peer<'a>(rows: &'a [Row], row: &Row, client: ClientKind) -> Option<&'a Row> {
    rows.iter().find(|r| {
        r.broker == row.broker
            && r.scenario == row.scenario
            && r.mode == row.mode
            && r.client == client
    })
}

/// The clients rafka's rows are compared with, in table order.
const PEERS: [ClientKind; 4] = [
    ClientKind::Librdkafka,
    ClientKind::Rskafka,
    ClientKind::Franz,
    ClientKind::Java,
];

/// The markdown section.
pub fn markdown(rows: &[Row], reps: usize, quick: bool) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Throughput, latency and rebalance (benches/throughput)\n"
    );
    let _ = writeln!(
        s,
        "Machine: {}; {} cores; the broker on the same cores: Tansu (one per scenario, memory \
         storage) or Apache Kafka (one 1-node KRaft cluster per run, log on local disk). Medians \
         of {reps} runs, spread = (max - min) / median. Each client runs in its own process \
         (franz-go and Java as their own programs, with no wrapper): *CPU s* = user + sys \
         seconds of that whole process from `wait4` (start-up, a JVM's JIT and teardown \
         included), RSS = its peak; *clock CPU s* = the CPU the process counted itself \
         (`getrusage`, the JVM's process CPU time) between the start and the end of the clock, \
         which CPU µs/record divides by records. acks=all; 6 partitions; null keys. Ratios are \
         rafka / peer (higher is better for msgs/s, lower for CPU per record and latency). \
         Consume throughput is timed from `assign` (from the beginning of all 6 partitions) to \
         the last record, so it includes connecting and the first fetch, for every client \
         (rskafka's partition clients connect inside the clock too; franz-go's clock starts \
         before its client exists, since it starts fetching at once); *first ms* is the part of \
         that before the first record.{}\n",
        machine(),
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        if quick {
            " **Quick run: counts divided by 10.**"
        } else {
            ""
        }
    );
    let _ = writeln!(
        s,
        "| broker | scenario | mode | client | msgs/s | spread | MB/s | CPU s | clock CPU s | CPU µs/record | peak RSS MiB | first ms | rafka ratios |"
    );
    let _ = writeln!(
        s,
        "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
    );
    for row in rows
        .iter()
        .filter(|r| matches!(r.mode, Mode::Produce | Mode::Consume))
    {
        let (mps, sp) = stat(&row.runs, msgs_per_s);
        let (mbs, _) = stat(&row.runs, mb_per_s);
        let (cpu, _) = stat(&row.runs, |m| m.cpu_seconds);
        let (ccpu, _) = stat(&row.runs, clock_cpu);
        let (cpr, _) = stat(&row.runs, cpu_us_per_record);
        let (rss, _) = stat(&row.runs, |m| m.peak_rss_mib);
        let first = match row.mode {
            Mode::Consume => format!("{:.0}", stat(&row.runs, |m| m.outcome.first_ms).0),
            _ => "-".to_string(),
        };
        let mut ratio = Vec::new();
        if row.client == ClientKind::Rafka {
            for other in PEERS {
                if let Some(p) = peer(rows, row, other) {
                    let (pm, _) = stat(&p.runs, msgs_per_s);
                    let (pc, _) = stat(&p.runs, cpu_us_per_record);
                    ratio.push(format!(
                        "{:.2}x msgs/s, {:.2}x CPU/rec vs {}",
                        mps / pm,
                        cpr / pc,
                        other.name()
                    ));
                }
            }
        }
        let ratio = if ratio.is_empty() {
            "-".to_string()
        } else {
            ratio.join("; ")
        };
        let _ = writeln!(
            s,
            "| {} | {} | {:?} | {} | {:.0} | ±{:.0}% | {:.1} | {:.2} | {:.2} | {:.2} | {:.0} | {} | {} |",
            row.broker.name(),
            row.scenario,
            row.mode,
            row.client.name(),
            mps,
            sp,
            mbs,
            cpu,
            ccpu,
            cpr,
            rss,
            first,
            ratio
        );
    }
    let _ = writeln!(
        s,
        "\n| broker | scenario | client | p50 ms | p99 ms | vs librdkafka (p99) |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---|");
    for row in rows.iter().filter(|r| r.mode == Mode::Latency) {
        let (p50, _) = stat(&row.runs, |m| m.outcome.p50_ms);
        let (p99, _) = stat(&row.runs, |m| m.outcome.p99_ms);
        let ratio = match peer(rows, row, ClientKind::Librdkafka) {
            Some(p) if row.client == ClientKind::Rafka => {
                format!("{:.2}x", p99 / stat(&p.runs, |m| m.outcome.p99_ms).0)
            }
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2} | {:.2} | {} |",
            row.broker.name(),
            row.scenario,
            row.client.name(),
            p50,
            p99,
            ratio
        );
    }
    let _ = writeln!(
        s,
        "\n| broker | scenario | client | seconds to stable | spread | vs librdkafka |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---|");
    for row in rows.iter().filter(|r| r.mode == Mode::Rebalance) {
        let (secs, sp) = stat(&row.runs, |m| m.outcome.seconds);
        let ratio = match peer(rows, row, ClientKind::Librdkafka) {
            Some(p) if row.client == ClientKind::Rafka => {
                format!("{:.2}x", secs / stat(&p.runs, |m| m.outcome.seconds).0)
            }
            _ => "-".into(),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.2} | ±{:.0}% | {} |",
            row.broker.name(),
            row.scenario,
            row.client.name(),
            secs,
            sp,
            ratio
        );
    }
    let _ = writeln!(s, "\n![throughput per client](throughput.png)");
    s
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .next()
                .map(|l| l.split_whitespace().nth(1).unwrap_or("0").to_string())
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(String::new(), |kb| {
            format!(", {:.0} GiB RAM", kb / 1024.0 / 1024.0)
        });
    format!("{cpu}{mem}")
}

/// Replaces the section between the markers in `path` (appends it when absent).
pub fn write_section(path: &Path, section: &str) -> Result<()> {
    let old = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let block = format!("{BEGIN}\n{section}\n{END}");
    let new = match (old.find(BEGIN), old.find(END)) {
        (Some(a), Some(b)) if b > a => format!("{}{}{}", &old[..a], block, &old[b + END.len()..]),
        _ => format!("{}\n{}\n", old.trim_end(), block),
    };
    std::fs::write(path, new)?;
    Ok(())
}

/// Bar chart: median msgs/s of each produce/consume scenario, one bar per client.
pub fn chart(rows: &[Row], path: &Path) -> Result<()> {
    let font = ["/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"]
        .iter()
        .find_map(|p| std::fs::read(p).ok());
    let Some(font) = font else {
        eprintln!("no DejaVu font (apt-get install fonts-dejavu-core): chart skipped");
        return Ok(());
    };
    let font: &'static [u8] = Box::leak(font.into_boxed_slice());
    let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, font);
    let bars: Vec<&Row> = rows
        .iter()
        .filter(|r| matches!(r.mode, Mode::Produce | Mode::Consume))
        .collect();
    let mut labels: Vec<String> = Vec::new();
    for r in &bars {
        let l = format!("{} {:?} {}", r.broker.name(), r.mode, r.scenario);
        if !labels.contains(&l) {
            labels.push(l);
        }
    }
    let clients = [
        ClientKind::Rafka,
        ClientKind::Librdkafka,
        ClientKind::Rskafka,
        ClientKind::Franz,
        ClientKind::Java,
    ];
    let max = bars
        .iter()
        .map(|r| stat(&r.runs, msgs_per_s).0)
        .fold(0.0, f64::max)
        * 1.1;
    let height = 120 + 60 * labels.len() as u32;
    let root = BitMapBackend::new(path, (1400, height)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption("records/s per client (median)", ("sans-serif", 24))
        .margin(20)
        .x_label_area_size(40)
        .y_label_area_size(560)
        .build_cartesian_2d(0.0..max.max(1.0), -0.5..labels.len() as f64 - 0.5)?;
    chart
        .configure_mesh()
        .disable_y_mesh()
        .y_labels(labels.len())
        .y_label_formatter(&|y| {
            // Key points fall on the integers, where each scenario's bars are centred.
            if (y - y.round()).abs() < 0.05 {
                labels.get(y.round() as usize).cloned().unwrap_or_default()
            } else {
                String::new()
            }
        })
        .x_label_formatter(&|x| format!("{:.1}M", x / 1e6))
        .x_desc("records/s")
        .draw()?;
    let colors = [
        RGBColor(214, 64, 32),
        RGBColor(60, 90, 200),
        RGBColor(90, 160, 70),
        RGBColor(0, 150, 170),
        RGBColor(230, 160, 30),
    ];
    let bar = 0.8 / clients.len() as f64;
    for (ci, c) in clients.iter().enumerate() {
        let color = colors[ci];
        let rects: Vec<_> = bars
            .iter()
            .filter(|r| r.client == *c)
            .filter_map(|r| {
                let l = format!("{} {:?} {}", r.broker.name(), r.mode, r.scenario);
                let i = labels.iter().position(|x| *x == l)? as f64;
                let y0 = i - 0.4 + ci as f64 * bar;
                Some(Rectangle::new(
                    [(0.0, y0), (stat(&r.runs, msgs_per_s).0, y0 + bar * 0.9)],
                    color.filled(),
                ))
            })
            .collect();
        chart
            .draw_series(rects)?
            .label(c.name())
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 10, y + 5)], color.filled()));
    }
    chart
        .configure_series_labels()
        .border_style(BLACK)
        .background_style(WHITE)
        .draw()?;
    root.present()?;
    Ok(())
}
