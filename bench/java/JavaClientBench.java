import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.LockSupport;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * The Java client's side of bench/consume.ts where Kafka's own tools do not measure what the Node clients are
 * measured on (compiled and run by the bench against the broker's classpath):
 *
 *   consume BOOTSTRAP TOPIC RECORDS WARMUP
 *     KafkaConsumer, assigned partition 0: reads WARMUP records from the beginning (JIT warm-up, untimed), seeks
 *     back to the beginning and times reading RECORDS records, adding up every value's length.
 *     Prints "RESULT <ms> <records> <valueBytes>".
 *
 *   latency BOOTSTRAP TOPIC INTERVAL_MS RECORDS WARMUP
 *     A KafkaProducer (acks=1, linger.ms=0) sends WARMUP + RECORDS records of 1 KiB, one every INTERVAL_MS
 *     (0: ping-pong, the next one when the previous one was consumed), while a KafkaConsumer in its own thread
 *     (fetch.max.wait.ms=100, fetch.min.bytes=1) reads them; latency = consume time - send time (System.nanoTime)
 *     of the RECORDS records after the warm-up. Prints "LATENCY <count> <p50 us> <p99 us> <max us> <mean us>".
 */
public class JavaClientBench {
  public static void main(String[] args) throws Exception {
    switch (args[0]) {
      case "consume" -> consume(args[1], args[2], Long.parseLong(args[3]), Long.parseLong(args[4]));
      case "latency" ->
          latency(args[1], args[2], Integer.parseInt(args[3]), Integer.parseInt(args[4]), Integer.parseInt(args[5]));
      default -> throw new IllegalArgumentException("unknown mode " + args[0]);
    }
  }

  static Properties consumerProps(String bootstrap, String clientId) {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
    p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
    return p;
  }

  static void consume(String bootstrap, String topic, long records, long warmup) {
    Properties p = consumerProps(bootstrap, "bench-java-consumer");
    // As ConsumerPerformance (its --socket-buffer-size default).
    p.put(ConsumerConfig.RECEIVE_BUFFER_CONFIG, "2097152");
    try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
      TopicPartition tp = new TopicPartition(topic, 0);
      consumer.assign(List.of(tp));
      if (warmup > 0) pass(consumer, tp, warmup);
      long t0 = System.nanoTime();
      long[] counted = pass(consumer, tp, records);
      long t1 = System.nanoTime();
      System.out.printf("RESULT %.3f %d %d%n", (t1 - t0) / 1e6, counted[0], counted[1]);
    }
  }

  /** Reads from the beginning until `records` records were seen; returns {records, value bytes}. */
  static long[] pass(KafkaConsumer<byte[], byte[]> consumer, TopicPartition tp, long records) {
    consumer.seekToBeginning(List.of(tp));
    long n = 0;
    long bytes = 0;
    long idleSince = System.nanoTime();
    while (n < records) {
      ConsumerRecords<byte[], byte[]> batch = consumer.poll(Duration.ofMillis(100));
      if (batch.isEmpty()) {
        if (System.nanoTime() - idleSince > TimeUnit.SECONDS.toNanos(30))
          throw new IllegalStateException("no records for 30 s after " + n);
        continue;
      }
      idleSince = System.nanoTime();
      for (ConsumerRecord<byte[], byte[]> r : batch) {
        n++;
        if (r.value() != null) bytes += r.value().length;
      }
    }
    return new long[] {n, bytes};
  }

  static void latency(String bootstrap, String topic, int intervalMs, int records, int warmup) throws Exception {
    int total = warmup + records;
    AtomicLongArray sent = new AtomicLongArray(total);
    long[] latencies = new long[records];
    AtomicInteger received = new AtomicInteger();
    CountDownLatch ready = new CountDownLatch(1);
    CountDownLatch done = new CountDownLatch(1);
    Object lock = new Object();
    TopicPartition tp = new TopicPartition(topic, 0);

    Properties cp = consumerProps(bootstrap, "bench-java-latency-consumer");
    cp.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "100");
    cp.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, "1");
    Thread reader =
        new Thread(
            () -> {
              try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp)) {
                consumer.assign(List.of(tp));
                consumer.seekToEnd(List.of(tp));
                consumer.position(tp);
                ready.countDown();
                while (received.get() < total) {
                  for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(100))) {
                    long now = System.nanoTime();
                    int seq = ByteBuffer.wrap(r.value()).getInt(0);
                    if (seq >= warmup) latencies[seq - warmup] = now - sent.get(seq);
                    received.incrementAndGet();
                    synchronized (lock) {
                      lock.notifyAll();
                    }
                  }
                }
              }
              done.countDown();
            });
    reader.setDaemon(true);
    reader.start();
    if (!ready.await(60, TimeUnit.SECONDS)) throw new IllegalStateException("consumer not ready");

    Properties pp = new Properties();
    pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    pp.put(ProducerConfig.CLIENT_ID_CONFIG, "bench-java-latency-producer");
    pp.put(ProducerConfig.ACKS_CONFIG, "1");
    pp.put(ProducerConfig.LINGER_MS_CONFIG, "0");
    pp.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "false");
    pp.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    pp.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
    List<byte[]> values = new ArrayList<>(total);
    for (int i = 0; i < total; i++) {
      byte[] v = new byte[1024];
      for (int j = 4; j < v.length; j++) v[j] = (byte) ('a' + (i + j) % 26);
      ByteBuffer.wrap(v).putInt(0, i);
      values.add(v);
    }
    try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp)) {
      producer.partitionsFor(topic);
      long start = System.nanoTime();
      for (int i = 0; i < total; i++) {
        if (intervalMs > 0) {
          long target = start + (long) i * intervalMs * 1_000_000L;
          long wait;
          while ((wait = target - System.nanoTime()) > 0) LockSupport.parkNanos(wait);
        }
        sent.set(i, System.nanoTime());
        producer.send(new ProducerRecord<>(topic, 0, null, values.get(i)));
        if (intervalMs == 0) {
          synchronized (lock) {
            while (received.get() <= i) lock.wait(1000);
          }
        }
      }
      if (!done.await(60, TimeUnit.SECONDS))
        throw new IllegalStateException("received " + received.get() + " of " + total);
    }
    long[] sorted = latencies.clone();
    java.util.Arrays.sort(sorted);
    long sum = 0;
    for (long l : sorted) sum += l;
    System.out.printf(
        "LATENCY %d %.1f %.1f %.1f %.1f%n",
        sorted.length,
        rank(sorted, 0.50) / 1e3,
        rank(sorted, 0.99) / 1e3,
        sorted[sorted.length - 1] / 1e3,
        sum / (double) sorted.length / 1e3);
  }

  /** Nearest-rank percentile of a sorted array. */
  static long rank(long[] sorted, double q) {
    int i = (int) Math.ceil(q * sorted.length) - 1;
    return sorted[Math.max(0, Math.min(sorted.length - 1, i))];
  }
}
