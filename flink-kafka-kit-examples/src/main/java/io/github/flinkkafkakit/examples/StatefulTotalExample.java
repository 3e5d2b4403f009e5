package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.state.ChangelogFunction;
import io.github.flinkkafkakit.state.ChangelogPipeline;
import io.github.flinkkafkakit.state.KafkaChangelog;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.nio.charset.StandardCharsets;

/**
 * Running totals per key with Kafka as the state store: input key + value = decimal integer, output
 * key → running sum (decimal). The sums live in a compacted changelog topic ({@code
 * --state-topic}); a new run with the same {@code --state-topic} resumes exactly with no Flink
 * checkpoint or savepoint — also after the previous process was killed, and at another {@code
 * --parallelism}. Values that are not integers go to the dead-letter topic, and so does a deposit
 * that would take a total beyond a 64-bit integer (the total stays as it was).
 *
 * <p>How to run:
 *
 * <ul>
 *   <li>Embedded broker, two batches of sample deposits, the second run restoring from Kafka at
 *       another parallelism: {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar stateful-total}
 *   <li>A real cluster: {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar stateful-total
 *       --bootstrap-servers localhost:9092 --input-topic deposits --output-topic balances
 *       --state-topic balances-state --group-id balances --bounded}
 *   <li>Run it again later (any parallelism, even after {@code kill -9}): it continues from the
 *       state and input positions committed in {@code balances-state}.
 * </ul>
 */
@Command(
        name = "stateful-total",
        mixinStandardHelpOptions = true,
        description = {
            "Running sum per key (values: decimal integers) with its state in a Kafka changelog"
                    + " topic; restarts resume exactly from Kafka alone.",
            "Without --bootstrap-servers: embedded broker, two runs over two batches of sample"
                    + " data, result table."
        })
public final class StatefulTotalExample extends ExampleCommand<StatefulTotalExample.Settings> {

    static final String DEFAULT_INPUT = "stateful-total-input";
    static final String DEFAULT_OUTPUT = "stateful-total-output";
    static final String DEFAULT_STATE = "stateful-total-state";
    static final String DEFAULT_GROUP = "fkk-stateful-total";
    static final int SAMPLE_KEYS = 500;

    static final TypeInformation<Tuple2<String, Long>> KEY_AND_LONG =
            Types.TUPLE(Types.STRING, Types.LONG);

    @Option(
            names = "--state-topic",
            paramLabel = "TOPIC",
            description =
                    "Compacted changelog topic holding the sums (default: ${DEFAULT-VALUE});"
                            + " created if missing. Input positions go to <TOPIC>-positions.",
            defaultValue = DEFAULT_STATE)
    String stateTopic;

    @Option(
            names = "--records",
            paramLabel = "N",
            defaultValue = "100000",
            converter = CommonOptions.PositiveIntConverter.class,
            description =
                    "Embedded mode only: sample records per batch (default: ${DEFAULT-VALUE}).")
    int sampleRecords;

    /** Settings of one run, resolved from the command line. */
    record Settings(
            String inputTopic,
            String outputTopic,
            String stateTopic,
            String groupId,
            String dlqTopic,
            Guarantee guarantee,
            boolean bounded)
            implements ExampleCommand.Settings {}

    public StatefulTotalExample() {
        super(
                DEFAULT_INPUT,
                DEFAULT_OUTPUT,
                DEFAULT_GROUP,
                "<input-topic>-dlq",
                StatefulTotalExample::buildPipeline);
    }

    @Override
    Settings settings() {
        String input = inputTopic();
        Settings settings =
                new Settings(
                        input,
                        outputTopic(),
                        stateTopic,
                        groupId(),
                        options.dlqTopic(input),
                        options.guarantee,
                        bounded());
        requireOutputsDifferFromInput(input, "--output-topic", "", settings.outputTopic());
        checkStateInKafka(settings.guarantee());
        return settings;
    }

    @Override
    int runEmbedded(Settings settings) throws Exception {
        return new EmbeddedStatefulTotal(this, settings, sampleRecords).run();
    }

    @Override
    Texts texts(Settings s, KafkaConnection connection) {
        return new Texts(
                "stateful-total " + s.inputTopic() + " -> " + s.outputTopic(),
                "stateful-total: "
                        + s.inputTopic()
                        + " -> "
                        + s.outputTopic()
                        + ", state in '"
                        + s.stateTopic()
                        + "' on "
                        + connection
                        + mode(s),
                "stateful-total: finished, totals written to '" + s.outputTopic() + "'");
    }

    /**
     * The job: deposits (key, integer value) → running total per key in Kafka changelog state →
     * Kafka. Returns the source so a bounded run can commit its final offsets.
     */
    static KafkaIn<Tuple2<String, Long>> buildPipeline(
            StreamExecutionEnvironment env, KafkaConnection connection, Settings settings) {
        KafkaIn<Tuple2<String, Long>> in =
                KafkaIn.<Tuple2<String, Long>>builder()
                        .setConnection(connection)
                        .setTopics(settings.inputTopic())
                        .setGroupId(settings.groupId())
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                        .setErrorPolicy(ErrorPolicy.deadLetter(settings.dlqTopic()))
                        .setBounded(settings.bounded())
                        .build();
        KafkaChangelog changelog =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(settings.stateTopic())
                        .setDeliveryGuarantee(settings.guarantee().delivery())
                        .build();
        ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, in);
        DataStream<Tuple2<String, Long>> totals =
                job.process(
                        job.source().keyBy(t -> t.f0, Types.STRING),
                        new RunningTotal(),
                        KEY_AND_LONG);
        job.writeOutput(
                totals,
                settings.outputTopic(),
                t -> t.f0,
                Serdes.string(),
                t -> t.f1,
                Serdes.longAsText());
        return in;
    }

    /** Sum per key, emitted once per changed key and checkpoint (the latest total). */
    static final class RunningTotal
            extends ChangelogFunction<String, Tuple2<String, Long>, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> total;

        @Override
        public void open(OpenContext context) {
            total = valueState("total", Types.LONG);
        }

        @Override
        public void processElement(
                Tuple2<String, Long> deposit, Context ctx, Collector<Tuple2<String, Long>> out)
                throws Exception {
            Long current = total.value();
            long before = current == null ? 0 : current;
            try {
                total.update(Math.addExact(before, deposit.f1));
            } catch (ArithmeticException e) {
                // A wrapped-around total would be silently wrong: the deposit goes to the
                // dead-letter topic instead, and the total stays as it was.
                deadLetter(
                        deposit.f0.getBytes(StandardCharsets.UTF_8),
                        Long.toString(deposit.f1).getBytes(StandardCharsets.US_ASCII),
                        new ArithmeticException(
                                "the total would overflow a 64-bit integer: "
                                        + before
                                        + " + "
                                        + deposit.f1));
            }
        }

        @Override
        public void onCheckpoint(String key, Collector<Tuple2<String, Long>> out) throws Exception {
            out.collect(Tuple2.of(key, total.value()));
        }
    }
}
