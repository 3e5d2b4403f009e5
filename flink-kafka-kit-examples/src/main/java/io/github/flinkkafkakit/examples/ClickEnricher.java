package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaRecord;
import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.api.common.functions.OpenContext;
import org.apache.flink.api.common.state.MapState;
import org.apache.flink.api.common.state.MapStateDescriptor;
import org.apache.flink.api.common.state.ValueState;
import org.apache.flink.api.common.state.ValueStateDescriptor;
import org.apache.flink.api.common.typeinfo.TypeInformation;
import org.apache.flink.api.common.typeinfo.Types;
import org.apache.flink.streaming.api.functions.co.KeyedCoProcessFunction;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The {@code enrich} example's function: an event-time temporal join of clicks (input 1) with the
 * versions of each user's profile (input 2), written with Flink's own state and timers only — the
 * Kafka-state job keeps both in Kafka.
 *
 * <ul>
 *   <li>A profile version is valid from its {@code ts}; the versions of a user are a {@code
 *       MapState} by time.
 *   <li>A click waits ({@code MapState} of clicks by time) for an event-time timer at its {@code
 *       ts}: when the watermark passes it, every version at or before it has arrived, and the click
 *       is emitted with the latest of them — the same result whatever the arrival order across the
 *       two topics. Versions older than the one in effect at the latest emitted click are dropped.
 *   <li>A click at or before the watermark (or an emitted click of its user) comes too late to be
 *       joined deterministically; a version at or before an emitted click of its user would change
 *       an emitted result: both go to the dead-letter side output with the reason, as do records
 *       that are not a click or a version (missing fields, a {@code ts} that is not an ISO-8601
 *       instant).
 * </ul>
 */
public final class ClickEnricher
        extends KeyedCoProcessFunction<
                String,
                KafkaRecord<String, JsonNode>,
                KafkaRecord<String, JsonNode>,
                EnrichedClick> {

    private static final long serialVersionUID = 1L;

    /** Late and malformed records, as dead letters. */
    public static final OutputTag<DeadLetter> DEAD_LETTERS =
            new OutputTag<>("enrich-dead-letters", TypeInformation.of(DeadLetter.class));

    /** A click waiting for the watermark. A Flink POJO. */
    public static class PendingClick {
        public String click;
        public String ts;
        public String url;

        public PendingClick() {}

        PendingClick(String click, String ts, String url) {
            this.click = click;
            this.ts = ts;
            this.url = url;
        }
    }

    /** A profile version. A Flink POJO. */
    public static class Profile {
        public String country;
        public String plan;

        public Profile() {}

        Profile(String country, String plan) {
            this.country = country;
            this.plan = plan;
        }
    }

    private transient MapState<Long, Profile> versions;
    private transient MapState<Long, List<PendingClick>> pending;

    /** The time of the latest click emitted for this user. */
    private transient ValueState<Long> emittedUpTo;

    @Override
    public void open(OpenContext context) {
        versions =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "versions", Types.LONG, Types.POJO(Profile.class)));
        pending =
                getRuntimeContext()
                        .getMapState(
                                new MapStateDescriptor<>(
                                        "pending",
                                        Types.LONG,
                                        Types.LIST(Types.POJO(PendingClick.class))));
        emittedUpTo =
                getRuntimeContext().getState(new ValueStateDescriptor<>("emitted", Types.LONG));
    }

    /** The event time of a click or version ({@code ts}), or {@code Long.MIN_VALUE}. */
    static long eventTime(KafkaRecord<String, JsonNode> record) {
        JsonNode ts = record.value() == null ? null : record.value().get("ts");
        if (ts == null || !ts.isTextual()) {
            return Long.MIN_VALUE;
        }
        try {
            return Instant.parse(ts.asText()).toEpochMilli();
        } catch (DateTimeParseException e) {
            return Long.MIN_VALUE;
        }
    }

    private static String text(JsonNode value, String field) {
        JsonNode node = value == null ? null : value.get(field);
        return node == null || node.isNull() ? null : node.asText();
    }

    @Override
    public void processElement1(
            KafkaRecord<String, JsonNode> record, Context ctx, Collector<EnrichedClick> out)
            throws Exception {
        JsonNode value = record.value();
        long time = eventTime(record);
        String click = text(value, "click");
        String user = text(value, "user");
        if (time == Long.MIN_VALUE || click == null || user == null) {
            reject(ctx, record, "not a click: needs 'click', 'user' and 'ts' (ISO-8601 instant)");
            return;
        }
        long watermark = ctx.timerService().currentWatermark();
        Long emitted = emittedUpTo.value();
        if (time <= watermark || (emitted != null && time <= emitted)) {
            reject(
                    ctx,
                    record,
                    "late click: its ts "
                            + text(value, "ts")
                            + " is not after the watermark ("
                            + Instant.ofEpochMilli(
                                    Math.max(watermark, emitted == null ? 0 : emitted))
                            + "); raise --max-out-of-orderness to join such clicks");
            return;
        }
        List<PendingClick> clicks = pending.get(time);
        if (clicks == null) {
            clicks = new ArrayList<>();
        }
        clicks.add(new PendingClick(click, text(value, "ts"), text(value, "url")));
        pending.put(time, clicks);
        ctx.timerService().registerEventTimeTimer(time);
    }

    @Override
    public void processElement2(
            KafkaRecord<String, JsonNode> record, Context ctx, Collector<EnrichedClick> out)
            throws Exception {
        JsonNode value = record.value();
        long time = eventTime(record);
        if (time == Long.MIN_VALUE || text(value, "user") == null) {
            reject(ctx, record, "not a profile version: needs 'user' and 'ts' (ISO-8601 instant)");
            return;
        }
        Long emitted = emittedUpTo.value();
        if (emitted != null && time <= emitted) {
            reject(
                    ctx,
                    record,
                    "late profile version: clicks of this user up to "
                            + Instant.ofEpochMilli(emitted)
                            + " were already emitted");
            return;
        }
        versions.put(time, new Profile(text(value, "country"), text(value, "plan")));
    }

    @Override
    public void onTimer(long time, OnTimerContext ctx, Collector<EnrichedClick> out)
            throws Exception {
        List<PendingClick> clicks = pending.get(time);
        if (clicks == null) {
            return;
        }
        pending.remove(time);
        long effective = Long.MIN_VALUE;
        Profile profile = null;
        for (Map.Entry<Long, Profile> version : versions.entries()) {
            if (version.getKey() <= time && version.getKey() > effective) {
                effective = version.getKey();
                profile = version.getValue();
            }
        }
        String user = ctx.getCurrentKey();
        for (PendingClick click : clicks) {
            out.collect(
                    new EnrichedClick(
                            click.click,
                            user,
                            click.ts,
                            click.url,
                            profile == null ? null : profile.country,
                            profile == null ? null : profile.plan));
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

    private static void reject(Context ctx, KafkaRecord<String, JsonNode> record, String reason) {
        ctx.output(DEAD_LETTERS, DeadLetter.of(record, new IllegalArgumentException(reason)));
    }
}
