// franz-go under the throughput harness (benches/throughput): one produce or consume run with
// the harness's settings, reported as one JSON line on stdout in the harness's Outcome form.
//
//	franz-bench mode=produce broker=127.0.0.1:9092 topic=t partitions=6 count=100000 \
//	    size=100 linger_ms=5 batch_size=16384 codec=lz4 fetch_max_wait_ms=0
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kversion"
)

type args map[string]string

func (a args) str(k string) string {
	v, ok := a[k]
	if !ok {
		fail(fmt.Errorf("missing argument %s=", k))
	}
	return v
}

func (a args) num(k string) int64 {
	n, err := strconv.ParseInt(a.str(k), 10, 64)
	if err != nil {
		fail(fmt.Errorf("%s: %w", k, err))
	}
	return n
}

// outcome mirrors the harness's Outcome (benches/throughput/src/scenario.rs).
type outcome struct {
	Records   int64   `json:"records"`
	Bytes     int64   `json:"bytes"`
	Seconds   float64 `json:"seconds"`
	Errors    int64   `json:"errors"`
	P50Ms     float64 `json:"p50_ms"`
	P99Ms     float64 `json:"p99_ms"`
	FirstMs   float64 `json:"first_ms"`
	ClockCPUs float64 `json:"clock_cpu_s"`
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "franz-bench:", err)
	os.Exit(1)
}

// cpuSeconds is this process's user + system CPU time (all threads).
func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail(err)
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

// debugLog logs the client's debug messages to stderr when FRANZ_BENCH_DEBUG is set.
func debugLog() kgo.Opt {
	level := kgo.LogLevelNone
	if os.Getenv("FRANZ_BENCH_DEBUG") != "" {
		level = kgo.LogLevelDebug
	}
	return kgo.WithLogger(kgo.BasicLogger(os.Stderr, level, nil))
}

// maxVersions keeps franz-go's own request versions but ApiVersions at v4: Tansu 0.6 drops
// the connection on the v5 request that names the cluster and node (KIP-1242), which franz-go
// sends to every broker after the seed. The version only affects connection set-up.
func maxVersions() kgo.Opt {
	v := kversion.Stable()
	v.SetMaxKeyVersion(18, 4)
	return kgo.MaxVersions(v)
}

func main() {
	a := args{}
	for _, kv := range os.Args[1:] {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			fail(fmt.Errorf("argument %q is not key=value", kv))
		}
		a[k] = v
	}
	var out outcome
	switch a.str("mode") {
	case "produce":
		out = produce(a)
	case "consume":
		out = consume(a)
	default:
		fail(fmt.Errorf("unsupported mode %s", a["mode"]))
	}
	line, err := json.Marshal(out)
	if err != nil {
		fail(err)
	}
	fmt.Println(string(line))
}

func produce(a args) outcome {
	codec := kgo.NoCompression()
	switch a.str("codec") {
	case "none":
	case "lz4":
		codec = kgo.Lz4Compression()
	default:
		fail(fmt.Errorf("unsupported codec %s", a["codec"]))
	}
	topic := a.str("topic")
	// The settings rafka and librdkafka get: acks=all, linger.ms, batch.size, the codec,
	// 256 MiB of buffer, 8 MiB requests.
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(a.str("broker")),
		kgo.DefaultProduceTopic(topic),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(time.Duration(a.num("linger_ms"))*time.Millisecond),
		kgo.ProducerBatchMaxBytes(int32(a.num("batch_size"))),
		kgo.ProducerBatchCompression(codec),
		kgo.MaxBufferedBytes(256<<20),
		kgo.MaxBufferedRecords(2_000_000),
		kgo.BrokerMaxWriteBytes(8<<20),
		debugLog(),
		maxVersions(),
	)
	if err != nil {
		fail(err)
	}
	defer cl.Close()
	ctx := context.Background()
	value := make([]byte, a.num("size"))
	for i := range value {
		value[i] = 'x'
	}
	// Warm-up outside the clock: metadata and the producer id.
	if err := cl.ProduceSync(ctx, &kgo.Record{Value: value}).FirstErr(); err != nil {
		fail(fmt.Errorf("warm-up record: %w", err))
	}
	count := a.num("count")
	var errors atomic.Int64
	done := func(_ *kgo.Record, err error) {
		if err != nil {
			errors.Add(1)
		}
	}
	cpu0, start := cpuSeconds(), time.Now()
	for i := int64(1); i < count; i++ {
		// Blocks while the buffer is full, as Java's send does.
		cl.Produce(ctx, &kgo.Record{Value: value}, done)
	}
	if err := cl.Flush(ctx); err != nil {
		fail(err)
	}
	seconds := time.Since(start).Seconds()
	ok := count - errors.Load()
	return outcome{
		Records:   ok,
		Bytes:     ok * int64(len(value)),
		Seconds:   seconds,
		Errors:    errors.Load(),
		ClockCPUs: cpuSeconds() - cpu0,
	}
}

func consume(a args) outcome {
	topic := a.str("topic")
	parts := map[int32]kgo.Offset{}
	for p := int32(0); p < int32(a.num("partitions")); p++ {
		parts[p] = kgo.NewOffset().AtStart()
	}
	// Java's consumer defaults (franz-go's own FetchMaxWait is 5 s): 500 ms wait unless the
	// scenario sets one, 1 byte minimum, 50 MiB per fetch, 1 MiB per partition.
	wait := 500 * time.Millisecond
	if ms := a.num("fetch_max_wait_ms"); ms > 0 {
		wait = time.Duration(ms) * time.Millisecond
	}
	count := a.num("count")
	// The client starts fetching the assigned partitions as soon as it exists, so the clock
	// starts before it (the other clients' clocks start at `assign`, before any connection).
	cpu0, start := cpuSeconds(), time.Now()
	cl, err := kgo.NewClient(
		kgo.SeedBrokers(a.str("broker")),
		kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{topic: parts}),
		kgo.FetchMaxWait(wait),
		kgo.FetchMinBytes(1),
		kgo.FetchMaxBytes(50<<20),
		kgo.FetchMaxPartitionBytes(1<<20),
		debugLog(),
		maxVersions(),
	)
	if err != nil {
		fail(err)
	}
	defer cl.Close()
	var records, bytes int64
	var firstMs float64
	deadline := start.Add(300 * time.Second)
	for records < count && time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		fetches := cl.PollFetches(ctx)
		cancel()
		fetches.EachError(func(t string, p int32, err error) {
			if err != context.DeadlineExceeded {
				fail(fmt.Errorf("fetch %s[%d]: %w", t, p, err))
			}
		})
		fetches.EachRecord(func(r *kgo.Record) {
			if records == 0 {
				firstMs = time.Since(start).Seconds() * 1e3
			}
			records++
			bytes += int64(len(r.Value))
		})
	}
	seconds := time.Since(start).Seconds()
	missing := count - records
	if missing < 0 {
		missing = 0
	}
	return outcome{
		Records:   records,
		Bytes:     bytes,
		Seconds:   seconds,
		Errors:    missing,
		FirstMs:   firstMs,
		ClockCPUs: cpuSeconds() - cpu0,
	}
}
