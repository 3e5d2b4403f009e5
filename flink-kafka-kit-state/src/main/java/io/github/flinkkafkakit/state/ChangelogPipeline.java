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
import io.github.flinkkafkakit.state.internal.ChangelogSettings;
import io.github.flinkkafkakit.state.internal.ChangelogTopics;
import io.github.flinkkafkakit.state.internal.ChangelogWriter;
import io.github.flinkkafkakit.state.internal.CheckpointSettings;
import io.github.flinkkafkakit.state.internal.KafkaWrite;
import io.github.flinkkafkakit.state.internal.KafkaWriteTypeInfo;
import io.github.flinkkafkakit.state.internal.PositionedDeserializer;
import io.github.flinkkafkakit.state.internal.PositionsOperator;
import io.github.flinkkafkakit.state.internal.PositionsStartOffsets;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.types.Either;
import org.apache.flink.util.OutputTag;
import org.apache.flink.util.function.SerializableFunction;

import org.apache.kafka.clients.admin.NewTopic;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One job over Kafka changelog state: the source (positions tracked), keyed functions with
 * changelog state ({@link #process}), and the output ({@link #writeOutput}), all written through
 * one transactional writer.
 *
 * <pre>{@code
 * ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, kafkaIn);
 * DataStream<Tuple2<String, Long>> totals =
 *         job.process(job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(), TOTALS);
 * job.writeOutput(totals, "totals", t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
 * }</pre>
 *
 * <p>Requirements, checked here and again when the job starts (with the job's final configuration,
 * however it was set): checkpointing on, exactly-once checkpoints for the exactly-once guarantee,
 * aligned barriers, and the checkpoint interval plus timeout below the writer's transaction
 * timeout. Nothing between {@link #source()} and {@link #process} may hold records across a
 * checkpoint barrier (windows, async I/O, buffering functions): what it holds at a barrier is in
 * neither the changelog nor the positions, and a restart from Kafka loses it.
 */
@PublicEvolving
public final class ChangelogPipeline<T> {

    private static final TypeInformation<KafkaWrite> WRITE_TYPE = KafkaWriteTypeInfo.INSTANCE;

    /** The broker's default {@code transaction.max.timeout.ms}. */
    private static final Duration BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT = Duration.ofMinutes(15);

    private final KafkaChangelog changelog;
    private final StreamExecutionEnvironment env;
    private final KafkaIn<T> in;
    private final OutputTag<KafkaWrite> writesTag;
    private final List<DataStream<KafkaWrite>> writes = new ArrayList<>();
    private final SingleOutputStreamOperator<T> source;

    /** The changelog as its operators see it (partitions, writer limits, …). */
    private final ChangelogSettings settings;

    private int operators;
    private boolean attached;

    ChangelogPipeline(KafkaChangelog changelog, StreamExecutionEnvironment env, KafkaIn<T> in) {
        this.changelog = changelog;
        this.env = env;
        this.in = in;
        this.writesTag = new OutputTag<>("fkk-changelog-writes", WRITE_TYPE);
        checkCheckpointing();
        int maxRequestSize =
                ProducerLimits.maxRequestSize(changelog.connection().clientProperties());
        int changelogPartitions =
                ChangelogTopics.ensureCompacted(
                        changelog.connection(), changelog.topic(), changelog.partitions());
        ChangelogTopics.ensureCompacted(changelog.connection(), changelog.positionsTopic(), 1);
        ErrorPolicy policy = in.errorPolicy();
        if (policy.action() == ErrorPolicy.Action.DEAD_LETTER) {
            ensureTopic(policy.deadLetterTopic(), 1);
        }
        if (changelog.deliveryGuarantee() == DeliveryGuarantee.EXACTLY_ONCE) {
            checkTransactionTimeout();
        }
        settings =
                new ChangelogSettings(
                        changelog.connection(),
                        changelog.topic(),
                        changelog.positionsTopic(),
                        changelogPartitions,
                        changelog.maxParallelism(),
                        in.topics(),
                        changelog.deliveryGuarantee(),
                        changelog.transactionalIdPrefix(),
                        changelog.transactionTimeout(),
                        maxRequestSize);
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
                                        settings, policy.deadLetterTopic(), writesTag))
                        .uid("fkk-changelog-positions-" + name);
        writes.add(source.getSideOutput(writesTag));
    }

    /**
     * The job's checkpointing as configured so far (checked again when the job starts, with its
     * final configuration).
     */
    private void checkCheckpointing() {
        String problem =
                CheckpointSettings.problem(
                        env.getConfiguration(),
                        changelog.deliveryGuarantee(),
                        changelog.transactionTimeout());
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
    }

    /** The writer's transaction timeout against the broker's limit. */
    private void checkTransactionTimeout() {
        try (KafkaPreflight check = new KafkaPreflight(changelog.connection())) {
            long max =
                    check.brokerConfig("transaction.max.timeout.ms")
                            .map(Long::parseLong)
                            .orElse(BROKER_DEFAULT_MAX_TRANSACTION_TIMEOUT.toMillis());
            long timeout = changelog.transactionTimeout().toMillis();
            if (timeout > max) {
                throw new PreflightException(
                        "transaction.timeout.ms="
                                + timeout
                                + " of the changelog writer of '"
                                + changelog.topic()
                                + "' is above the broker's transaction.max.timeout.ms="
                                + max
                                + ": lower it with KafkaChangelog.Builder#setTransactionTimeout"
                                + " (and the checkpoint timeout below it) or raise the broker"
                                + " limit");
            }
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
                                        settings,
                                        writesTag,
                                        in.errorPolicy().deadLetterTopic(),
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
        ensureTopic(topic, settings.changelogPartitions());
        writes.add(
                output.map(new ToWrite<>(topic, key, keySerde, value, valueSerde))
                        .returns(WRITE_TYPE)
                        .name("to " + topic));
        attach();
    }

    /** Completes the job graph without an output topic (state and positions only). */
    public void attach() {
        checkNotAttached();
        checkCheckpointing();
        attached = true;
        DataStream<KafkaWrite> all = writes.get(0);
        for (int i = 1; i < writes.size(); i++) {
            all = all.union(writes.get(i));
        }
        all.transform(
                        "changelog writer " + changelog.topic(),
                        Types.VOID,
                        new ChangelogWriter(settings))
                .uid("fkk-changelog-txn-writer-" + changelog.topic())
                .setParallelism(1)
                .setMaxParallelism(1);
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
