package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.KafkaRecord;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.state.KafkaChangelog;
import io.github.flinkkafkakit.state.KafkaStateJob;

import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import com.fasterxml.jackson.databind.JsonNode;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.List;

/**
 * Clicks enriched with the user's profile as it was at the click's time — an event-time join of two
 * topics — with Kafka as the state store: a run with the same {@code --state-topic} and no Flink
 * checkpoint resumes exactly, also at another {@code --parallelism} and after {@code kill -9}. The
 * function ({@link ClickEnricher}) uses Flink's own state and timers only.
 *
 * <p>Inputs: {@code --profiles-topic} (key = user id, value {@code
 * {"user":"u7","ts":"2026-11-24T10:00:03.120Z","country":"DE","plan":"pro"}}: a version of the
 * user's profile, valid from {@code ts}) and {@code --clicks-topic} (key = user id, value {@code
 * {"click":"c-123","user":"u7","ts":"…","url":"/cart"}}). Output: one record per click, key = user
 * id, value JSON with {@code click}, {@code user}, {@code ts}, {@code url}, {@code country} and
 * {@code plan} of the profile version with the greatest {@code ts} at or before the click's ({@code
 * null} when none). Event time is the JSON {@code ts}, watermarks per partition trailing by {@code
 * --max-out-of-orderness}; late clicks and malformed JSON go to {@code --dlq-topic}.
 *
 * <p>How to run:
 *
 * <ul>
 *   <li>Embedded broker, generated clicks and profile versions, two runs (the second restarting
 *       from Kafka at another parallelism): {@code java -jar
 *       flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar enrich}
 *   <li>A real cluster: {@code java -jar … enrich --bootstrap-servers localhost:9092
 *       --profiles-topic profiles --clicks-topic clicks --output-topic enriched --state-topic
 *       enrich-state --group-id enrich --bounded}
 * </ul>
 */
@Command(
        name = "enrich",
        mixinStandardHelpOptions = true,
        description = {
            "Clicks joined with the user's profile version in effect at the click's time (event"
                    + " time), with the state in a Kafka changelog topic; restarts resume exactly"
                    + " from Kafka alone.",
            "Without --bootstrap-servers: embedded broker, two runs over two batches of sample"
                    + " data, result check."
        })
public final class EnrichExample extends ExampleCommand<EnrichExample.Settings> {

    static final String DEFAULT_PROFILES = "enrich-profiles";
    static final String DEFAULT_CLICKS = "enrich-clicks";
    static final String DEFAULT_OUTPUT = "enrich-output";
    static final String DEFAULT_STATE = "enrich-state";
    static final String DEFAULT_GROUP = "fkk-enrich";

    @Option(
            names = "--profiles-topic",
            paramLabel = "TOPIC",
            defaultValue = DEFAULT_PROFILES,
            description = "Profile versions, key = user id (default: ${DEFAULT-VALUE}).")
    String profilesTopic;

    @Option(
            names = "--clicks-topic",
            paramLabel = "TOPIC",
            defaultValue = DEFAULT_CLICKS,
            description = "Clicks, key = user id (default: ${DEFAULT-VALUE}).")
    String clicksTopic;

    @Option(
            names = "--state-topic",
            paramLabel = "TOPIC",
            defaultValue = DEFAULT_STATE,
            description =
                    "Compacted changelog topic holding the profiles and the waiting clicks"
                            + " (default: ${DEFAULT-VALUE}); created if missing. Input positions go"
                            + " to <TOPIC>-positions.")
    String stateTopic;

    @Option(
            names = "--max-out-of-orderness",
            paramLabel = "DURATION",
            defaultValue = "5s",
            converter = CommonOptions.DurationConverter.class,
            description =
                    "How far behind the latest event time of its partition a record may be"
                            + " (default: ${DEFAULT-VALUE}); a click later than that goes to the"
                            + " dead-letter topic.")
    Duration maxOutOfOrderness;

    @Option(
            names = "--idleness",
            paramLabel = "DURATION|off",
            defaultValue = "off",
            converter = CommonOptions.IdlenessConverter.class,
            description =
                    "How long a partition without records may hold event time back before it is"
                            + " left out of the watermark (default: ${DEFAULT-VALUE}: until it has"
                            + " records again). With a timeout, a partition that falls behind while"
                            + " the job catches up on a backlog can be left out, and its clicks then"
                            + " arrive behind the watermark and go to the dead-letter topic.")
    Duration idleness;

    @Option(
            names = "--records",
            paramLabel = "N",
            defaultValue = "50000",
            converter = CommonOptions.PositiveIntConverter.class,
            description =
                    "Embedded mode only: sample clicks per batch (default: ${DEFAULT-VALUE}).")
    int sampleClicks;

