package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.KafkaOut;
import io.github.flinkkafkakit.core.errors.ErrorPolicy;
import io.github.flinkkafkakit.core.serde.Serdes;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.api.java.tuple.Tuple3;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.StateBackendOptions;
import org.apache.flink.connector.kafka.source.reader.deserializer.KafkaRecordDeserializationSchema;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code enrich} pair's function — the {@code enrich} example's event-time temporal join on
 * simple types — and what both jobs of the pair share (sources, sink, state backend), so that they
 * differ only where the state lives.
 *
 * <p>Input 1 is clicks, input 2 profile versions, both {@code (user, ts, n)} ({@link #EVENT}),
 * keyed by user. A version is valid from its {@code ts}; a user's versions are a {@code MapState}
 * by time. A click waits ({@code MapState} of click ids by time) for an event-time timer at its
 * time: when the watermark passes it every version at or before it has arrived, and the click is
 * emitted with the latest of them, {@code (user, click, version)} ({@link #OUTPUT}; version {@code
 * -1}: none). Versions older than the one in effect at the latest emitted click are dropped. A
 * click at or before the watermark or an emitted click of its user comes too late to be joined
 * deterministically: it is emitted with version {@link #LATE} (the bench's input has none, so its
 * check fails on any); a late version is dropped.
 */
final class EnrichJoin
        extends KeyedCoProcessFunction<
                String,
                Tuple3<String, Long, Long>,
                Tuple3<String, Long, Long>,
                Tuple3<String, Long, Long>> {

    private static final long serialVersionUID = 1L;

    /** Clicks and profile versions: (user, event time, click id or version number). */
    static final TypeInformation<Tuple3<String, Long, Long>> EVENT =
            Types.TUPLE(Types.STRING, Types.LONG, Types.LONG);

    /** Enriched clicks: (user, click id, version number or -1). */
    static final TypeInformation<Tuple3<String, Long, Long>> OUTPUT =
            Types.TUPLE(Types.STRING, Types.LONG, Types.LONG);

    /** The version of a click that came too late to be joined. */
    static final long LATE = -2;

    private transient MapState<Long, Long> versions;
    private transient MapState<Long, List<Long>> pending;

    /** The time of the latest click emitted for this user. */
    private transient ValueState<Long> emittedUpTo;

    @Override
    public void open(OpenContext context) {
        versions =
                getRuntimeContext()
                        .getMapState(new MapStateDescriptor<>("versions", Types.LONG, Types.LONG));
        pending =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "pending", Types.LONG, Types.LIST(Types.LONG)));
        emittedUpTo =
                getRuntimeContext().getState(new ValueStateDescriptor<>("emitted", Types.LONG));
    }

    @Override
    public void processElement1(
            Tuple3<String, Long, Long> click,
            Context ctx,
            Collector<Tuple3<String, Long, Long>> out)
            throws Exception {
        long time = click.f1;
        Long emitted = emittedUpTo.value();
        if (time <= ctx.timerService().currentWatermark() || (emitted != null && time <= emitted)) {
            out.collect(Tuple3.of(click.f0, click.f2, LATE));
            return;
        }
        List<Long> clicks = pending.get(time);
        if (clicks == null) {
            clicks = new ArrayList<>(1);
        }
        clicks.add(click.f2);
        pending.put(time, clicks);
        ctx.timerService().registerEventTimeTimer(time);
    }

    @Override
    public void processElement2(
            Tuple3<String, Long, Long> version,
            Context ctx,
            Collector<Tuple3<String, Long, Long>> out)
            throws Exception {
        Long emitted = emittedUpTo.value();
        if (emitted != null && version.f1 <= emitted) {
            return; // would change emitted results
        }
        versions.put(version.f1, version.f2);
    }

    @Override
    public void onTimer(long time, OnTimerContext ctx, Collector<Tuple3<String, Long, Long>> out)
            throws Exception {
        List<Long> clicks = pending.get(time);
        if (clicks == null) {
            return;
        }
        pending.remove(time);
        long effective = Long.MIN_VALUE;
        long version = -1;
        for (Map.Entry<Long, Long> v : versions.entries()) {
            if (v.getKey() <= time && v.getKey() > effective) {
                effective = v.getKey();
                version = v.getValue();
            }
        }
        String user = ctx.getCurrentKey();
        for (Long click : clicks) {
            out.collect(Tuple3.of(user, click, version));
        }
        emittedUpTo.update(time);
        // later clicks need the version in effect now or a newer one
        List<Long> older = new ArrayList<>();
        for (Long at : versions.keys()) {
            if (at < effective) {
                older.add(at);
            }
        }
        for (Long at : older) {
            versions.remove(at);
        }
    }

    /** Both jobs' state backend, stated: Flink's heap backend (its default). */
    static void heapStateBackend(StreamExecutionEnvironment env) {
        Configuration conf = new Configuration();
        conf.set(StateBackendOptions.STATE_BACKEND, "hashmap");
        env.configure(conf);
    }

    /**
     * A bounded source of clicks or profile versions with event time from the value, watermarks per
     * partition trailing by {@link EnrichInput#MAX_OUT_OF_ORDERNESS_MILLIS}, never idle.
     */
    static KafkaIn<Tuple3<String, Long, Long>> source(
            KafkaConnection connection, String topic, String group, String what) {
        return KafkaIn.<Tuple3<String, Long, Long>>builder()
                .setConnection(connection)
                .setTopics(topic)
                .setGroupId(group)
                .setDeserializer(new Events())
                .setErrorPolicy(ErrorPolicy.deadLetter(group + "-dlq"))
                // two sources of a job, one dead-letter topic: a sink of its own each
                .setDeadLetterTransactionalIdPrefix(group + "-" + what + "-dlq")
                .setWatermarks(
                        Duration.ofMillis(EnrichInput.MAX_OUT_OF_ORDERNESS_MILLIS),
                        (event, kafkaTimestamp) -> event.f1,
                        null)
                .setBounded(true)
                .build();
    }

    /** The enriched clicks' sink: key = user, value = {@code <click>,<version>}. */
    static KafkaOut.Builder<Tuple3<String, Long, Long>> sink(
            KafkaConnection connection, String topic) {
        return KafkaOut.<Tuple3<String, Long, Long>>builder()
                .setConnection(connection)
                .setTopic(topic)
                .setKey(t -> t.f0, Serdes.string())
                .setValue(t -> t.f1 + "," + t.f2, Serdes.string());
    }

    /** Reads {@code <ts>,<n>} values keyed by user into (user, ts, n); marks the first record. */
    static final class Events
            implements KafkaRecordDeserializationSchema<Tuple3<String, Long, Long>> {
        private static final long serialVersionUID = 1L;

        @Override
        public void deserialize(
                ConsumerRecord<byte[], byte[]> record, Collector<Tuple3<String, Long, Long>> out) {
            FirstRecordClock.mark();
            byte[] v = record.value();
            if (record.key() == null || v == null) {
                throw new IllegalArgumentException("a click or version needs a key and a value");
            }
            long ts = 0;
            int i = 0;
            for (; i < v.length && v[i] != ','; i++) {
                ts = ts * 10 + digit(v[i]);
            }
            if (i == 0 || i >= v.length - 1) {
                throw new IllegalArgumentException("not <ts>,<n>: " + text(v));
            }
            long n = 0;
            for (i++; i < v.length; i++) {
                n = n * 10 + digit(v[i]);
            }
            out.collect(Tuple3.of(text(record.key()), ts, n));
        }

        private static int digit(byte b) {
            if (b < '0' || b > '9') {
                throw new IllegalArgumentException("not a digit: " + (char) b);
            }
            return b - '0';
        }

        private static String text(byte[] bytes) {
            return new String(bytes, StandardCharsets.US_ASCII);
        }

        @Override
        public TypeInformation<Tuple3<String, Long, Long>> getProducedType() {
            return EVENT;
        }
    }
}
