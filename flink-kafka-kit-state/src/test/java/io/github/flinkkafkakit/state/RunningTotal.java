package io.github.flinkkafkakit.state;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple2;
import org.apache.flink.util.Collector;

import java.time.Duration;

/** Sum of the values per key, emitted once per changed key and checkpoint. */
class RunningTotal extends ChangelogFunction<String, Tuple2<String, Long>, Tuple2<String, Long>> {

    private static final long serialVersionUID = 1L;
    private transient ValueState<Long> total;

    /** A time to live for the totals, or null. */
    private final Duration ttl;

    RunningTotal() {
        this(null);
    }

    RunningTotal(Duration ttl) {
        this.ttl = ttl;
    }

    @Override
    public void open(OpenContext context) {
        total =
                ttl == null
                        ? valueState("total", Types.LONG)
                        : valueState("total", Types.LONG, ttl);
    }

    @Override
    public void processElement(
            Tuple2<String, Long> in, Context ctx, Collector<Tuple2<String, Long>> out)
            throws Exception {
        Long current = total.value();
        total.update((current == null ? 0 : current) + in.f1);
    }

    @Override
    public void onCheckpoint(String key, Collector<Tuple2<String, Long>> out) throws Exception {
        out.collect(Tuple2.of(key, total.value()));
    }
}
