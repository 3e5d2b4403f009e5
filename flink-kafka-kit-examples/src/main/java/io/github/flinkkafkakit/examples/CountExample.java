package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.count.Counts;
import io.github.flinkkafkakit.core.count.EmitPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.util.Locale;
import java.util.function.UnaryOperator;

/**
 * Counts records per record key and writes each key's running count to Kafka (output key = input
 * key, value = the count as decimal text). The last value of each key in the output topic equals
 * the number of input records with that key.
 *
 * <p>How to run:
 *
 * <ul>
 *   <li>Embedded broker and generated page-view data, then a result table: {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar count}
 *   <li>A real cluster, reading what is there now and stopping: {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar count --bootstrap-servers
 *       localhost:9092 --input-topic page-views --output-topic page-view-counts --group-id
 *       page-view-counter --bounded}
 *   <li>The same, running continuously: drop {@code --bounded}.
 * </ul>
 *
 * <p>Refuses {@code --output-topic} equal to {@code --input-topic}: each count would be read back
 * and counted again (a feedback loop).
 */
@Command(
        name = "count",
        mixinStandardHelpOptions = true,
        description = {
            "Counts records per key: output key = input key, value = running count (decimal).",
            "Without --bootstrap-servers: embedded broker, generated sample data (--records), result table."
        })
public final class CountExample extends ExampleCommand<CountExample.Settings> {

    static final String DEFAULT_INPUT = "count-input";
    static final String DEFAULT_OUTPUT = "count-output";
    static final String DEFAULT_GROUP = "fkk-count";
    static final int SAMPLE_RECORDS = 200_000;
    static final int SAMPLE_KEYS = 1_000;

    /**
     * Keys combined before the shuffle (about 6 MB per subtask). With skewed keys a buffer as large
     * as the key space sends far fewer partial counts across the network than a small one, which
     * flushes whenever it fills (EndToEndBench, 100K Zipf keys: +10–25 % records/s over 10,000).
     */
    static final int PRE_AGGREGATION_KEYS = 100_000;

    @Option(
            names = "--emit",
            paramLabel = "POLICY",
            defaultValue = "on-checkpoint",
            converter = EmitConverter.class,
            description =
                    "every-record (one output per input record) or on-checkpoint (the latest"
                            + " count of each changed key before each checkpoint; far less"
                            + " output, same last value per key). Default: ${DEFAULT-VALUE}.")
    EmitPolicy emit;

    @Option(
            names = "--records",
            paramLabel = "N",
            defaultValue = "" + SAMPLE_RECORDS,
            converter = CommonOptions.PositiveIntConverter.class,
            description =
                    "Embedded mode only: how many sample records to generate (default:"
                            + " ${DEFAULT-VALUE}).")
    int sampleRecords;

    /** Settings of one count job, resolved from the command line. */
    record Settings(
            String inputTopic,
            String outputTopic,
            String groupId,
            Guarantee guarantee,
            boolean bounded,
            EmitPolicy emit)
            implements ExampleCommand.Settings {}

    public CountExample() {
        super(DEFAULT_INPUT, DEFAULT_OUTPUT, DEFAULT_GROUP, null, CountExample::buildPipeline);
    }

    @Override
    Settings settings() {
        Settings settings =
                new Settings(
                        inputTopic(), outputTopic(), groupId(), options.guarantee, bounded(), emit);
        requireOutputsDifferFromInput(
                settings.inputTopic(),
                "--output-topic",
                ": every count would be read back and counted again (a feedback loop)",
                settings.outputTopic());
        return settings;
    }

    @Override
    int runEmbedded(Settings settings) throws Exception {
        return new EmbeddedCount(this, settings, sampleRecords).run();
    }

    @Override
    Texts texts(Settings s, KafkaConnection connection) {
        return new Texts(
                "count " + s.inputTopic() + " -> " + s.outputTopic(),
                "count: "
                        + s.inputTopic()
                        + " -> "
                        + s.outputTopic()
                        + " on "
                        + connection
                        + mode(s),
                "count: finished, counts written to '" + s.outputTopic() + "'");
    }

    /**
     * The job: Kafka keys → running count per key → Kafka. Returns the source so a bounded run can
     * commit its final offsets after the job finished.
     */
    static KafkaIn<String> buildPipeline(
            StreamExecutionEnvironment env, KafkaConnection connection, Settings settings) {
        return buildPipeline(env, connection, settings, UnaryOperator.identity());
    }

    /**
     * The job with {@code beforeCount} applied to the key stream (tests use it to inject failures).
     */
    static KafkaIn<String> buildPipeline(
            StreamExecutionEnvironment env,
            KafkaConnection connection,
            Settings settings,
            UnaryOperator<DataStream<String>> beforeCount) {
        KafkaIn<String> in =
                KafkaIn.<String>builder()
                        .setConnection(connection)
                        .setTopics(settings.inputTopic())
                        .setGroupId(settings.groupId())
                        .setDeserializer(KafkaDeserializers.keys(Serdes.string()))
                        .setBounded(settings.bounded())
                        .build();
        DataStream<String> keys = beforeCount.apply(in.createStream(env));
        DataStream<Tuple2<String, Long>> counts = countPerKey(keys, settings.emit());
        KafkaOut.<Tuple2<String, Long>>builder()
                .setConnection(connection)
                .setTopic(settings.outputTopic())
                .setKey(t -> t.f0, Serdes.string())
                .setValue(t -> t.f1, Serdes.longAsText())
                .setDeliveryGuarantee(settings.guarantee().delivery())
                .setTransactionalIdPrefix(settings.groupId() + "-" + settings.outputTopic())
                .setAutoCreateTopic(partitionsOf(connection, settings.inputTopic()))
                .build()
                .writeTo(counts);
        return in;
    }

    private static int partitionsOf(KafkaConnection connection, String topic) {
        try (var check = new io.github.flinkkafkakit.core.preflight.KafkaPreflight(connection)) {
            return check.describeTopic(topic).map(d -> d.partitions().size()).orElse(1);
        }
    }

    /**
     * Running count per key with the kit's counting operator; with {@code ON_CHECKPOINT} keys are
     * also combined before the shuffle.
     */
    static DataStream<Tuple2<String, Long>> countPerKey(DataStream<String> keys, EmitPolicy emit) {
        Counts.RunningCount count =
                Counts.perKey(keys)
                        .setEmitPolicy(emit)
                        .setName("count per key")
                        .setUid("count-per-key");
        if (emit == EmitPolicy.ON_CHECKPOINT) {
            count.setPreAggregation(PRE_AGGREGATION_KEYS);
        }
        return count.build();
    }

    /** {@code every-record|on-checkpoint}. */
    static final class EmitConverter implements picocli.CommandLine.ITypeConverter<EmitPolicy> {
        @Override
        public EmitPolicy convert(String value) {
            switch (value.trim().toLowerCase(Locale.ROOT)) {
                case "every-record":
                    return EmitPolicy.EVERY_RECORD;
                case "on-checkpoint":
                    return EmitPolicy.ON_CHECKPOINT;
                default:
                    throw new picocli.CommandLine.TypeConversionException(
                            "unknown emit policy '"
                                    + value
                                    + "' (expected every-record or on-checkpoint)");
            }
        }
    }
}
