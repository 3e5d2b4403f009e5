package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;
import io.github.flinkkafkakit.testing.history.CommittedOutput;

import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.configuration.StateRecoveryOptions;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.core.execution.JobClient;
import org.apache.flink.core.execution.SavepointFormatType;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.fail;

/**
 * A bounded KafkaIn job stopped with a savepoint and started again from it finishes, with every
 * record written once (FLINK-31006: the connector's restored enumerator never tells its readers
 * that no more splits come).
 */
class BoundedRestoreITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final int RECORDS = 4_000;
    private static final Duration LIMIT = Duration.ofSeconds(60);

    @Test
    void shouldFinishWhenRestartedFromASavepoint(@TempDir Path savepoints) throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("bounded-restore-in", 3);
        String out = kafka.createUniqueTopic("bounded-restore-out", 2);
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < RECORDS; i++) {
            records.add(KeyValue.of("k" + (i % 37), "v" + i));
        }
        kafka.produce(in, records);

        StreamExecutionEnvironment first = env(null);
        pipeline(first, in, out);
        JobClient job = first.executeAsync("bounded, first run");
        awaitSomeOutput(out);
        String savepoint =
                job.stopWithSavepoint(
                                false, savepoints.toUri().toString(), SavepointFormatType.CANONICAL)
                        .get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        int before = CommittedOutput.read(KAFKA.bootstrapServers(), out).size();
        assertThat(before).as("records written before the savepoint").isBetween(1, RECORDS - 1);

        StreamExecutionEnvironment second = env(savepoint);
        pipeline(second, in, out);
        JobClient resumed = second.executeAsync("bounded, restored from the savepoint");
        try {
            resumed.getJobExecutionResult().get(LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            resumed.cancel().get(LIMIT.toSeconds(), TimeUnit.SECONDS);
            fail(
                    "The bounded job restored from a savepoint did not finish within %s"
                            + " (its readers never got NoMoreSplits, FLINK-31006)",
                    LIMIT);
        }

        assertThat(
                        CommittedOutput.read(KAFKA.bootstrapServers(), out).stream()
                                .map(r -> r.key() + "=" + r.value())
                                .sorted())
                .as("committed output after the restored run")
                .containsExactlyElementsOf(
                        records.stream()
                                .map(kv -> kv.key() + "=" + kv.value().toUpperCase())
                                .sorted()
                                .collect(Collectors.toList()));
    }

    private static StreamExecutionEnvironment env(String savepoint) {
        Configuration conf = new Configuration();
        if (savepoint != null) {
            conf.set(StateRecoveryOptions.SAVEPOINT_PATH, savepoint);
        }
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        env.enableCheckpointing(200, CheckpointingMode.EXACTLY_ONCE);
        return env;
    }

    private static void pipeline(StreamExecutionEnvironment env, String in, String out) {
        KafkaConnection connection = KafkaConnection.of(KAFKA.bootstrapServers());
        DataStream<Tuple2<String, String>> upper =
                KafkaIn.<Tuple2<String, String>>builder()
                        .setConnection(connection)
                        .setTopics(in)
                        .setGroupId("bounded-restore-" + in)
                        // From the start, not the group's offsets: a run that does not resume
                        // from the savepoint writes every record a second time.
                        .setStartingOffsetsEarliest()
                        .setDeserializer(
                                KafkaDeserializers.keyValues(Serdes.string(), Serdes.string()))
                        .setBounded(true)
                        .build()
                        .createStream(env)
                        .map(new SlowUpperCase())
                        .returns(Types.TUPLE(Types.STRING, Types.STRING))
                        .uid("slow-upper");
        KafkaOut.<Tuple2<String, String>>builder()
                .setConnection(connection)
                .setTopic(out)
                .setKey(t -> t.f0, Serdes.string())
                .setValue(t -> t.f1, Serdes.string())
                .setDeliveryGuarantee(DeliveryGuarantee.EXACTLY_ONCE)
                .setTransactionalIdPrefix("bounded-restore-" + out)
                .build()
                .writeTo(upper);
    }

    private static void awaitSomeOutput(String out) throws InterruptedException {
        long deadline = System.nanoTime() + LIMIT.toNanos();
        while (CommittedOutput.read(KAFKA.bootstrapServers(), out).isEmpty()) {
            if (System.nanoTime() > deadline) {
                fail("no committed output of the first run within %s", LIMIT);
            }
            Thread.sleep(100);
        }
    }

    /** Upper-cases the value, 2 ms per record, so the first run lasts a few seconds. */
    private static final class SlowUpperCase
            implements MapFunction<Tuple2<String, String>, Tuple2<String, String>> {
        @Override
        public Tuple2<String, String> map(Tuple2<String, String> t) throws Exception {
            Thread.sleep(2);
            return Tuple2.of(t.f0, t.f1.toUpperCase());
        }
    }
}