    /** Settings of one run, resolved from the command line. */
    record Settings(
            String profilesTopic,
            String clicksTopic,
            String outputTopic,
            String stateTopic,
            String groupId,
            String dlqTopic,
            Guarantee guarantee,
            Duration maxOutOfOrderness,
            Duration idleness,
            boolean bounded)
            implements ExampleCommand.Settings {}

    public EnrichExample() {
        super(null, DEFAULT_OUTPUT, DEFAULT_GROUP, "<clicks-topic>-dlq");
    }

    @Override
    Settings settings() {
        if (options.inputTopic != null) {
            throw usageError(
                    "--input-topic does not apply to enrich: give --clicks-topic and"
                            + " --profiles-topic");
        }
        Settings settings =
                new Settings(
                        profilesTopic,
                        clicksTopic,
                        outputTopic(),
                        stateTopic,
                        groupId(),
                        options.dlqTopic(clicksTopic),
                        options.guarantee,
                        maxOutOfOrderness,
                        idleness,
                        bounded());
        if (List.of(profilesTopic, clicksTopic).contains(settings.outputTopic())
                || profilesTopic.equals(clicksTopic)) {
            throw usageError(
                    "--profiles-topic, --clicks-topic and --output-topic must be three topics");
        }
        checkStateInKafka(settings.guarantee());
        return settings;
    }

    @Override
    int runEmbedded(Settings settings) throws Exception {
        return new EmbeddedEnrich(this, settings, sampleClicks).run();
    }

    @Override
    Texts texts(Settings s, KafkaConnection connection) {
        return new Texts(
                "enrich " + s.clicksTopic() + " -> " + s.outputTopic(),
                "enrich: "
                        + s.clicksTopic()
                        + " + "
                        + s.profilesTopic()
                        + " -> "
                        + s.outputTopic()
                        + ", state in '"
                        + s.stateTopic()
                        + "' on "
                        + connection
                        + mode(s),
                "enrich: finished, enriched clicks written to '" + s.outputTopic() + "'");
    }

    /**
     * The job: clicks and profile versions (JSON, with their Kafka positions) keyed by user into
     * {@link ClickEnricher}, its state and timers in Kafka; enriched clicks to the output topic,
     * late and malformed records to the dead-letter topic — all committed together. Returns the
     * sources, so a bounded run can commit their final offsets.
     */
    @Override
    List<KafkaIn<KafkaRecord<String, JsonNode>>> buildJob(
            StreamExecutionEnvironment env, KafkaConnection connection, Settings settings) {
        KafkaIn<KafkaRecord<String, JsonNode>> clicksIn = input(connection, settings, true);
        KafkaIn<KafkaRecord<String, JsonNode>> profilesIn = input(connection, settings, false);
        KafkaStateJob job =
                KafkaChangelog.builder()
                        .setConnection(connection)
                        .setTopic(settings.stateTopic())
                        .setDeliveryGuarantee(settings.guarantee().delivery())
                        .build()
                        .job(env);
        DataStream<KafkaRecord<String, JsonNode>> clicks = job.source("enrich-clicks", clicksIn);
        DataStream<KafkaRecord<String, JsonNode>> profiles =
                job.source("enrich-profiles", profilesIn);
        SingleOutputStreamOperator<EnrichedClick> enriched =
                job.process(
                        "enrich",
                        clicks.keyBy(KafkaRecord::key, Types.STRING)
                                .connect(profiles.keyBy(KafkaRecord::key, Types.STRING)),
                        new ClickEnricher(),
                        Types.POJO(EnrichedClick.class));
        job.sink(
                enriched,
                KafkaOut.<EnrichedClick>builder()
                        .setConnection(connection)
                        .setTopic(settings.outputTopic())
                        .setKey(e -> e.user, Serdes.string())
                        .setValue(e -> e, JsonSerde.of(EnrichedClick.class))
                        .setAutoCreateTopic(4)
                        .build());
        job.deadLetters(enriched.getSideOutput(ClickEnricher.DEAD_LETTERS), settings.dlqTopic());
        job.attach();
        return List.of(clicksIn, profilesIn);
    }

    private static KafkaIn<KafkaRecord<String, JsonNode>> input(
            KafkaConnection connection, Settings settings, boolean clicks) {
        return KafkaIn.<KafkaRecord<String, JsonNode>>builder()
                .setConnection(connection)
                .setTopics(clicks ? settings.clicksTopic() : settings.profilesTopic())
                .setGroupId(settings.groupId())
                .setDeserializer(KafkaDeserializers.records(Serdes.string(), JsonSerde.tree()))
                .setErrorPolicy(ErrorPolicy.deadLetter(settings.dlqTopic()))
                .setWatermarks(
                        settings.maxOutOfOrderness(),
                        (record, kafkaTimestamp) -> ClickEnricher.eventTime(record),
                        settings.idleness())
                .setBounded(settings.bounded())
                .build();
    }
}
