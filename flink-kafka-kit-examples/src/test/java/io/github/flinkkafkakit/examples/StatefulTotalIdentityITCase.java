package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
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
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * stateful-total started over Kafka state that no longer belongs together: an input topic
 * re-created, the changelog or the positions topic deleted alone, a Flink savepoint older than the
 * changelog. Each of these used to give silently wrong totals or outputs twice (the numbers are in
 * the tests' comments); the job now fails at start, once although restarts are configured, with the
 * message naming the fix, and leaves state, positions and output as they were.
 *
 * <p>Every scenario: a run that commits state, the change, a run that must be refused; where the
 * fix the message names keeps the data, a run that follows it continues exactly.
 */
class StatefulTotalIdentityITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    /** Deposits of 1 per record, spread over these keys. */
    private static final List<String> KEYS = List.of("k0", "k1", "k2", "k3");

    private static final Duration REFUSAL_WITHIN = Duration.ofSeconds(60);

    private final KafkaTestClient kafka = KAFKA.client();

    /** An input topic of one partition with its settings for stateful-total. */
    private StatefulTotalExample.Settings newJob(String name, boolean bounded) {
        String in = kafka.createUniqueTopic(name + "-in", 1);
        return settings(
                in,
                KafkaTestClient.uniqueTopicName(name + "-out"),
                KafkaTestClient.uniqueTopicName(name + "-state"),
                bounded);
    }

    private static StatefulTotalExample.Settings settings(
            String in, String out, String state, boolean bounded) {
        return new StatefulTotalExample.Settings(
                in, out, state, "g-" + in, in + "-dlq", Guarantee.EXACTLY_ONCE, bounded);
    }

    /**
     * stateful-total, not started: checkpoints every 200 ms, and restarts that any ordinary failure
     * would use without end (a refusal must fail the job anyway, at once).
     */
    private static StreamExecutionEnvironment job(
            StatefulTotalExample.Settings settings, int parallelism, String savepoint) {
        Configuration conf = new Configuration();
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, Integer.MAX_VALUE);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(200));
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        StatefulTotalExample.buildPipeline(
                env, KafkaConnection.of(KAFKA.bootstrapServers()), settings);
        return env;
    }

    /** A bounded run over everything in the input, committing state, positions and totals. */
    private static void run(StatefulTotalExample.Settings settings, int parallelism)
            throws Exception {
        job(settings, parallelism, null).execute("stateful-total p=" + parallelism);
    }

    /** {@code records} deposits of 1, round-robin over {@link #KEYS}. */
    private void deposit(String topic, int records) {
        List<KeyValue<String, String>> batch = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            batch.add(KeyValue.of(KEYS.get(i % KEYS.size()), "1"));
        }
        kafka.produce(topic, batch);
    }

    /** Every key at {@code total}. */
    private static Map<String, String> each(long total) {
        Map<String, String> totals = new TreeMap<>();
        KEYS.forEach(k -> totals.put(k, Long.toString(total)));
        return totals;
    }

    private Map<String, String> totals(String out) {
        return new TreeMap<>(kafka.latestValuePerKey(out, Duration.ofMillis(300)));
    }

    /** Every committed total per key, in order. */
    private Map<String, List<Long>> history(String out) {
        Map<String, List<Long>> history = new TreeMap<>();
        for (ConsumerRecord<String, String> r : kafka.consumeAll(out, Duration.ofMillis(300))) {
            history.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(Long.parseLong(r.value()));
        }
        return history;
    }

    /**
     * What the topics hold, read with read_committed: per topic, each record's partition, key and
     * value (a refused run must change none of them).
     */
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

    /** What state, positions and output topics of {@code settings} hold. */
    private Map<String, List<String>> contents(StatefulTotalExample.Settings settings) {
        return contents(
                settings.stateTopic(),
                settings.stateTopic() + "-positions",
                settings.outputTopic());
    }

    private void deleteTopic(String topic) throws Exception {
        kafka.admin().deleteTopics(List.of(topic)).all().get(30, TimeUnit.SECONDS);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (kafka.admin().listTopics().names().get().contains(topic)) {
            assertThat(System.nanoTime())
                    .as("'%s' deleted within 30 s", topic)
                    .isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    /** Creates {@code topic} again once Kafka lets it (its deletion may still be under way). */
    private void recreateTopic(String topic, int partitions) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (true) {
            try {
                kafka.createTopic(topic, partitions);
                return;
            } catch (IllegalStateException e) {
                if (System.nanoTime() > deadline) {
                    throw e;
                }
                Thread.sleep(100);
            }
        }
    }

    /**
     * Starts the job and waits for its failure: within {@link #REFUSAL_WITHIN}, once (as a
     * SuppressRestartsException, although restarts are configured).
     *
     * @param outcome what the run did instead, for the message when it is not refused
     * @return the failure's messages, causes included
     */
    private String refusal(StreamExecutionEnvironment env, Supplier<String> outcome)
            throws Exception {
        long start = System.nanoTime();
        JobClient client = env.executeAsync("stateful-total, to be refused");
        Throwable failure;
        try {
            client.getJobExecutionResult().get(REFUSAL_WITHIN.toSeconds(), TimeUnit.SECONDS);
            throw new AssertionError("the run finished instead of being refused: " + outcome.get());
        } catch (TimeoutException e) {
            client.cancel().get(1, TimeUnit.MINUTES);
            throw new AssertionError(
                    "the run was not refused within " + REFUSAL_WITHIN + ": " + outcome.get(), e);
        } catch (ExecutionException e) {
            failure = e;
        }
        assertThat(System.nanoTime() - start)
                .as("refused within %s", REFUSAL_WITHIN)
                .isLessThan(REFUSAL_WITHIN.toNanos());
        StringBuilder messages = new StringBuilder();
        boolean suppressed = false;
        for (Throwable t = failure; t != null; t = t.getCause()) {
            messages.append(t.getMessage()).append('\n');
            suppressed |= t instanceof SuppressRestartsException;
        }
        assertThat(suppressed).as("restarts suppressed: %s", messages).isTrue();
        return messages.toString();
    }

    /** The committed totals and their history, against what the input meant. */
    private Supplier<String> outcome(
            StatefulTotalExample.Settings settings, Map<String, String> meant) {
        return () ->
                "totals "
                        + totals(settings.outputTopic())
                        + " (the input meant "
                        + meant
                        + "), history "
                        + history(settings.outputTopic());
    }

    /**
     * The input topic deleted and created again under its name with new deposits. Before: the
     * committed position (40) was taken as the new topic's, its first 40 deposits skipped: 25 per
     * key instead of 10 + 25 = 35.
     */
    @Test
    void shouldRefuseAnInputTopicThatWasRecreated() throws Exception {
        StatefulTotalExample.Settings settings = newJob("recreated-in", true);
        deposit(settings.inputTopic(), 40);
        run(settings, 2);
        assertThat(totals(settings.outputTopic())).isEqualTo(each(10));

        deleteTopic(settings.inputTopic());
        recreateTopic(settings.inputTopic(), 1);
        deposit(settings.inputTopic(), 100);
        Map<String, List<String>> before = contents(settings);

        String message = refusal(job(settings, 2, null), outcome(settings, each(35)));

        assertThat(message)
                .contains(
                        "Input topic '" + settings.inputTopic() + "' was re-created",
                        "Use a new state topic");
        assertThat(contents(settings)).isEqualTo(before);
    }

    /**
     * The changelog topic deleted, its positions kept (the job creates the changelog again, empty).
     * Before: the totals started from 0 while the first 40 deposits stayed skipped: 10 per key
     * instead of 20.
     */
    @Test
    void shouldRefuseAChangelogDeletedWithoutItsPositions() throws Exception {
        StatefulTotalExample.Settings settings = newJob("lost-state", true);
        deposit(settings.inputTopic(), 40);
        run(settings, 2);
        assertThat(totals(settings.outputTopic())).isEqualTo(each(10));

        deleteTopic(settings.stateTopic());
        deposit(settings.inputTopic(), 40);
        Map<String, List<String>> before = contents(settings.outputTopic());
        Map<String, List<String>> positions = contents(settings.stateTopic() + "-positions");

        String message = refusal(job(settings, 2, null), outcome(settings, each(20)));

        assertThat(message)
                .contains(
                        "Changelog topic '"
                                + settings.stateTopic()
                                + "' is not the topic its positions in '"
                                + settings.stateTopic()
                                + "-positions' were committed with",
                        "Delete '" + settings.stateTopic() + "-positions' as well to start over");
        // the job created the changelog again; the refused run wrote nothing to it
        assertThat(contents(settings.stateTopic()).get(settings.stateTopic())).isEmpty();
        assertThat(contents(settings.stateTopic() + "-positions")).isEqualTo(positions);
        assertThat(contents(settings.outputTopic())).isEqualTo(before);

        // The fix the message names: without positions either, the job starts over, exactly.
        deleteTopic(settings.stateTopic() + "-positions");
        run(settings, 2);
        assertThat(totals(settings.outputTopic())).isEqualTo(each(20));
    }

    /**
     * The positions topic deleted, the changelog kept (the job creates the positions topic again,
     * empty). Before: the input was read again from its start on top of the restored totals: 30 per
     * key instead of 20.
     */
    @Test
    void shouldRefuseAChangelogWhosePositionsWereDeleted() throws Exception {
        StatefulTotalExample.Settings settings = newJob("lost-positions", true);
        deposit(settings.inputTopic(), 40);
        run(settings, 2);
        assertThat(totals(settings.outputTopic())).isEqualTo(each(10));

        String positionsTopic = settings.stateTopic() + "-positions";
        deleteTopic(positionsTopic);
        deposit(settings.inputTopic(), 40);
        Map<String, List<String>> before = contents(settings.stateTopic(), settings.outputTopic());

        String message = refusal(job(settings, 2, null), outcome(settings, each(20)));

        assertThat(message)
                .contains(
                        "Changelog topic '"
                                + settings.stateTopic()
                                + "' holds state, but its positions topic '"
                                + positionsTopic
                                + "' is empty",
                        "Restore '" + positionsTopic + "'");
        assertThat(contents(positionsTopic).get(positionsTopic)).isEmpty();
        assertThat(contents(settings.stateTopic(), settings.outputTopic())).isEqualTo(before);
    }

    /**
     * A run restored from a Flink savepoint older than what the changelog holds: a savepoint at 10
     * per key, then a run from Kafka alone to 20 per key, then a run from the old savepoint.
     * Before: that run counted the 40 deposits after the savepoint again and wrote their totals a
     * second time (each key's committed history e.g. 10, 20, 20 or 10, 11, 20, 20: not increasing),
     * on top of a changelog that had them already.
     */
    @Test
    void shouldRefuseASavepointOlderThanTheChangelog(@TempDir Path savepoints) throws Exception {
        StatefulTotalExample.Settings unbounded = newJob("old-savepoint", false);
        StatefulTotalExample.Settings bounded =
                settings(
                        unbounded.inputTopic(),
                        unbounded.outputTopic(),
                        unbounded.stateTopic(),
                        true);
        deposit(unbounded.inputTopic(), 40);
        JobClient first = job(unbounded, 2, null).executeAsync("stateful-total with a savepoint");
        awaitTotals(unbounded.outputTopic(), each(10));
        String savepoint =
                first.stopWithSavepoint(
                                false, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
                        .get(2, TimeUnit.MINUTES);

        deposit(unbounded.inputTopic(), 40);
        run(bounded, 2);
        assertThat(totals(unbounded.outputTopic())).isEqualTo(each(20));
        Map<String, List<String>> before = contents(unbounded);

        String message = refusal(job(unbounded, 2, savepoint), outcome(unbounded, each(20)));

        assertThat(message)
                .contains(
                        "This job was restored from a Flink checkpoint or savepoint of changelog"
                                + " commit",
                        "Start the job without the savepoint");
        assertThat(contents(unbounded)).isEqualTo(before);

        // The fix the message names: without the savepoint the job resumes exactly from Kafka.
        deposit(unbounded.inputTopic(), 4);
        run(bounded, 2);
        assertThat(totals(unbounded.outputTopic())).isEqualTo(each(21));
        history(unbounded.outputTopic())
                .forEach(
                        (key, totals) ->
                                assertThat(totals)
                                        .as("committed totals of %s", key)
                                        .isSorted()
                                        .doesNotHaveDuplicates());
    }

    /** Waits (up to 1 min) until the committed output's last total per key is {@code want}. */
    private void awaitTotals(String out, Map<String, String> want) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(1);
        Map<String, String> last = Map.of();
        while (System.nanoTime() < deadline) {
            if (kafka.admin().listTopics().names().get().contains(out)) {
                last = totals(out);
                if (last.equals(want)) {
                    return;
                }
            }
            Thread.sleep(200);
        }
        assertThat(last).as("last total per key in '%s'", out).isEqualTo(want);
    }
}
