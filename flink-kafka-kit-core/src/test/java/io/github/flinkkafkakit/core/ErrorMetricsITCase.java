package io.github.flinkkafkakit.core;

import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.metrics.Counter;
import org.apache.flink.metrics.Metric;
import org.apache.flink.runtime.testutils.InMemoryReporter;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.sink.v2.DiscardingSink;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The {@code fkk.errors.*} counters reach Flink's metric reporters. */
class ErrorMetricsITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static long sum(Map<String, Metric> metrics, String suffix) {
        return metrics.entrySet().stream()
                .filter(e -> e.getKey().endsWith(suffix))
                .mapToLong(e -> ((Counter) e.getValue()).getCount())
                .sum();
    }

    @Test
    void shouldReportSkippedRecordsOfTheDeserializeStage() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("metrics", 2);
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
            records.add(KeyValue.of("k" + i, i % 10 == 3 ? "not a number " + i : "" + i));
        }
        kafka.produce(in, records);

        InMemoryReporter reporter = InMemoryReporter.createWithRetainedMetrics();
        Configuration conf = reporter.addToConfiguration(new Configuration());
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        StreamExecutionEnvironment env = StreamExecutionEnvironment.getExecutionEnvironment(conf);
        env.setParallelism(2);
        KafkaIn.<Long>builder()
                .setConnection(KafkaConnection.of(KAFKA.bootstrapServers()))
                .setTopics(in)
                .setDeserializer(KafkaDeserializers.values(Serdes.longAsText()))
                .setErrorPolicy(ErrorPolicy.skip())
                .setBounded(true)
                .build()
                .createStream(env)
                .map(v -> v, Types.LONG)
                .sinkTo(new DiscardingSink<>());
        JobExecutionResult result = env.execute("metrics");

        Map<String, Metric> metrics = reporter.getMetricsByIdentifiers(result.getJobID());
        assertThat(metrics.keySet()).anyMatch(name -> name.endsWith("fkk.errors.skipped"));
        assertThat(sum(metrics, "fkk.errors.skipped")).isEqualTo(4);
        assertThat(sum(metrics, "fkk.errors.logged")).isZero();
        assertThat(sum(metrics, "fkk.errors.deadLettered")).isZero();
    }
}
