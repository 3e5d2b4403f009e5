package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A changelog started with another max parallelism than the one it was written with. With one
 * changelog partition every key group's records are in the partition the job reads them from, so
 * nothing else notices: the records used to be restored under the key groups of the old max
 * parallelism, where the job does not look for a key whose key group differs under the new one (128
 * → 256: 9 of the 20 keys here, whose totals silently started over at 0). The job now fails at
 * start, once although restarts are configured, naming the max parallelism to set, and leaves the
 * changelog as it was; with that max parallelism it continues exactly.
 */
class ChangelogIdentityITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    static final TypeInformation<Tuple2<String, Long>> TOTALS =
            Types.TUPLE(Types.STRING, Types.LONG);

    private static final Duration REFUSAL_WITHIN = Duration.ofSeconds(60);

    /** Deposits of 1 per record, spread over 20 keys (in many key groups). */
    private static final int KEYS = 20;

    private final KafkaTestClient kafka = KAFKA.client();

    /**
     * The totals job over a one-partition changelog with {@code maxParallelism} key groups,
     * bounded, not started: checkpoints every 200 ms, and restarts that any ordinary failure would
     * use without end (a refusal must fail the job anyway, at once).
     */
    private static StreamExecutionEnvironment totals(
            String in, String out, String state, int parallelism, int maxParallelism) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, Integer.MAX_VALUE);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        KafkaIn<Tuple2<String, Long>> source =
                Deposits.boundedSource(connection, in, "totals-" + state);
        KafkaChangelog changelog =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(state)
                        .setPartitions(1)
                        .setMaxParallelism(maxParallelism)
                        .build();
        ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, source);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(), TOTALS);
        job.writeOutput(totals, out, t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
        return env;
    }

    private void deposit(String topic, int records) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            batch.add(KeyValue.of("k" + i % KEYS, "1"));
        }
        kafka.produce(topic, batch);
    }

    private static Map<String, String> each(long total) {
        Map<String, String> totals = new TreeMap<>();
        for (int k = 0; k < KEYS; k++) {
            totals.put("k" + k, Long.toString(total));
        }
        return totals;
    }

    private Map<String, String> totals(String out) {
        return new TreeMap<>(kafka.latestValuePerKey(out, Duration.ofMillis(300)));
    }

    /** Per topic, each committed record's partition, key and value (read_committed). */
    private Map<String, List<String>> contents(String... topics) {
        HexFormat hex = HexFormat.of();
        Map<String, List<String>> contents = new LinkedHashMap<>();
        for (String topic : topics) {
            List<String> records = new ArrayList<>();
            for (ConsumerRecord<byte[], byte[]> r :
                    kafka.consumeAllBytes(topic, Duration.ofMillis(300))) {
                records.add(
                        r.partition()
                                + ":"
                                + (r.key() == null ? "null" : hex.formatHex(r.key()))
                                + "="
                                + (r.value() == null ? "null" : hex.formatHex(r.value())));
            }
            contents.put(topic, records);
        }
        return contents;
    }

    @Test
    void shouldRefuseAnotherMaxParallelismOverAOnePartitionChangelog() throws Exception {
        String in = kafka.createUniqueTopic("mp-in", 1);
        String out = KafkaTestClient.uniqueTopicName("mp-out");
        String state = KafkaTestClient.uniqueTopicName("mp-state");
        deposit(in, 10 * KEYS);
        totals(in, out, state, 2, 128).execute("totals max parallelism 128");
        assertThat(totals(out)).isEqualTo(each(10));

        deposit(in, 10 * KEYS);
        Map<String, List<String>> before = contents(state, state + "-positions", out);

        long start = System.nanoTime();
        JobClient refused = totals(in, out, state, 2, 256).executeAsync("max parallelism 256");
        Throwable failure = null;
        try {
            refused.getJobExecutionResult().get(REFUSAL_WITHIN.toSeconds(), TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            failure = e;
        } catch (TimeoutException e) {
            refused.cancel().get(1, TimeUnit.MINUTES);
        }
        // Before: not refused; 9 keys at 10 instead of 20 (their first 10 deposits lost).
        assertThat(failure).as("refused; totals now %s", totals(out)).isNotNull();
        assertThat(System.nanoTime() - start).isLessThan(REFUSAL_WITHIN.toNanos());
        StringBuilder messages = new StringBuilder();
        boolean suppressed = false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
            suppressed |= t instanceof SuppressRestartsException;
        }
        assertThat(suppressed).as("restarts suppressed: %s", messages).isTrue();
        assertThat(messages.toString())
                .contains(
                        "Changelog '"
                                + state
                                + "' was written with max parallelism 128 (key groups), this job"
                                + " uses 256",
                        "Set KafkaChangelog.Builder#setMaxParallelism(128)");
        assertThat(contents(state, state + "-positions", out)).isEqualTo(before);

        // The fix the message names: the max parallelism the changelog was written with.
        totals(in, out, state, 2, 128).execute("totals max parallelism 128 again");
        assertThat(totals(out)).isEqualTo(each(20));
    }
}
