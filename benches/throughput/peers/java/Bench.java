// The Java client (kafka-clients) under the throughput harness (benches/throughput): one produce
// or consume run with the harness's settings, reported as one JSON line on stdout in the
// harness's Outcome form.
//
//   java -cp BUILD:LIBS/* Bench mode=produce broker=127.0.0.1:9092 topic=t partitions=6 \
//       count=100000 size=100 linger_ms=5 batch_size=16384 codec=lz4 fetch_max_wait_ms=0

import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.AtomicLong;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

public final class Bench {
    private final Map<String, String> args = new HashMap<>();

    private String str(String k) {
        String v = args.get(k);
        if (v == null) {
            throw new IllegalArgumentException("missing argument " + k + "=");
        }
        return v;
    }

    private long num(String k) {
        return Long.parseLong(str(k));
    }

    /** This process's CPU time (all threads), seconds. */
    private static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    public static void main(String[] argv) throws Exception {
        Bench b = new Bench();
        for (String kv : argv) {
            int eq = kv.indexOf('=');
            if (eq < 0) {
                throw new IllegalArgumentException("argument " + kv + " is not key=value");
            }
            b.args.put(kv.substring(0, eq), kv.substring(eq + 1));
        }
        double[] out;
        switch (b.str("mode")) {
            case "produce":
                out = b.produce();
                break;
            case "consume":
                out = b.consume();
                break;
            default:
                throw new IllegalArgumentException("unsupported mode " + b.str("mode"));
        }
        // records, bytes, seconds, errors, first_ms, clock_cpu_s
        System.out.printf(java.util.Locale.ROOT,
                "{\"records\":%d,\"bytes\":%d,\"seconds\":%.6f,\"errors\":%d,\"p50_ms\":0,"
                        + "\"p99_ms\":0,\"first_ms\":%.3f,\"clock_cpu_s\":%.6f}%n",
                (long) out[0], (long) out[1], out[2], (long) out[3], out[4], out[5]);
        System.out.flush();
        // Client threads are closed; exit without waiting for anything else.
        System.exit(0);
    }

    private double[] produce() throws Exception {
        String codec = str("codec");
        if (!codec.equals("none") && !codec.equals("lz4")) {
            throw new IllegalArgumentException("unsupported codec " + codec);
        }
        // The settings rafka and librdkafka get: acks=all, linger.ms, batch.size, the codec,
        // 256 MiB of buffer, 8 MiB requests.
        Properties p = new Properties();
        p.put("bootstrap.servers", str("broker"));
        p.put("acks", "all");
        p.put("linger.ms", str("linger_ms"));
        p.put("batch.size", str("batch_size"));
        p.put("compression.type", codec);
        p.put("buffer.memory", Long.toString(256L << 20));
        p.put("max.request.size", Long.toString(8L << 20));
        p.put("key.serializer", ByteArraySerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        String topic = str("topic");
        long count = num("count");
        byte[] value = new byte[(int) num("size")];
        Arrays.fill(value, (byte) 'x');
        try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(p)) {
            // Warm-up outside the clock: metadata and the producer id.
            producer.send(new ProducerRecord<>(topic, value)).get();
            AtomicLong errors = new AtomicLong();
            double cpu0 = cpuSeconds();
            long start = System.nanoTime();
            for (long i = 1; i < count; i++) {
                // Blocks while buffer.memory is full.
                producer.send(new ProducerRecord<>(topic, value), (md, e) -> {
                    if (e != null) {
                        errors.incrementAndGet();
                    }
                });
            }
            producer.flush();
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpu = cpuSeconds() - cpu0;
            long ok = count - errors.get();
            return new double[] {ok, ok * (double) value.length, seconds, errors.get(), 0, cpu};
        }
    }

    private double[] consume() {
        Properties p = new Properties();
        p.put("bootstrap.servers", str("broker"));
        p.put("enable.auto.commit", "false");
        p.put("auto.offset.reset", "earliest");
        // Java's defaults, spelled out: the other peers are set to the same.
        long wait = num("fetch_max_wait_ms");
        p.put("fetch.max.wait.ms", Long.toString(wait > 0 ? wait : 500));
        p.put("fetch.min.bytes", "1");
        p.put("fetch.max.bytes", Long.toString(50L << 20));
        p.put("max.partition.fetch.bytes", Long.toString(1L << 20));
        p.put("key.deserializer", ByteArrayDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        String topic = str("topic");
        long count = num("count");
        List<TopicPartition> tps = new ArrayList<>();
        for (int i = 0; i < num("partitions"); i++) {
            tps.add(new TopicPartition(topic, i));
        }
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            double cpu0 = cpuSeconds();
            long start = System.nanoTime();
            consumer.assign(tps);
            consumer.seekToBeginning(tps);
            long records = 0;
            long bytes = 0;
            double firstMs = 0;
            long deadline = start + 300_000_000_000L;
            while (records < count && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofSeconds(5))) {
                    if (records == 0) {
                        firstMs = (System.nanoTime() - start) / 1e6;
                    }
                    records++;
                    bytes += r.value() == null ? 0 : r.value().length;
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double cpu = cpuSeconds() - cpu0;
            return new double[] {records, bytes, seconds, Math.max(0, count - records), firstMs, cpu};
        }
    }
}
