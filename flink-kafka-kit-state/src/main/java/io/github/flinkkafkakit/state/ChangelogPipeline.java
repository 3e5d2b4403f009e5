package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.internal.GuardedDeserializer;
import io.github.flinkkafkakit.core.internal.JobTopics;
import io.github.flinkkafkakit.core.internal.ProducerLimits;
import io.github.flinkkafkakit.core.preflight.KafkaPreflight;
import io.github.flinkkafkakit.core.preflight.PreflightException;
import io.github.flinkkafkakit.core.serde.Serde;
import io.github.flinkkafkakit.state.internal.ChangelogOperator;
import io.github.flinkkafkakit.state.internal.ChangelogTopics;
import io.github.flinkkafkakit.state.internal.KafkaWrite;
import io.github.flinkkafkakit.state.internal.KafkaWriteSerializer;
import io.github.flinkkafkakit.state.internal.KafkaWriteTypeInfo;
import io.github.flinkkafkakit.state.internal.PositionedDeserializer;
import io.github.flinkkafkakit.state.internal.PositionsOperator;
import io.github.flinkkafkakit.state.internal.PositionsStartOffsets;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.CheckpointConfig;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.function.SerializableFunction;

import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

/**
 * One job over Kafka changelog state: the source (positions tracked), keyed functions with
 * changelog state ({@link #process}), and the output ({@link #writeOutput}), all written through
 * one transactional producer.
 *
 * <pre>{@code
 * ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, kafkaIn);
 * DataStream<Tuple2<String, Long>> totals =
 *         job.process(job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(), TOTALS);
 * job.writeOutput(totals, "totals", t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
 * }</pre>
 *
 * <p>Requirements, checked here: checkpointing on (exactly-once mode for the exactly-once
 * guarantee) with aligned barriers; transformations between {@link #source()} and {@link #process}
 * must be deterministic.
 */
@PublicEvolving
public final class ChangelogPipeline<T> {

    private static final TypeInformation<KafkaWrite> WRITE_TYPE = KafkaWriteTypeInfo.INSTANCE;

    private final KafkaChangelog changelog;
    private final StreamExecutionEnvironment env;
    private final KafkaIn<T> in;
    private final OutputTag<KafkaWrite> writesTag;
    private final List<DataStream<KafkaWrite>> writes = new ArrayList<>();
    private final SingleOutputStreamOperator<T> source;
    private final int changelogPartitions;

    /**
     * The writer's {@code max.request.size}: the changelog operators check each change against it,
     * the writer cuts dead letters to it.
     */
    private final int maxRequestSize;

    private int operators;
    private boolean attached;

    ChangelogPipeline(KafkaChangelog changelog, StreamExecutionEnvironment env, KafkaIn<T> in) {
        this.changelog = changelog;
        this.env = env;
        this.in = in;
        this.writesTag = new OutputTag<>("fkk-changelog-writes", WRITE_TYPE);
        checkCheckpointing();
        maxRequestSize = ProducerLimits.maxRequestSize(changelog.connection().clientProperties());
        changelogPartitions =
                ChangelogTopics.ensureCompacted(
                        changelog.connection(), changelog.topic(), changelog.partitions());
        ChangelogTopics.ensureCompacted(changelog.connection(), changelog.positionsTopic(), 1);
        ErrorPolicy policy = in.errorPolicy();
        if (policy.action() == ErrorPolicy.Action.DEAD_LETTER) {
            ensureTopic(policy.deadLetterTopic(), 1);
        }
        for (String topic : in.topics()) {
            JobTopics.of(env).addSourceTopic(changelog.connection().bootstrapServers(), topic);
        }
        // The source is built through KafkaIn, so it reads read_committed unless the user set
        // isolation.level; warn as KafkaIn.createStream does when that undoes exactly-once.
        in.warnIfExactlyOnceReadsUncommitted(env);
        KafkaSource<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> kafkaSource =
                in.buildSource(
                        new PositionedDeserializer<>(
                                GuardedDeserializer.withDeadLetters(in.deserializer(), policy)),
                        new PositionsStartOffsets(
                                changelog.connection(), changelog.positionsTopic()));
        String name = String.join("-", in.topics());
        source =
                env.fromSource(kafkaSource, WatermarkStrategy.noWatermarks(), "kafka-in " + name)
                        .uid("fkk-changelog-source-" + name)
                        .transform(
                                "positions",
                                in.deserializer().getProducedType(),
                                new PositionsOperator<T>(
                                        changelog.positionsTopic(),
                                        policy.deadLetterTopic(),
                                        writesTag))
                        .uid("fkk-changelog-positions-" + name);
        writes.add(source.getSideOutput(writesTag));
    }

    private void checkCheckpointing() {
        CheckpointConfig checkpoints = env.getCheckpointConfig();
        if (!checkpoints.isCheckpointingEnabled()) {
            throw new IllegalStateException(
                    "Kafka changelog state is written at checkpoints: call"
                            + " env.enableCheckpointing(...)");
        }
        if (checkpoints.isUnalignedCheckpointsEnabled()) {
            throw new IllegalStateException(
                    "Kafka changelog state needs aligned checkpoints (positions and state changes"
                            + " must be cut at the same barrier): disable unaligned checkpoints");
        }
        if (changelog.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE
                && checkpoints.getCheckpointingConsistencyMode()
                        != org.apache.flink.core.execution.CheckpointingMode.EXACTLY_ONCE) {
            throw new IllegalStateException(
                    "Exactly-once Kafka changelog state needs exactly-once checkpointing:"
                            + " env.enableCheckpointing(interval, CheckpointingMode.EXACTLY_ONCE)");
        }
    }

