package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.state.KafkaChangelog;
import io.github.flinkkafkakit.state.KafkaStateJob;
import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * The ceiling of a Kafka-state job's single changelog writer (parallelism 1; it writes every state
 * change, position, output and dead letter of a checkpoint in that checkpoint's transaction), in
 * changes per second.
 *
 * <p>The job is a running total per key on {@link KafkaStateJob} (one source, {@code keyBy}, a
 * {@code KeyedProcessFunction} with a {@code ValueState<Long>}, no sink), keyed operator at {@code
 * --parallelism} (default 2), exactly-once, checkpoints every {@code --checkpoint-interval-ms}. The
 * input's record {@code i} has key {@code i mod K}: a checkpoint's records change {@code
 * min(records in it, K)} distinct keys, each one changelog record for the writer. With {@code K} at
 * least the records of a checkpoint, every record is one change; with few keys the writer has
 * little to do and the job shows the rate of everything else. One run per {@code --keys} value (a
 * list), after a warm-up run; each prints input records/s, changes/s (changelog records committed
 * over the time from the first record read to the job's end) and what the writer's task thread did
 * (sampled every 10 ms): on CPU, blocked on the producer (buffer full, flush, commit), waiting for
 * input; and the CPU time of the writer thread and of its producers' network threads.
 *
 * <pre>
 * java -cp flink-kafka-kit-bench/target/benchmarks.jar io.github.flinkkafkakit.bench.WriterCeilingBench \
 *     [--records N] [--keys K1,K2,...] [--changes-per-key M] [--parallelism P] [--partitions P]
 *     [--checkpoint-interval-ms MS] [--bootstrap-servers H:P]
 * </pre>
 */
public final class WriterCeilingBench {

    static final String USAGE =
            "Usage: WriterCeilingBench [--records N] [--keys K1,K2,...] [--changes-per-key M]"
                    + " [--parallelism P]"
                    + " [--partitions P] [--checkpoint-interval-ms MS] [--bootstrap-servers H:P]";

    private WriterCeilingBench() {}

    public static void main(String[] args) throws Exception {
        int records = 2_000_000;
        int changesPerRecord = 1;
        List<Integer> keys = List.of(1_000, 2_000_000);
        int parallelism = 2;
        int partitions = 2;
        long intervalMs = 1_000;
        String bootstrap = null;
        for (int i = 0; i < args.length; i++) {
            String name = args[i];
            if (name.equals("--help") || name.equals("-h")) {
                System.out.println(USAGE);
                return;
            }
            if (i + 1 >= args.length) {
                System.err.println(name + " needs a value\n" + USAGE);
                System.exit(2);
            }
            String value = args[++i].replace("_", "");
            switch (name) {
                case "--records" -> records = Integer.parseInt(value);
                case "--keys" -> {
                    keys = new ArrayList<>();
                    for (String k : value.split(",")) {
                        keys.add(Integer.parseInt(k.trim()));
                    }
                }
                case "--changes-per-key" -> changesPerRecord = Integer.parseInt(value);
                case "--parallelism" -> parallelism = Integer.parseInt(value);
                case "--partitions" -> partitions = Integer.parseInt(value);
                case "--checkpoint-interval-ms" -> intervalMs = Long.parseLong(value);
                case "--bootstrap-servers" -> bootstrap = value;
                default -> {
                    System.err.println("unknown option " + name + "\n" + USAGE);
                    System.exit(2);
                }
            }
        }
        EmbeddedKafkaBroker broker = bootstrap == null ? EmbeddedKafkaBroker.start() : null;
        String servers = broker != null ? broker.bootstrapServers() : bootstrap;
        try (EndToEndContext context =
                new EndToEndContext(
                        servers, parallelism, partitions, Duration.ofMillis(intervalMs))) {
            System.out.printf(
                    Locale.ROOT,
                    "writer ceiling: %,d records per run, keyed operator parallelism %d, %d input"
                            + " partition(s), checkpoints every %d ms, broker %s%n",
                    records,
                    parallelism,
                    partitions,
                    intervalMs,
                    broker != null ? "embedded" : servers);
            run(context, Math.min(records, 200_000), 200_000, 1, "warm-up");
            context.deleteScratchTopics();
            for (int k : keys) {
                run(context, records, k, changesPerRecord, "run");
                context.deleteScratchTopics();
            }
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
    }

    private static void run(
            EndToEndContext context, int records, int keys, int changesPerKey, String what)
            throws Exception {
        String input = context.createTopic("ceiling-in");
        produce(context.bootstrapServers(), input, records, keys);
        String stateTopic = context.uniqueName("ceiling-state");
        StreamExecutionEnvironment env = context.flink(CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = context.connection();
        KafkaChangelog changelog =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(stateTopic)
                        .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                        .build();
        KafkaStateJob job = changelog.job(env);
        DataStream<Tuple2<String, Long>> in =
                job.source(
                        "ceiling-in",
                        KafkaIn.<Tuple2<String, Long>>builder()
                                .setConnection(connection)
                                .setTopics(input)
                                .setGroupId(stateTopic)
                                .setDeserializer(
                                        KafkaDeserializers.keyValues(
                                                FirstRecordClock.markingStringSerde(),
                                                Serdes.longAsText()))
                                .setErrorPolicy(ErrorPolicy.deadLetter(stateTopic + "-dlq"))
                                .setBounded(true)
                                .build());
        job.process(
                "total", in.keyBy(t -> t.f0, Types.STRING), new Total(changesPerKey), Types.LONG);
        job.attach();
        WriterSampler sampler = new WriterSampler(stateTopic, changelog.transactionalIdPrefix());
        sampler.start();
        EndToEndScenario.Timing timing;
        try {
            timing = EndToEndScenario.time(() -> env.execute("writer-ceiling"));
        } finally {
            sampler.stop();
        }
        long changelogRecords =
                EndToEndOutput.readCommitted(context.bootstrapServers(), stateTopic, (k, v) -> {});
        double seconds = (timing.end() - timing.first()) / 1e9;
        System.out.printf(
                Locale.ROOT,
                "%-7s %,10d records, %,9d keys, %d change(s) per key: %6.2f s, %,9.0f records/s,"
                        + " %,9.0f changes/s (%,d changelog records) | writer thread: %s%n",
                what,
                records,
                keys,
                changesPerKey,
                seconds,
                records / seconds,
                changelogRecords / seconds,
                changelogRecords,
                sampler.summary(seconds));
    }

    /** Record {@code i}: key {@code i mod keys} (10 digits), value 1. */
    private static void produce(String bootstrap, String topic, int records, int keys) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L << 20));
        byte[] one = "1".getBytes(StandardCharsets.US_ASCII);
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            for (int i = 0; i < records; i++) {
                producer.send(new ProducerRecord<>(topic, Keys.key(i % keys), one));
            }
            producer.flush();
        }
    }

    /**
     * Sum per key in a {@code ValueState}, and with {@code changesPerKey > 1} copies of it in
     * {@code changesPerKey - 1} entries of a {@code MapState}: each record makes {@code
     * changesPerKey} changes of its key (cheap ones: the upstream's cost per change falls, so the
     * writer can be pushed to its limit).
     */
    static final class Total extends KeyedProcessFunction<String, Tuple2<String, Long>, Long> {
        private static final long serialVersionUID = 1L;
        private final int changesPerKey;
        private transient ValueState<Long> total;
        private transient MapState<Integer, Long> copies;

        Total(int changesPerKey) {
            this.changesPerKey = changesPerKey;
        }

        @Override
        public void open(OpenContext context) {
            total = getRuntimeContext().getState(new ValueStateDescriptor<>("total", Types.LONG));
            copies =
                    getRuntimeContext()
                            .getMapState(new MapStateDescriptor<>("copies", Types.INT, Types.LONG));
        }

        @Override
        public void processElement(Tuple2<String, Long> t, Context ctx, Collector<Long> out)
                throws Exception {
            Long current = total.value();
            long sum = (current == null ? 0 : current) + t.f1;
            total.update(sum);
            for (int j = 1; j < changesPerKey; j++) {
                copies.put(j, sum);
            }
        }
    }

    /**
     * Samples the writer's task thread ({@code changelog writer <topic> ...}) every 10 ms: on CPU,
     * blocked in the Kafka producer (a full buffer, a flush at the barrier, a commit), or waiting
     * (for input); and CPU time of it and of the producers' network threads.
     */
    static final class WriterSampler implements Runnable {
        private final String taskPrefix;
        private final String producerMarker;
        private final ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        private volatile boolean running = true;
        private Thread thread;
        private long writerId = -1;
        private long onCpu;
        private long producerCpu;
        private long producerBlocked;
        private long waiting;
        private long writerCpuStart = -1;
        private long writerCpuNanos;
        private long networkCpuNanos;

        WriterSampler(String changelogTopic, String transactionalIdPrefix) {
            this.taskPrefix = "changelog writer " + changelogTopic;
            this.producerMarker = transactionalIdPrefix;
        }

        void start() {
            thread = new Thread(this, "writer-sampler");
            thread.setDaemon(true);
            thread.start();
        }

        void stop() throws InterruptedException {
            running = false;
            thread.join();
        }

        @Override
        public void run() {
            Map<Long, Long> network = new java.util.HashMap<>();
            for (long round = 0; running; round++) {
                if (writerId < 0) {
                    for (ThreadInfo info : threads.dumpAllThreads(false, false)) {
                        if (info.getThreadName().startsWith(taskPrefix)) {
                            writerId = info.getThreadId();
                            writerCpuStart = threads.getThreadCpuTime(writerId);
                        }
                    }
                } else {
                    ThreadInfo info = threads.getThreadInfo(writerId, 64);
                    if (info != null) {
                        long cpu = threads.getThreadCpuTime(writerId);
                        if (cpu >= 0) {
                            writerCpuNanos = cpu - writerCpuStart;
                        }
                        classify(info);
                    }
                }
                if (round % 50 == 0) {
                    for (ThreadInfo info : threads.dumpAllThreads(false, false)) {
                        if (info.getThreadName().startsWith("kafka-producer-network-thread")
                                && info.getThreadName().contains(producerMarker)) {
                            long cpu = threads.getThreadCpuTime(info.getThreadId());
                            if (cpu >= 0) {
                                network.merge(info.getThreadId(), cpu, Math::max);
                            }
                        }
                    }
                }
                try {
                    Thread.sleep(10);
                } catch (InterruptedException e) {
                    return;
                }
            }
            networkCpuNanos = network.values().stream().mapToLong(Long::longValue).sum();
        }

        private void classify(ThreadInfo info) {
            boolean runnable = info.getThreadState() == Thread.State.RUNNABLE;
            for (StackTraceElement frame : info.getStackTrace()) {
                if (frame.getClassName().startsWith("org.apache.kafka.clients.producer")) {
                    if (runnable) {
                        producerCpu++;
                    } else {
                        producerBlocked++;
                    }
                    return;
                }
            }
            if (runnable) {
                onCpu++;
            } else {
                waiting++;
            }
        }

        String summary(double seconds) {
            long n = Math.max(1, onCpu + producerCpu + producerBlocked + waiting);
            return String.format(
                    Locale.ROOT,
                    "busy %.0f%% (%.0f%% own code, %.0f%% producer send, %.0f%% blocked in the"
                            + " producer: full buffer/flush/commit), %.0f%% waiting for input"
                            + " | CPU: writer %.1f s, its producers' network threads %.1f s"
                            + " (over %.1f s)",
                    100.0 * (n - waiting) / n,
                    100.0 * onCpu / n,
                    100.0 * producerCpu / n,
                    100.0 * producerBlocked / n,
                    100.0 * waiting / n,
                    writerCpuNanos / 1e9,
                    networkCpuNanos / 1e9,
                    seconds);
        }
    }
}
