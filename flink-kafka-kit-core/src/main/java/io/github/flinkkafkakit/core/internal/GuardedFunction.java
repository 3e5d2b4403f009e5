package io.github.flinkkafkakit.core.internal;

import io.github.flinkkafkakit.core.KafkaRecord;
import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.errors.FailureHandler;
import io.github.flinkkafkakit.core.errors.Stage;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.FlatMapFunction;
import org.apache.flink.api.common.functions.Function;
import org.apache.flink.api.common.functions.MapFunction;
import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.functions.util.FunctionUtils;
import org.apache.flink.api.common.functions.util.ListCollector;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import java.util.ArrayList;
import java.util.List;

/**
 * Runs a user function per element and applies an {@link ErrorPolicy} at stage {@code PROCESS} when
 * it throws: the element is skipped, logged, sent as a {@link DeadLetter} to a side output, or the
 * job fails once without restarts. What the function emitted for a failing element is dropped, so
 * an element's output is all or nothing.
 */
@Internal
public final class GuardedFunction<T, R> extends ProcessFunction<T, R> {

    private static final long serialVersionUID = 1L;

    private final FlatMapFunction<T, R> function;
    private final FailureHandler failures;
    private final OutputTag<DeadLetter> deadLetters;
    private final String name;
    private transient List<R> buffer;
    private transient Collector<R> bufferCollector;

    /**
     * @param deadLetters side output for dead letters; {@code null} unless the policy is
     *     dead-letter
     * @param name the step's name, used in log lines and exception messages
     */
    public GuardedFunction(
            FlatMapFunction<T, R> function,
            ErrorPolicy policy,
            OutputTag<DeadLetter> deadLetters,
            String name) {
        this.function = function;
        this.failures = new FailureHandler(policy, Stage.PROCESS);
        this.deadLetters = deadLetters;
        this.name = name;
    }

    /** A map function as a flat-map function emitting exactly one element. */
    public static <T, R> FlatMapFunction<T, R> asFlatMap(MapFunction<T, R> map) {
        return new MapAsFlatMap<>(map);
    }

    @Override
    public void open(OpenContext openContext) throws Exception {
        failures.open(getRuntimeContext().getMetricGroup());
        buffer = new ArrayList<>();
        bufferCollector = new ListCollector<>(buffer);
        FunctionUtils.setFunctionRuntimeContext(userFunction(), getRuntimeContext());
        FunctionUtils.openFunction(userFunction(), openContext);
    }

    @Override
    public void close() throws Exception {
        FunctionUtils.closeFunction(userFunction());
    }

    /** The user's function (rich functions get the runtime context, open and close). */
    private Function userFunction() {
        return function instanceof MapAsFlatMap ? ((MapAsFlatMap<?, ?>) function).map : function;
    }

    @Override
    public void processElement(T value, Context ctx, Collector<R> out) throws Exception {
        buffer.clear();
        try {
            function.flatMap(value, bufferCollector);
        } catch (Exception | StackOverflowError e) {
            buffer.clear();
            if (failures.onFailure(where(value), e) == ErrorPolicy.Action.DEAD_LETTER) {
                ctx.output(deadLetters, deadLetter(value, ctx.timestamp(), e));
            }
            return;
        }
        failures.onSuccess();
        for (R r : buffer) {
            out.collect(r);
        }
        buffer.clear();
    }

    private String where(T value) {
        if (value instanceof KafkaRecord) {
            KafkaRecord<?, ?> r = (KafkaRecord<?, ?>) value;
            return r.topic() + "-" + r.partition() + "@" + r.offset() + " in '" + name + "'";
        }
        return "in '" + name + "'";
    }

    /**
     * The dead letter of a failed element: a {@link KafkaRecord} keeps its headers and source
     * position, its key and value become bytes ({@code byte[]} as is, anything else as the UTF-8 of
     * {@code String.valueOf}); any other element becomes the UTF-8 of {@code
     * String.valueOf(element)} as value.
     */
    static DeadLetter deadLetter(Object value, Long timestamp, Throwable e) {
        DeadLetter d = DeadLetter.of(value, e);
        if (!(value instanceof KafkaRecord)) {
            d.timestamp = timestamp == null ? -1 : timestamp;
        }
        return d;
    }

    private static final class MapAsFlatMap<T, R> implements FlatMapFunction<T, R> {
        private static final long serialVersionUID = 1L;
        private final MapFunction<T, R> map;

        MapAsFlatMap(MapFunction<T, R> map) {
            this.map = map;
        }

        @Override
        public void flatMap(T value, Collector<R> out) throws Exception {
            out.collect(map.map(value));
        }
    }
}