    /** The input values (dead letters already split off), in source order per partition. */
    public DataStream<T> source() {
        return source;
    }

    /**
     * Runs {@code function} on {@code keyed} with changelog-backed state (one call attaches Kafka
     * state to a keyed stream).
     */
    public <K, I, OUT> SingleOutputStreamOperator<OUT> process(
            KeyedStream<I, K> keyed,
            ChangelogFunction<K, I, OUT> function,
            TypeInformation<OUT> outputType) {
        checkNotAttached();
        String uid = "fkk-changelog-" + changelog.topic() + "-" + operators++;
        SingleOutputStreamOperator<OUT> result =
                keyed.transform(
                                "changelog state " + changelog.topic(),
                                outputType,
                                new ChangelogOperator<>(
                                        function,
                                        changelog.connection(),
                                        changelog.topic(),
                                        changelogPartitions,
                                        writesTag,
                                        in.errorPolicy().deadLetterTopic(),
                                        maxRequestSize,
                                        changelog.restoreListener()))
                        .uid(uid)
                        .setMaxParallelism(changelog.maxParallelism());
        writes.add(result.getSideOutput(writesTag));
        return result;
    }

    /**
     * Writes {@code output} to {@code topic} through the changelog's transactional writer (so it
     * commits together with the state) and completes the job graph. The topic is created with the
     * changelog's partition count if missing.
     */
    public <OUT, KO, VO> void writeOutput(
            DataStream<OUT> output,
            String topic,
            SerializableFunction<OUT, KO> key,
            Serde<KO> keySerde,
            SerializableFunction<OUT, VO> value,
            Serde<VO> valueSerde) {
        checkNotAttached();
        if (JobTopics.of(env).isSourceTopic(changelog.connection().bootstrapServers(), topic)) {
            throw new IllegalStateException(
                    "Output topic '"
                            + topic
                            + "' is also an input topic of this job (a feedback loop): write to"
                            + " another topic");
        }
        ensureTopic(topic, changelogPartitions);
        writes.add(
                output.map(new ToWrite<>(topic, key, keySerde, value, valueSerde))
                        .returns(WRITE_TYPE)
                        .name("to " + topic));
        attach();
    }

    /** Completes the job graph without an output topic (state and positions only). */
    public void attach() {
        checkNotAttached();
        attached = true;
        DataStream<KafkaWrite> all = writes.get(0);
        for (int i = 1; i < writes.size(); i++) {
            all = all.union(writes.get(i));
        }
        Properties props = changelog.connection().clientProperties();
        props.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.putIfAbsent(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        props.setProperty(ProducerConfig.TRANSACTION_TIMEOUT_CONFIG, "600000");
        var builder =
                KafkaSink.<KafkaWrite>builder()
                        .setKafkaProducerConfig(props)
                        .setDeliveryGuarantee(changelog.deliveryGuarantee())
                        .setRecordSerializer(new KafkaWriteSerializer(maxRequestSize));
        if (changelog.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE) {
            builder.setTransactionalIdPrefix(changelog.transactionalIdPrefix());
        }
        all.sinkTo(builder.build())
                .name("changelog writer " + changelog.topic())
                .uid("fkk-changelog-writer-" + changelog.topic())
                .setParallelism(1);
    }

    private void checkNotAttached() {
        if (attached) {
            throw new IllegalStateException("The changelog pipeline already has its writer");
        }
    }

    private void ensureTopic(String topic, int partitions) {
        try (KafkaPreflight check = new KafkaPreflight(changelog.connection())) {
            if (check.topicExists(topic)) {
                return;
            }
            check.admin()
                    .createTopics(List.of(new NewTopic(topic, partitions, (short) -1)))
                    .all()
                    .get(30, TimeUnit.SECONDS);
        } catch (PreflightException e) {
            throw e;
        } catch (Exception e) {
            throw new PreflightException("Cannot create topic '" + topic + "': " + e.getMessage());
        }
    }

    /** An output element → its serialized record. */
    private static final class ToWrite<OUT, KO, VO> implements MapFunction<OUT, KafkaWrite> {
        private static final long serialVersionUID = 1L;
        private final String topic;
        private final SerializableFunction<OUT, KO> key;
        private final Serde<KO> keySerde;
        private final SerializableFunction<OUT, VO> value;
        private final Serde<VO> valueSerde;

        ToWrite(
                String topic,
                SerializableFunction<OUT, KO> key,
                Serde<KO> keySerde,
                SerializableFunction<OUT, VO> value,
                Serde<VO> valueSerde) {
            this.topic = topic;
            this.key = key;
            this.keySerde = keySerde;
            this.value = value;
            this.valueSerde = valueSerde;
        }

        @Override
        public KafkaWrite map(OUT element) {
            return KafkaWrite.of(
                    topic,
                    -1,
                    keySerde.serialize(key.apply(element)),
                    valueSerde.serialize(value.apply(element)));
        }
    }
}
