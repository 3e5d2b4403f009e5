package io.github.flinkkafkakit.bench;

import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RichMapFunction;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.connector.base.DeliveryGuarantee;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.connector.kafka.sink.KafkaSink;
import org.apache.flink.connector.kafka.source.KafkaSource;
import org.apache.flink.connector.kafka.source.enumerator.initializer.OffsetsInitializer;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.nio.charset.StandardCharsets;

/**
 * {@code flink-keyby-count-alo}: what a team writes without the kit. The official connector's
 * {@link KafkaSource} and {@link KafkaSink} (at-least-once, the producer tuned as {@code
 * kafka-pipe}'s: {@code batch.size=262144}, {@code linger.ms=10}), {@code keyBy} and a {@code
 * ValueState<Long>} count emitting one record per input record, with object reuse on (safe here: no
 * function keeps a record it was given), as a team tuning this job for throughput would.
 */
final class FlinkKeyByCountScenario implements EndToEndScenario {

    @Override
    public String name() {
        return "flink-keyby-count-alo";
    }

    @Override
    public Measurement run(EndToEndContext context, EndToEndInput input) throws Exception {
        String output = context.createTopic("flink-count-out");
        StreamExecutionEnvironment env = context.flink(CheckpointingMode.AT_LEAST_ONCE);
        env.getConfig().enableObjectReuse();
        KafkaSource<String> source =
                KafkaSource.<String>builder()
                        .setBootstrapServers(context.bootstrapServers())
                        .setTopics(input.topic)
                        .setGroupId(context.uniqueName(name()))
                        .setStartingOffsets(OffsetsInitializer.earliest())
                        .setBounded(OffsetsInitializer.latest())
                        .setDeserializer(new KeyAsString())
                        .build();
        KafkaSink<Tuple2<String, Long>> sink =
                KafkaSink.<Tuple2<String, Long>>builder()
                        .setBootstrapServers(context.bootstrapServers())
                        .setRecordSerializer(new CountAsText(output))
                        .setDeliveryGuarantee(DeliveryGuarantee.AT_LEAST_ONCE)
                        .setProperty("batch.size", "262144")
                        .setProperty("linger.ms", "10")
                        .build();
        env.fromSource(source, WatermarkStrategy.noWatermarks(), "kafka")
                .keyBy(key -> key, Types.STRING)
                .map(new CountPerKey())
                .returns(Types.TUPLE(Types.STRING, Types.LONG))
                .sinkTo(sink);
        Timing timing = EndToEndScenario.time(() -> env.execute(name()));
        return EndToEndScenario.verifyLatest(context, input, output, input.counts, "count", timing);
    }

    /** The record key as a {@code String}. */
    static final class KeyAsString implements KafkaRecordDeserializationSchema<String> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(ConsumerRecord<byte[], byte[]> record, Collector<String> out) {
            FirstRecordClock.mark();
            out.collect(new String(record.key(), StandardCharsets.UTF_8));
        }

        @Override
        public TypeInformation<String> getProducedType() {
            return Types.STRING;
        }
    }

    /** {@code keyBy().map()} with a {@code ValueState<Long>}: one output per input record. */
    static final class CountPerKey extends RichMapFunction<String, Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private transient ValueState<Long> count;

        @Override
        public void open(OpenContext context) {
            count = getRuntimeContext().getState(new ValueStateDescriptor<>("count", Types.LONG));
        }

        @Override
        public Tuple2<String, Long> map(String key) throws Exception {
            Long current = count.value();
            long next = current == null ? 1 : current + 1;
            count.update(next);
            return Tuple2.of(key, next);
        }
    }

    /** Key as UTF-8, count as decimal text. */
    static final class CountAsText implements KafkaRecordSerializationSchema<Tuple2<String, Long>> {
        private static final long serialVersionUID = 1L;
        private final String topic;

        CountAsText(String topic) {
            this.topic = topic;
        }

        @Override
        public ProducerRecord<byte[], byte[]> serialize(
                Tuple2<String, Long> count, KafkaSinkContext context, Long timestamp) {
            return new ProducerRecord<>(
                    topic,
                    count.f0.getBytes(StandardCharsets.UTF_8),
                    Long.toString(count.f1).getBytes(StandardCharsets.UTF_8));
        }
    }
}
