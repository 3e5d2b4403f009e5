package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaDeserializers;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.KafkaRecord;
import io.github.flinkkafkakit.core.errors.ErrorBudget;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.AvroSerdes;
import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.KafkaSerdes;
import io.github.flinkkafkakit.core.serde.SchemaSerdes;
import io.github.flinkkafkakit.core.serde.Serde;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.examples.avro.Payment;
import io.github.flinkkafkakit.state.ChangelogPipeline;
import io.github.flinkkafkakit.state.ChangelogReader;
import io.github.flinkkafkakit.state.KafkaChangelog;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.serialization.SimpleStringSchema;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.serialization.LongDeserializer;
import org.apache.kafka.common.serialization.LongSerializer;

import org.apache.avro.generic.GenericRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The code of the user guide ({@code docs/guide.md}), run against a real broker. Each {@code
 * tag::name[]} region is copied verbatim into the guide; {@link GuideSnippetsTest} fails when the
 * two differ, so the guide cannot rot.
 */
class GuideSnippetsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private String bootstrap;
    private StreamExecutionEnvironment env;

    /** A JSON order, as the guide's examples read it. */
    public record Order(String id, String customer, long cents) {}

    @BeforeEach
    void setUp() {
        bootstrap = KAFKA.bootstrapServers();
        env = JobEnvironment.create(2, Guarantee.EXACTLY_ONCE, Duration.ofMillis(300));
    }

    @Test
    void connection(@TempDir Path dir) throws Exception {
        Path clientProperties = dir.resolve("client.properties");
        Files.writeString(clientProperties, "client.id=guide\n");
        // tag::connection[]
        KafkaConnection kafka =
                KafkaConnection.builder()
                        .setBootstrapServers(bootstrap)
                        .loadPropertiesFile(clientProperties) // security.protocol, sasl.*, ssl.*
                        .build();
        // end::connection[]
        assertThat(kafka.clientProperties()).containsEntry("client.id", "guide");
    }

    @Test
    void sourceAndSink() throws Exception {
        KafkaTestClient client = KAFKA.client();
        client.createTopic("page-views", 2);
        client.createTopic("page-views-upper", 2);
        client.produce(
                "page-views", List.of(KeyValue.of("u1", "/home"), KeyValue.of("u2", "/cart")));
        KafkaConnection kafka = KafkaConnection.of(bootstrap);
        // tag::source-and-sink[]
        KafkaIn<Tuple2<String, String>> views =
                KafkaIn.<Tuple2<String, String>>builder()
                        .setConnection(kafka)
                        .setTopics("page-views")
                        .setGroupId("page-view-upper")
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.string()))
                        .setBounded(true) // stop at the end offsets present at start
                        .build();

        DataStream<Tuple2<String, String>> upper =
                views.createStream(env) // preflight: broker reachable, topic exists
                        .map(v -> Tuple2.of(v.f0, v.f1.toUpperCase()))
                        .returns(Types.TUPLE(Types.STRING, Types.STRING));

        KafkaOut.<Tuple2<String, String>>builder()
                .setConnection(kafka)
                .setTopic("page-views-upper")
                .setKey(v -> v.f0, Serdes.string())
                .setValue(v -> v.f1, Serdes.string())
                .setTransactionalIdPrefix("page-view-upper") // exactly-once is the default
                .build()
                .writeTo(upper); // checks: checkpointing, feedback loop, transaction timeout

        env.execute("page views in upper case");
        views.commitStoppingOffsets(); // the next bounded run starts where this one stopped
        // end::source-and-sink[]
        assertThat(client.latestValuePerKey("page-views-upper"))
                .isEqualTo(Map.of("u1", "/HOME", "u2", "/CART"));
    }

    @Test
    void errorPolicy() throws Exception {
        KafkaTestClient client = KAFKA.client();
        client.createTopic("orders", 1);
        client.createTopic("big-orders", 1);
        client.produce(
                "orders",
                List.of(
                        KeyValue.of("o1", "{\"id\":\"o1\",\"customer\":\"c1\",\"cents\":250000}"),
                        KeyValue.of("o2", "not json"),
                        KeyValue.of("o3", "{\"id\":\"o3\",\"customer\":\"c2\",\"cents\":100}")));
        KafkaConnection kafka = KafkaConnection.of(bootstrap);
        // tag::error-policy[]
        KafkaIn<Order> orders =
                KafkaIn.<Order>builder()
                        .setConnection(kafka)
                        .setTopics("orders")
                        .setGroupId("big-orders")
                        .setDeserializer(KafkaDeserializers.values(JsonSerde.of(Order.class)))
                        .setErrorPolicy(
                                ErrorPolicy.deadLetter("orders-dlq")
                                        .withBudget(
                                                ErrorBudget.of(1_000, 0.05, Duration.ofMinutes(1))))
                        .setBounded(true)
                        .build();

        KafkaOut.<Order>builder()
                .setConnection(kafka)
                .setTopic("big-orders")
                .setKey(Order::id, Serdes.string())
                .setValue(order -> order, JsonSerde.of(Order.class))
                .setTransactionalIdPrefix("big-orders")
                .build()
                .writeTo(orders.createStream(env).filter(order -> order.cents() >= 100_000));

        env.execute("big orders");
        // end::error-policy[]
        assertThat(client.latestValuePerKey("big-orders")).containsOnlyKeys("o1");
        assertThat(client.latestValuePerKey("orders-dlq")).containsEntry("o2", "not json");
    }

    @Test
    void records() throws Exception {
        KafkaTestClient client = KAFKA.client();
        client.createTopic("clicks", 1);
        client.createTopic("clicks-copy", 1);
        client.produce("clicks", List.of(KeyValue.of("k", "{\"page\":\"/home\"}")));
        KafkaConnection kafka = KafkaConnection.of(bootstrap);
        // tag::records[]
        DataStream<KafkaRecord<String, String>> clicks =
                KafkaIn.<KafkaRecord<String, String>>builder()
                        .setConnection(kafka)
                        .setTopics("clicks")
                        .setDeserializer(
                                KafkaDeserializers.records(Serdes.string(), Serdes.string()))
                        .setBounded(true)
                        .build()
                        .createStream(env);

        KafkaOut.recordBuilder(Serdes.string(), Serdes.string()) // key, value and headers
                .setConnection(kafka)
                .setTopic("clicks-copy")
                .setTransactionalIdPrefix("clicks-copy")
                .build()
                .writeTo(
                        clicks.map(r -> r.withHeader("source-offset", Long.toString(r.offset())))
                                .returns(clicks.getType()));
        env.execute("copy clicks with their position");
        // end::records[]
        assertThat(client.consumeAll("clicks-copy").get(0).headers().lastHeader("source-offset"))
                .isNotNull();
    }

    @Test
    void changelogState() throws Exception {
        KafkaTestClient client = KAFKA.client();
        client.createTopic("deposits", 2);
        client.produce(
                "deposits", List.of(KeyValue.of("acct-1", "10"), KeyValue.of("acct-1", "5")));
        KafkaConnection kafka = KafkaConnection.of(bootstrap);
        env.enableCheckpointing(300, CheckpointingMode.EXACTLY_ONCE);
        KafkaIn<Tuple2<String, Long>> deposits =
                KafkaIn.<Tuple2<String, Long>>builder()
                        .setConnection(kafka)
                        .setTopics("deposits")
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.longAsText()))
                        .setBounded(true)
                        .build();
        // tag::changelog[]
        KafkaChangelog changelog =
                KafkaChangelog.builder()
                        .setConnection(kafka)
                        .setTopic("balances-state") // compacted, created if missing
                        .build();

        ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, deposits);
        DataStream<Tuple2<String, Long>> balances =
                job.process(
                        job.source().keyBy(d -> d.f0, Types.STRING),
                        new StatefulTotalExample.RunningTotal(), // a ChangelogFunction
                        Types.TUPLE(Types.STRING, Types.LONG));
        job.writeOutput(
                balances, "balances", b -> b.f0, Serdes.string(), b -> b.f1, Serdes.longAsText());
        env.execute("balances");

        // Other consumers can read the state itself:
        Map<String, Long> now =
                ChangelogReader.of(kafka, "balances-state", "total", Types.STRING, Types.LONG)
                        .readTable();
        // end::changelog[]
        assertThat(now).isEqualTo(Map.of("acct-1", 15L));
        assertThat(client.latestValuePerKey("balances")).isEqualTo(Map.of("acct-1", "15"));
    }

    @Test
    void kafkaSerde() throws Exception {
        KafkaTestClient client = KAFKA.client();
        client.createTopic("visits", 1);
        client.createTopic("visits-by-user", 1);
        LongSerializer longs = new LongSerializer();
        client.produceBytes(
                "visits",
                List.of(
                        KeyValue.of(
                                longs.serialize("visits", 42L),
                                "/home".getBytes(StandardCharsets.UTF_8))));
        KafkaConnection kafka = KafkaConnection.of(bootstrap);
        // tag::kafka-serde[]
        Serde<Long> userIds =
                KafkaSerdes.of(
                        LongSerializer::new, // factories: Kafka's classes are not Serializable
                        LongDeserializer::new,
                        Map.of(), // passed to configure(configs, isKey) on first use
                        true, // isKey
                        Types.LONG);
        DataStream<Tuple2<Long, String>> visits =
                KafkaIn.<Tuple2<Long, String>>builder()
                        .setConnection(kafka)
                        .setTopics("visits")
                        .setDeserializer(KafkaDeserializers.keyValues(userIds, Serdes.string()))
                        .setBounded(true)
                        .build()
                        .createStream(env);
        KafkaOut.<Tuple2<Long, String>>builder()
                .setConnection(kafka)
                .setTopic("visits-by-user")
                .setKey(v -> v.f0, userIds)
                .setValue(v -> v.f1, Serdes.string())
                .setTransactionalIdPrefix("visits-by-user")
                .build()
                .writeTo(visits);
        env.execute("visits by user");
        // end::kafka-serde[]
        List<ConsumerRecord<byte[], byte[]>> out =
                client.consumeAllBytes("visits-by-user", KafkaTestClient.DEFAULT_IDLE);
        assertThat(out).hasSize(1);
        assertThat(new LongDeserializer().deserialize("visits-by-user", out.get(0).key()))
                .isEqualTo(42L);
    }

    @Test
    void flinkSchema() {
        // tag::flink-schema[]
        Serde<String> lines = SchemaSerdes.of(new SimpleStringSchema(), new SimpleStringSchema());
        // end::flink-schema[]
        assertThat(lines.deserialize(lines.serialize("a line"))).isEqualTo("a line");
        assertThat(lines.typeInformation()).isEqualTo(Types.STRING);
    }

    @Test
    void avro() throws Exception {
        KafkaTestClient client = KAFKA.client();
        client.createTopic("payments", 1);
        client.createTopic("payments-copy", 1);
        client.produceBytes(
                "payments",
                List.of(
                        KeyValue.of(
                                null,
                                AvroSerdes.specific(Payment.class)
                                        .serialize(new Payment("p-1", 1250L)))));
        KafkaConnection kafka = KafkaConnection.of(bootstrap);
        // tag::avro[]
        Serde<Payment> payments = AvroSerdes.specific(Payment.class); // a generated class
        DataStream<Payment> in =
                KafkaIn.<Payment>builder()
                        .setConnection(kafka)
                        .setTopics("payments")
                        .setDeserializer(KafkaDeserializers.values(payments))
                        .setBounded(true)
                        .build()
                        .createStream(env);
        KafkaOut.<Payment>builder()
                .setConnection(kafka)
                .setTopic("payments-copy")
                .setKey(Payment::getId, Serdes.string())
                .setValue(p -> p, payments)
                .setTransactionalIdPrefix("payments-copy")
                .build()
                .writeTo(in);
        env.execute("copy payments");

        // Without generated classes: GenericRecords of a schema.
        Serde<GenericRecord> generic = AvroSerdes.generic(Payment.getClassSchema());
        // end::avro[]
        List<ConsumerRecord<byte[], byte[]>> out =
                client.consumeAllBytes("payments-copy", KafkaTestClient.DEFAULT_IDLE);
        assertThat(out).hasSize(1);
        GenericRecord copy = generic.deserialize(out.get(0).value());
        assertThat(copy.get("id").toString()).isEqualTo("p-1");
        assertThat(copy.get("cents")).isEqualTo(1250L);
    }
}
