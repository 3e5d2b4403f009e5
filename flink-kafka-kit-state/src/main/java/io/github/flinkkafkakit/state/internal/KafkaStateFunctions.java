package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.RuntimeContext;
import org.apache.flink.api.common.functions.util.FunctionUtils;
import org.apache.flink.connector.kafka.sink.KafkaRecordSerializationSchema;
import org.apache.flink.streaming.api.functions.KeyedProcessFunction;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;

/** The small functions a Kafka-state job puts around the user's. */
@Internal
public final class KafkaStateFunctions {

    private KafkaStateFunctions() {}

    /** A (rich) map function as a keyed process function, so it runs on a Kafka-state operator. */
    public static <K, I, O> KeyedProcessFunction<K, I, O> map(MapFunction<I, O> map) {
        return new Wrapped<>(map) {
            private static final long serialVersionUID = 1L;

            @Override
            public void processElement(I value, Context ctx, Collector<O> out) throws Exception {
                out.collect(map.map(value));
            }
        };
    }

    /** A (rich) flat-map function as a keyed process function. */
    public static <K, I, O> KeyedProcessFunction<K, I, O> flatMap(FlatMapFunction<I, O> flatMap) {
        return new Wrapped<>(flatMap) {
            private static final long serialVersionUID = 1L;

            @Override
            public void processElement(I value, Context ctx, Collector<O> out) throws Exception {
                flatMap.flatMap(value, out);
            }
        };
    }

    /** Output elements → records for the changelog writer, as {@code serializer} makes them. */
    public static <T> ProcessFunction<T, KafkaWrite> toKafkaWrites(
            KafkaRecordSerializationSchema<T> serializer) {
        return new ToKafkaWrite<>(serializer);
    }

    /** Dead letters → records for the changelog writer, to {@code topic}. */
    public static MapFunction<DeadLetter, KafkaWrite> deadLetterTo(String topic) {
        return letter -> KafkaWrite.deadLetter(topic, letter);
    }

    /**
     * A keyed process function around a user's function: the user's function gets the runtime
     * context (and so the Kafka-backed state), opens and closes with it.
     */
    private abstract static class Wrapped<K, I, O> extends KeyedProcessFunction<K, I, O> {
        private static final long serialVersionUID = 1L;

        private final org.apache.flink.api.common.functions.Function user;

        Wrapped(org.apache.flink.api.common.functions.Function user) {
            this.user = user;
        }

        @Override
        public void setRuntimeContext(RuntimeContext context) {
            super.setRuntimeContext(context);
            FunctionUtils.setFunctionRuntimeContext(user, context);
        }

        @Override
        public void open(OpenContext context) throws Exception {
            FunctionUtils.openFunction(user, context);
        }

        @Override
        public void close() throws Exception {
            FunctionUtils.closeFunction(user);
        }
    }
}
