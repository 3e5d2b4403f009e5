package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.ErrorBudget;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.JobID;
import org.apache.flink.api.common.JobStatus;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.runtime.execution.SuppressRestartsException;
import org.apache.flink.runtime.executiongraph.AccessExecutionVertex;
import org.apache.flink.runtime.executiongraph.ArchivedExecutionGraph;
import org.apache.flink.runtime.jobmaster.JobResult;
import org.apache.flink.runtime.minicluster.MiniCluster;
import org.apache.flink.runtime.minicluster.MiniClusterConfiguration;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;
import org.apache.flink.util.ExceptionUtils;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The error policy under a restart strategy that would restart (fixed delay, 3 attempts): a poison
 * pill under {@code fail()} and a tripped error budget fail the job once, with their message, and
 * no task ever runs a second attempt; an ordinary failure of the same job is restarted 3 times (so
 * the measure can see restarts). Within its fraction, a budget only dead-letters.
 */
class ErrorPolicyRestartsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final int RESTART_ATTEMPTS = 3;

    /**
     * How often {@link CountOpens#open} ran, by job name (JVM-wide: the job's classes may come from
     * another class loader).
     */
    private static final String OPENS = "fkk.test.restarts.opens";

    static {
        System.getProperties().putIfAbsent(OPENS, new ConcurrentHashMap<String, AtomicInteger>());
    }

    private static MiniCluster flink;

    /** The event type of the JSON values. */
    public record Event(String id, int amount) {}

    @BeforeAll
    static void startFlink() throws Exception {
        flink =
                new MiniCluster(
                        new MiniClusterConfiguration.Builder()
                                .setConfiguration(new Configuration())
                                .setNumTaskManagers(1)
                                .setNumSlotsPerTaskManager(2)
                                .withRandomPorts()
                                .build());
        flink.start();
    }

    @AfterAll
    static void stopFlink() throws Exception {
        if (flink != null) {
            flink.close();
        }
    }

    @SuppressWarnings("unchecked")
    static AtomicInteger opens(String job) {
        return ((Map<String, AtomicInteger>) System.getProperties().get(OPENS))
                .computeIfAbsent(job, k -> new AtomicInteger());
    }

    /** Counts task attempts that opened; throws in {@code open} when {@code fail}. */
    static final class CountOpens<T> extends RichMapFunction<T, T> {
        private static final long serialVersionUID = 1L;
        private final String job;
        private final boolean fail;

        CountOpens(String job, boolean fail) {
            this.job = job;
            this.fail = fail;
        }

        @Override
        public void open(OpenContext context) {
            opens(job).incrementAndGet();
            if (fail) {
                throw new IllegalStateException("an ordinary failure, to be restarted");
            }
        }

        @Override
        public T map(T value) {
            return value;
        }
    }

    private static String event(int i) {
        return "{\"id\":\"e" + i + "\",\"amount\":" + i + "}";
    }

    /** {@code records} events, where {@code bad(i)} puts a malformed one at offset i. */
    private static List<KeyValue<String, String>> input(int records, Set<Integer> bad) {
        List<KeyValue<String, String>> input = new ArrayList<>();
        for (int i = 0; i < records; i++) {
            input.add(KeyValue.of("k" + i, bad.contains(i) ? "not json " + i : event(i)));
        }
        return input;
    }

    private static Set<Integer> every(int n, int records) {
        Set<Integer> bad = new java.util.TreeSet<>();
        for (int i = n - 1; i < records; i += n) {
            bad.add(i);
        }
        return bad;
    }

    /** A bounded one-partition JSON source job, restarted up to 3 times 100 ms apart. */
    private static StreamExecutionEnvironment job(
            String name, String in, ErrorPolicy policy, boolean failInOpen, String out) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "fixed-delay");
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_ATTEMPTS, RESTART_ATTEMPTS);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY_FIXED_DELAY_DELAY, Duration.ofMillis(100));
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(1);
        env.enableCheckpointing(200);
        DataStream<Event> events =
                KafkaIn.<Event>builder()
                        .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                        .setTopics(in)
                        .setGroupId("g-" + in)
                        .setDeserializer(KafkaDeserializers.values(JsonSerde.of(Event.class)))
                        .setErrorPolicy(policy)
                        .setBounded(true)
                        .build()
                        .createStream(env)
                        .map(new CountOpens<>(name, failInOpen))
                        .returns(Event.class);
        if (out == null) {
            events.sinkTo(new DiscardingSink<>());
        } else {
            KafkaOut.<Event>builder()
                    .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                    .setTopic(out)
                    .setKey(Event::id, Serdes.string())
                    .setValue(e -> Integer.toString(e.amount()), Serdes.string())
                    .setTransactionalIdPrefix("tx-" + out)
                    .build()
                    .writeTo(events);
        }
        return env;
    }

    /** A finished job as the cluster saw it. */
    record Outcome(JobResult result, Throwable failure, ArchivedExecutionGraph graph) {

        /** The highest attempt number of any task: 0 if no task ever ran twice. */
        int maxAttempt() {
            int max = 0;
            for (AccessExecutionVertex v : graph.getAllExecutionVertices()) {
                max = Math.max(max, v.getCurrentExecutionAttempt().getAttemptNumber());
            }
            return max;
        }

        String failureText() {
            return failure == null ? "" : ExceptionUtils.stringifyException(failure);
        }

        boolean suppressed() {
            return ExceptionUtils.findThrowable(failure, SuppressRestartsException.class)
                    .isPresent();
        }
    }

    private static Outcome run(StreamExecutionEnvironment env) throws Exception {
        JobID id = flink.submitJob(env.getStreamGraph()).get(1, TimeUnit.MINUTES).getJobID();
        JobResult result = flink.requestJobResult(id).get(2, TimeUnit.MINUTES);
        Throwable failure =
                result.getSerializedThrowable()
                        .map(
                                t ->
                                        t.deserializeError(
                                                ErrorPolicyRestartsITCase.class.getClassLoader()))
                        .orElse(null);
        return new Outcome(
                result, failure, flink.getArchivedExecutionGraph(id).get(1, TimeUnit.MINUTES));
    }

    @Test
    void shouldRestartAnOrdinaryFailureOfTheSameJob() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("ordinary", 1);
        kafka.produce(in, input(10, Set.of()));

        Outcome outcome = run(job("ordinary", in, ErrorPolicy.fail(), true, null));

        assertThat(outcome.graph().getState()).isEqualTo(JobStatus.FAILED);
        assertThat(outcome.maxAttempt()).as("restarts").isEqualTo(RESTART_ATTEMPTS);
        assertThat(opens("ordinary").get()).isEqualTo(RESTART_ATTEMPTS + 1);
    }

    @Test
    void shouldFailOnceWithoutRestartingOnAPoisonPillUnderFail() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("strict", 1);
        kafka.produce(in, input(10, Set.of(3)));

        Outcome outcome = run(job("strict", in, ErrorPolicy.fail(), false, null));

        assertThat(outcome.graph().getState()).isEqualTo(JobStatus.FAILED);
        assertThat(outcome.failureText())
                .contains("Record " + in + "-0@3 failed at stage DESERIALIZE")
                .contains("Set an error policy (skip, log or deadLetter)");
        assertThat(outcome.suppressed()).as("restarts suppressed").isTrue();
        assertThat(outcome.maxAttempt()).as("restarts").isZero();
        assertThat(opens("strict").get()).as("task attempts opened").isEqualTo(1);
    }

    @Test
    void shouldFailOnceWithoutRestartingWhenTheErrorFractionIsExceeded() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("fraction-over", 1);
        int records = 300;
        Set<Integer> bad = every(10, records); // 10 %
        kafka.produce(in, input(records, bad));
        long maxErrors = 1_000;
        double maxFraction = 0.05;
        ErrorPolicy policy =
                ErrorPolicy.deadLetter(KafkaTestClient.uniqueTopicName("fraction-over-dlq"))
                        .withBudget(ErrorBudget.of(maxErrors, maxFraction, Duration.ofMinutes(1)));

        Outcome outcome = run(job("fraction-over", in, policy, false, null));

        // The documented rule: more than maxErrors, or more than maxFraction once the window
        // saw 100 records; the first record where either holds trips the budget.
        long seen = 0;
        long failed = 0;
        String expected = null;
        for (int i = 0; i < records && expected == null; i++) {
            seen++;
            if (bad.contains(i)) {
                failed++;
                if (failed > maxErrors || (seen >= 100 && (double) failed / seen > maxFraction)) {
                    expected =
                            String.format(
                                    Locale.ROOT,
                                    "Error budget exceeded: %d of %d records (%.1f %%) failed at"
                                            + " stage DESERIALIZE",
                                    failed,
                                    seen,
                                    100.0 * failed / seen);
                }
            }
        }
        assertThat(expected).isNotNull();
        assertThat(outcome.graph().getState()).isEqualTo(JobStatus.FAILED);
        assertThat(outcome.failureText()).contains(expected);
        assertThat(outcome.suppressed()).as("restarts suppressed").isTrue();
        assertThat(outcome.maxAttempt()).as("restarts").isZero();
    }

    @Test
    void shouldOnlyDeadLetterWithinTheErrorFraction() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("fraction-within", 1);
        String out = kafka.createUniqueTopic("fraction-within-out", 1);
        String dlq = KafkaTestClient.uniqueTopicName("fraction-within-dlq");
        int records = 300;
        Set<Integer> bad = every(50, records); // 2 %
        kafka.produce(in, input(records, bad));
        ErrorPolicy policy =
                ErrorPolicy.deadLetter(dlq)
                        .withBudget(ErrorBudget.of(1_000, 0.05, Duration.ofMinutes(1)));

        Outcome outcome = run(job("fraction-within", in, policy, false, out));

        assertThat(outcome.graph().getState())
                .as("%s", outcome.failureText())
                .isEqualTo(JobStatus.FINISHED);
        assertThat(outcome.maxAttempt()).as("restarts").isZero();
        Map<String, String> written =
                kafka.consumeAll(out, Duration.ZERO).stream()
                        .collect(Collectors.toMap(ConsumerRecord::key, ConsumerRecord::value));
        Map<String, String> good = new java.util.TreeMap<>();
        for (int i = 0; i < records; i++) {
            if (!bad.contains(i)) {
                good.put("e" + i, Integer.toString(i));
            }
        }
        assertThat(new java.util.TreeMap<>(written)).isEqualTo(good);
        List<String> letters =
                kafka.consumeAllBytes(dlq, Duration.ZERO).stream()
                        .map(r -> new String(r.key(), StandardCharsets.UTF_8))
                        .sorted()
                        .collect(Collectors.toList());
        assertThat(letters)
                .containsExactlyElementsOf(
                        bad.stream().map(i -> "k" + i).sorted().collect(Collectors.toList()));
    }
}
