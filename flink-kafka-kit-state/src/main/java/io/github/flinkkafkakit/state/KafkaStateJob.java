package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.internal.BoundedKafkaSource;
import io.github.flinkkafkakit.core.internal.GuardedDeserializer;
import io.github.flinkkafkakit.state.internal.ChangelogSettings;
import io.github.flinkkafkakit.state.internal.ChangelogTopology;
import io.github.flinkkafkakit.state.internal.ChangelogWriter;
import io.github.flinkkafkakit.state.internal.CheckpointSettings;
import io.github.flinkkafkakit.state.internal.KafkaStateCoProcessOperator;
import io.github.flinkkafkakit.state.internal.KafkaStateFunctions;
import io.github.flinkkafkakit.state.internal.KafkaStateProcessOperator;
import io.github.flinkkafkakit.state.internal.KafkaStateSupport;
import io.github.flinkkafkakit.state.internal.KafkaWrite;
import io.github.flinkkafkakit.state.internal.KafkaWriteTypeInfo;
import io.github.flinkkafkakit.state.internal.PositionedDeserializer;
import io.github.flinkkafkakit.state.internal.PositionsOperator;
import io.github.flinkkafkakit.state.internal.PositionsStartOffsets;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.api.java.typeutils.TypeExtractor;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.datastream.ConnectedStreams;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.OutputTag;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A Flink job whose keyed state lives in Kafka: the job you would write anyway — sources, {@code
 * keyBy}, functions with Flink's own state and timers, sinks — with the kit's calls in the places
 * that touch Kafka or state, so a start without any Flink checkpoint (a new deployment, lost
 * checkpoint storage, another parallelism, after {@code kill -9}) resumes exactly from Kafka.
 *
 * <pre>{@code
 * KafkaStateJob job = changelog.job(env);                         // one per job
 * DataStream<Click> clicks = job.source("clicks", clicksIn);      // positions tracked
 * DataStream<Profile> profiles = job.source("profiles", profilesIn);
 * SingleOutputStreamOperator<Enriched> enriched =
 *         job.process(
 *                 "enrich",                                       // uid: scopes its state
 *                 clicks.keyBy(Click::user).connect(profiles.keyBy(Profile::user)),
 *                 new EnrichClicks(),                             // a KeyedCoProcessFunction
 *                 Enriched.TYPE);
 * job.sink(enriched, enrichedOut);                                // a KafkaOut
 * job.deadLetters(enriched.getSideOutput(EnrichClicks.LATE), "clicks-dlq");
 * job.execute("enrich");
 * }</pre>
 *
 * <p>The functions are ordinary {@code KeyedProcessFunction}s, {@code KeyedCoProcessFunction}s or
 * (on a keyed stream) map and flat-map functions: {@code getRuntimeContext().getState(...)}, {@code
 * getListState}, {@code getMapState}, {@code getReducingState}, {@code getAggregatingState} (TTL on
 * value, reducing and aggregating states), and event-time and processing-time timers are kept in
 * Kafka. State, the input positions of every source, the outputs of every sink and dead letters are
 * written by one transactional writer and commit together per checkpoint.
 *
 * <p>What a restart from Kafka alone could not bring back is refused when the job is completed
 * ({@link #attach()} / {@link #execute(String)}), with one line naming it and the fix: a source not
 * added with {@link #source}, an operator between the sources and the Kafka-backed operators or the
 * sinks that holds records or state across a checkpoint (windows, async I/O, a keyed operator not
 * added here), and, when the job starts, unaligned or at-least-once checkpoints however they are
 * switched on.
 */
@PublicEvolving
public final class KafkaStateJob {

    private static final TypeInformation<KafkaWrite> WRITE_TYPE = KafkaWriteTypeInfo.INSTANCE;

    private final KafkaChangelog changelog;
    private final StreamExecutionEnvironment env;
    private final ChangelogSettings settings;
    private final OutputTag<KafkaWrite> writesTag;
    private final List<DataStream<KafkaWrite>> writes = new ArrayList<>();
    private final List<KafkaStateSupport<?>> operators = new ArrayList<>();
    private final Set<String> uids = new LinkedHashSet<>();
    private final List<String> inputTopics = new ArrayList<>();
    private final ChangelogTopology topology = new ChangelogTopology();

    /** The dead-letter topic of the first source with one: where functions' dead letters go. */
    private String deadLetterTopic;

    private boolean attached;

    KafkaStateJob(
            KafkaChangelog changelog, StreamExecutionEnvironment env, ChangelogSettings base) {
        this.changelog = changelog;
        this.env = env;
        this.settings = base;
        this.writesTag = new OutputTag<>("fkk-changelog-writes", WRITE_TYPE);
    }

    private void checkUid(String uid) {
        if (uid == null || uid.isBlank()) {
            throw new IllegalArgumentException(
                    "Kafka-backed operators and sources need a uid: it scopes their state in the"
                            + " changelog and must stay the same across runs");
        }
        if (uid.length() > 100 || uid.contains("/")) {
            throw new IllegalArgumentException(
                    "uid '" + uid + "' must be at most 100 characters, without '/'");
        }
        if (!uids.add(uid)) {
            throw new IllegalArgumentException(
                    "uid '" + uid + "' is used twice in this job: give each its own");
        }
    }

    private void checkNotAttached() {
        if (attached) {
            throw new IllegalStateException(
                    "This Kafka-state job is already complete (attach() or execute() was called)");
        }
    }

    /**
     * Adds {@code in} as a source of the job: on a start without Flink state it resumes at the
     * positions committed with the state, and the positions it reaches go to Kafka with each
     * checkpoint's state. Watermarks set on {@code in} ({@code setWatermarks}) are applied in the
     * source, per partition. Records the source cannot read follow its error policy (dead letters
     * commit with the state). The source's group id only names its consumer: it starts from the
     * committed positions, not from the group's offsets, and commits its offsets to the group at
     * each checkpoint for monitoring.
     *
     * @param uid the source's uid (its positions operator gets {@code <uid>-positions})
     */
    public <T> SingleOutputStreamOperator<T> source(String uid, KafkaIn<T> in) {
        checkNotAttached();
        checkUid(uid);
        ErrorPolicy policy = in.errorPolicy();
        if (policy.action() == ErrorPolicy.Action.DEAD_LETTER) {
            changelog.ensureTopic(policy.deadLetterTopic(), 1);
            if (deadLetterTopic == null) {
                deadLetterTopic = policy.deadLetterTopic();
            }
        }
        in.warnIfExactlyOnceReadsUncommitted(env);
        in.checkNotWrittenByTheJob(env);
        inputTopics.addAll(in.topics());
        KafkaSource<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> kafkaSource =
                in.buildSource(
                        new PositionedDeserializer<>(
                                GuardedDeserializer.withDeadLetters(in.deserializer(), policy)),
                        new PositionsStartOffsets(
                                changelog.connection(), changelog.positionsTopic()));
        String name = String.join(",", in.topics());
        DataStream<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> records =
                env.fromSource(
                                BoundedKafkaSource.of(kafkaSource),
                                PositionedDeserializer.watermarks(in.watermarks()),
                                "kafka-in " + name)
                        .uid(uid);
        SingleOutputStreamOperator<T> values =
                records.transform(
                                "positions " + name,
                                in.deserializer().getProducedType(),
                                new PositionsOperator<T>(
                                        settings, policy.deadLetterTopic(), writesTag))
                        .uid(uid + "-positions");
        topology.source(records.getTransformation());
        writes.add(values.getSideOutput(writesTag));
        return values;
    }

    /**
     * Runs {@code function} on {@code keyed} with its state and timers in Kafka. The output type is
     * taken from the function's signature; give it with the other overload where Java erases it.
     */
    public <K, I, O> SingleOutputStreamOperator<O> process(
            String uid, KeyedStream<I, K> keyed, KeyedProcessFunction<K, I, O> function) {
        TypeInformation<O> type =
                TypeExtractor.getUnaryOperatorReturnType(
                        function,
                        KeyedProcessFunction.class,
                        1,
                        2,
                        TypeExtractor.NO_INDEX,
                        keyed.getType(),
                        "KafkaStateJob.process",
                        true);
        return process(uid, keyed, function, type);
    }

    /** Runs {@code function} on {@code keyed} with its state and timers in Kafka. */
    public <K, I, O> SingleOutputStreamOperator<O> process(
            String uid,
            KeyedStream<I, K> keyed,
            KeyedProcessFunction<K, I, O> function,
            TypeInformation<O> outputType) {
        checkNotAttached();
        checkUid(uid);
        KafkaStateSupport<K> support = support(uid, function);
        SingleOutputStreamOperator<O> result =
                keyed.transform(
                                "kafka-state " + uid,
                                outputType,
                                new KafkaStateProcessOperator<>(function, support))
                        .uid(uid)
                        .setMaxParallelism(changelog.maxParallelism());
        return added(result);
    }

    /**
     * Runs {@code function} on two keyed inputs (e.g. {@code
     * clicks.keyBy(..).connect(profiles.keyBy(..))}) with its state and timers in Kafka.
     */
    public <K, I1, I2, O> SingleOutputStreamOperator<O> process(
            String uid,
            ConnectedStreams<I1, I2> keyedInputs,
            KeyedCoProcessFunction<K, I1, I2, O> function,
            TypeInformation<O> outputType) {
        checkNotAttached();
        if (!(keyedInputs.getFirstInput() instanceof KeyedStream)
                || !(keyedInputs.getSecondInput() instanceof KeyedStream)) {
            throw new IllegalArgumentException(
                    "A Kafka-backed co-process function needs two keyed inputs:"
                            + " first.keyBy(...).connect(second.keyBy(...))");
        }
        checkUid(uid);
        KafkaStateSupport<K> support = support(uid, function);
        SingleOutputStreamOperator<O> result =
                keyedInputs
                        .transform(
                                "kafka-state " + uid,
                                outputType,
                                new KafkaStateCoProcessOperator<>(function, support))
                        .uid(uid)
                        .setMaxParallelism(changelog.maxParallelism());
        return added(result);
    }

    /** A (rich) map function on a keyed stream with its keyed state in Kafka. */
    public <K, I, O> SingleOutputStreamOperator<O> map(
            String uid,
            KeyedStream<I, K> keyed,
            MapFunction<I, O> function,
            TypeInformation<O> outputType) {
        return process(uid, keyed, KafkaStateFunctions.map(function), outputType);
    }

    /** A (rich) flat-map function on a keyed stream with its keyed state in Kafka. */
    public <K, I, O> SingleOutputStreamOperator<O> flatMap(
            String uid,
            KeyedStream<I, K> keyed,
            FlatMapFunction<I, O> function,
            TypeInformation<O> outputType) {
        return process(uid, keyed, KafkaStateFunctions.flatMap(function), outputType);
    }

    private <K> KafkaStateSupport<K> support(String uid, Object function) {
        if (function instanceof CheckpointedFunction) {
            throw new IllegalArgumentException(
                    "The function of Kafka-backed operator '"
                            + uid
                            + "' keeps operator state (CheckpointedFunction), which lives in"
                            + " Flink's checkpoints only: a restart from Kafka alone would lose it."
                            + " Keep its state in keyed state (getRuntimeContext().getState(...))");
        }
        KafkaStateSupport<K> support =
                new KafkaStateSupport<>(
                        settings, uid, writesTag, deadLetterTopic, changelog.restoreListener());
        operators.add(support);
        return support;
    }

    private <O> SingleOutputStreamOperator<O> added(SingleOutputStreamOperator<O> operator) {
        topology.kafkaState(operator.getTransformation());
        writes.add(operator.getSideOutput(writesTag));
        return operator;
    }

    /**
     * Writes {@code stream} to Kafka as {@code out} says (topic, key, value, headers, timestamp,
     * error policy; the topic created if {@code out} auto-creates it), through the changelog's
     * writer: each checkpoint's outputs commit with its state. {@code out}'s delivery guarantee and
     * transactional id prefix do not apply: the changelog's do.
     */
    public <T> void sink(DataStream<T> stream, KafkaOut<T> out) {
        checkNotAttached();
        DataStream<KafkaWrite> records =
                stream.process(
                                KafkaStateFunctions.toKafkaWrites(
                                        out.prepareForWriter(stream, settings.maxRequestSize())),
                                WRITE_TYPE)
                        .name("to " + out.topic());
        topology.sink(records.getTransformation());
        writes.add(records);
    }

    /**
     * Writes {@code letters} (e.g. a function's side output of {@link DeadLetter#of}) to {@code
     * topic} (created with one partition if missing), committed with the checkpoint's state.
     */
    public void deadLetters(DataStream<DeadLetter> letters, String topic) {
        checkNotAttached();
        changelog.ensureTopic(topic, 1);
        DataStream<KafkaWrite> records =
                letters.map(KafkaStateFunctions.deadLetterTo(topic))
                        .returns(WRITE_TYPE)
                        .name("dead letters to " + topic);
        topology.sink(records.getTransformation());
        writes.add(records);
    }

    /**
     * Completes the job graph: checks what the job was built with (see the class comment) and adds
     * the changelog writer. {@link #execute} calls it; call it yourself before {@code
     * env.execute(...)} or {@code env.executeAsync(...)}.
     */
    public void attach() {
        checkNotAttached();
        if (writes.isEmpty()) {
            throw new IllegalStateException(
                    "This Kafka-state job has no source: add one with source(uid, kafkaIn)");
        }
        String problem =
                CheckpointSettings.problem(
                        env.getConfiguration(),
                        changelog.deliveryGuarantee(),
                        changelog.transactionTimeout());
        if (problem != null) {
            throw new IllegalStateException(problem);
        }
        topology.check(env.getTransformations());
        attached = true;
        DataStream<KafkaWrite> all = writes.get(0);
        for (int i = 1; i < writes.size(); i++) {
            all = all.union(writes.get(i));
        }
        all.transform(
                        "changelog writer " + changelog.topic(),
                        Types.VOID,
                        new ChangelogWriter(settings.withInputTopics(inputTopics)))
                .uid("fkk-changelog-txn-writer-" + changelog.topic())
                .setParallelism(1)
                .setMaxParallelism(1);
        for (KafkaStateSupport<?> operator : operators) {
            operator.writerAttached();
        }
    }

    /** {@link #attach()}, then {@code env.execute(name)}. */
    public JobExecutionResult execute(String name) throws Exception {
        attach();
        return env.execute(name);
    }

    /** Partitions of the changelog topic. */
    int changelogPartitions() {
        return settings.changelogPartitions();
    }

    /** The environment the job is built on. */
    public StreamExecutionEnvironment environment() {
        return env;
    }

    /**
     * The dead-letter topic of the job's sources (the first with {@code
     * ErrorPolicy.deadLetter(topic)}), or null.
     */
    public String deadLetterTopic() {
        return deadLetterTopic;
    }
}
