package io.github.flinkkafkakit.state;

import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.serde.Serde;

import org.apache.flink.annotation.PublicEvolving;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.datastream.KeyedStream;
import org.apache.flink.streaming.api.datastream.SingleOutputStreamOperator;
import org.apache.flink.util.function.SerializableFunction;

/**
 * A job of one source and keyed {@link ChangelogFunction}s over Kafka changelog state, written
 * through one transactional writer: the shape of {@code stateful-total}. Any other job (several
 * sources, two-input functions, Flink's own state API, timers, several sinks) is a {@link
 * KafkaStateJob}, which this wraps.
 *
 * <pre>{@code
 * ChangelogPipeline<Tuple2<String, Long>> job = changelog.pipeline(env, kafkaIn);
 * DataStream<Tuple2<String, Long>> totals =
 *         job.process(job.source().keyBy(t -> t.f0, Types.STRING), new RunningTotal(), TOTALS);
 * job.writeOutput(totals, "totals", t -> t.f0, Serdes.string(), t -> t.f1, Serdes.longAsText());
 * }</pre>
 *
 * <p>Operator uids: the source {@code fkk-changelog-source-<input topics>}, the functions {@code
 * fkk-changelog-<changelog topic>-<n>} in the order of {@link #process} calls (use a {@link
 * KafkaStateJob} to name them). Requirements are {@link KafkaStateJob}'s.
 */
@PublicEvolving
public final class ChangelogPipeline<T> {

    private final KafkaChangelog changelog;
    private final KafkaStateJob job;
    private final SingleOutputStreamOperator<T> source;
    private int operators;

    ChangelogPipeline(KafkaChangelog changelog, KafkaStateJob job, KafkaIn<T> in) {
        this.changelog = changelog;
        this.job = job;
        this.source = job.source("fkk-changelog-source-" + String.join("-", in.topics()), in);
    }

    /** The input values (dead letters already split off), in source order per partition. */
    public DataStream<T> source() {
        return source;
    }

    /** Runs {@code function} on {@code keyed} with its state in Kafka. */
    public <K, I, OUT> SingleOutputStreamOperator<OUT> process(
            KeyedStream<I, K> keyed,
            ChangelogFunction<K, I, OUT> function,
            TypeInformation<OUT> outputType) {
        return job.process(
                "fkk-changelog-" + changelog.topic() + "-" + operators++,
                keyed,
                function,
                outputType);
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
        job.sink(
                output,
                KafkaOut.<OUT>builder()
                        .setConnection(changelog.connection())
                        .setTopic(topic)
                        .setKey(key, keySerde)
                        .setValue(value, valueSerde)
                        .setAutoCreateTopic(job.changelogPartitions())
                        .build());
        attach();
    }

    /** Completes the job graph without an output topic (state and positions only). */
    public void attach() {
        job.attach();
    }
}
