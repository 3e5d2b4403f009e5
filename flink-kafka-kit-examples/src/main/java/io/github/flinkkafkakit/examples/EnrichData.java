package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaTestClient;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Random;
import java.util.TreeMap;

/**
 * Sample data of the {@code enrich} example and what it must give: clicks and profile versions of
 * 1,000 users in event-time order (each up to 1 s off), about 0.1 % of each topic malformed, a few
 * clicks an hour late at the end of each batch; and the check of a run's committed output against
 * the profile version in effect at each click's time. Used by the embedded mode and the tests.
 */
final class EnrichData {

    private static final String[] COUNTRIES = {"DE", "FR", "US", "JP", "BR", "IN", "NL", "SE"};
    private static final String[] PLANS = {"free", "pro", "team"};
    private static final String[] URLS = {"/", "/cart", "/search", "/product", "/checkout"};

    /** Event time between two generated events. */
    private static final long STEP_MILLIS = 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final Random random;

    /** Every valid profile version generated so far: user → ts → {country, plan}. */
    private final Map<String, NavigableMap<Long, String[]>> versions = new HashMap<>();

    /** Every on-time click generated so far. */
    private final Map<String, EnrichedClick> clicks = new HashMap<>();

    /**
     * Clicks generated an hour behind their batch: a dead letter each when the watermark has passed
     * them as they arrive (it has, unless the partitions were read far apart), else joined.
     */
    private final Map<String, EnrichedClick> late = new HashMap<>();

    /** Malformed records generated: each must be a dead letter. */
    private long malformed;

    // Recent: output records carry their event time, and the broker deletes records older than
    // its retention (7 days by default) once their segment rolls, which an old time makes happen.
    private long nextTime =
            Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(2)).toEpochMilli();
    private int batches;

    EnrichData(long seed) {
        this.random = new Random(seed);
    }

    /** Writes a batch of {@code clickCount} clicks and a tenth as many profile versions. */
    void writeBatch(
            KafkaTestClient kafka, String clicksTopic, String profilesTopic, int clickCount) {
        int batch = batches++;
        int users = 1_000;
        int versionCount = clickCount / 10;
        long batchStart = nextTime;
        try (KafkaTestClient.Batch clickOut = kafka.batch(clicksTopic);
                KafkaTestClient.Batch profileOut = kafka.batch(profilesTopic)) {
            int clicksLeft = clickCount;
            int versionsLeft = versionCount;
            for (int i = 0; i < clickCount + versionCount; i++) {
                long time = nextTime + random.nextInt(1000);
                nextTime += STEP_MILLIS;
                String user = "u" + random.nextInt(users);
                if (random.nextInt(clicksLeft + versionsLeft) < clicksLeft) {
                    clicksLeft--;
                    String id = "c-" + batch + "-" + i;
                    if (random.nextInt(1000) == 0) {
                        clickOut.send(user, "{\"click\": \"" + id + "\", not json");
                        malformed++;
                        continue;
                    }
                    String ts = Instant.ofEpochMilli(time).toString();
                    String url = URLS[random.nextInt(URLS.length)];
                    clickOut.send(user, clickJson(id, user, ts, url));
                    clicks.put(id, new EnrichedClick(id, user, ts, url, null, null));
                } else {
                    versionsLeft--;
                    if (random.nextInt(1000) == 0) {
                        profileOut.send(user, "{\"user\": \"" + user + "\", \"plan\": \"pro\"}");
                        malformed++; // no ts
                        continue;
                    }
                    String country = COUNTRIES[random.nextInt(COUNTRIES.length)];
                    String plan = PLANS[random.nextInt(PLANS.length)];
                    profileOut.send(
                            user,
                            String.format(
                                    "{\"user\":\"%s\",\"ts\":\"%s\",\"country\":\"%s\","
                                            + "\"plan\":\"%s\"}",
                                    user, Instant.ofEpochMilli(time), country, plan));
                    versions.computeIfAbsent(user, u -> new TreeMap<>())
                            .put(time, new String[] {country, plan});
                }
            }
            for (int i = 0; i < 5; i++) { // an hour before the batch: behind the watermark
                String user = "u" + random.nextInt(users);
                String id = "late-" + batch + "-" + i;
                String ts = Instant.ofEpochMilli(batchStart - 3_600_000 + i).toString();
                clickOut.send(user, clickJson(id, user, ts, "/"));
                late.put(id, new EnrichedClick(id, user, ts, "/", null, null));
            }
        }
    }

    private static String clickJson(String id, String user, String ts, String url) {
        return String.format(
                "{\"click\":\"%s\",\"user\":\"%s\",\"ts\":\"%s\",\"url\":\"%s\"}",
                id, user, ts, url);
    }

    /** {@code click} with the profile version of its user in effect at its time. */
    private EnrichedClick enriched(EnrichedClick click) {
        NavigableMap<Long, String[]> userVersions = versions.get(click.user);
        Map.Entry<Long, String[]> version =
                userVersions == null
                        ? null
                        : userVersions.floorEntry(Instant.parse(click.ts).toEpochMilli());
        return version == null
                ? click
                : new EnrichedClick(
                        click.click,
                        click.user,
                        click.ts,
                        click.url,
                        version.getValue()[0],
                        version.getValue()[1]);
    }

    /** What the committed output and dead letters of the runs so far hold, against the data. */
    Verdict check(KafkaTestClient kafka, String outputTopic, String dlqTopic) {
        Map<String, List<EnrichedClick>> outputs = new HashMap<>();
        Verdict v = new Verdict();
        for (var r : kafka.consumeAll(outputTopic)) {
            EnrichedClick click = parse(r.value());
            outputs.computeIfAbsent(click.click, c -> new ArrayList<>()).add(click);
            v.recordsOut++;
        }
        v.clicks = clicks.size();
        for (EnrichedClick click : clicks.values()) {
            List<EnrichedClick> got = outputs.getOrDefault(click.click, List.of());
            EnrichedClick want = enriched(click);
            if (got.isEmpty()) {
                v.missing++;
                continue;
            }
            v.duplicated += got.size() - 1;
            boolean right = got.get(0).equals(want);
            if (!right) {
                v.wrong++;
            }
            if (v.sample.size() < 8 || !right && v.sample.size() < 16) {
                v.sample.add(
                        new String[] {
                            click.click,
                            click.user,
                            click.ts,
                            String.valueOf(got.get(0).country),
                            String.valueOf(got.get(0).plan),
                            right ? "yes" : "NO, expected " + want
                        });
            }
        }
        long lateJoined = 0;
        for (EnrichedClick click : late.values()) {
            List<EnrichedClick> got = outputs.getOrDefault(click.click, List.of());
            lateJoined += Math.min(1, got.size());
            v.duplicated += Math.max(0, got.size() - 1);
            if (!got.isEmpty() && !got.get(0).equals(enriched(click))) {
                v.wrong++;
            }
        }
        v.unexpected =
                outputs.keySet().stream()
                        .filter(id -> !clicks.containsKey(id) && !late.containsKey(id))
                        .count();
        v.malformed = malformed;
        v.lateDeadLetters = late.size() - lateJoined;
        v.deadLetters = kafka.consumeAllBytes(dlqTopic, KafkaTestClient.DEFAULT_IDLE).size();
        return v;
    }

    private static EnrichedClick parse(String json) {
        try {
            JsonNode value = JSON.readTree(json);
            return new EnrichedClick(
                    text(value, "click"),
                    text(value, "user"),
                    text(value, "ts"),
                    text(value, "url"),
                    text(value, "country"),
                    text(value, "plan"));
        } catch (IOException e) {
            throw new UncheckedIOException("not an enriched click: " + json, e);
        }
    }

    private static String text(JsonNode value, String field) {
        JsonNode node = value.get(field);
        return node == null || node.isNull() ? null : node.asText();
    }

    /** The check of a run's committed output. */
    static final class Verdict {
        long clicks;
        long recordsOut;
        long missing;
        long duplicated;
        long wrong;
        long unexpected;
        long malformed;
        long lateDeadLetters;
        long deadLetters;
        final List<String[]> sample = new ArrayList<>();

        /** Every click once, each with the right profile, and every dead letter once. */
        boolean exact() {
            return missing == 0
                    && duplicated == 0
                    && wrong == 0
                    && unexpected == 0
                    && deadLetters == malformed + lateDeadLetters;
        }

        @Override
        public String toString() {
            return String.format(
                    Locale.ROOT,
                    "clicks: %,d | records out: %,d | dead letters: %,d (expected %,d: %d malformed,"
                            + " %d late) | %s",
                    clicks,
                    recordsOut,
                    deadLetters,
                    malformed + lateDeadLetters,
                    malformed,
                    lateDeadLetters,
                    exact()
                            ? String.format(
                                    Locale.ROOT, "all %,d clicks enriched exactly once", clicks)
                            : String.format(
                                    Locale.ROOT,
                                    "%d missing, %d duplicated, %d wrong, %d unexpected",
                                    missing,
                                    duplicated,
                                    wrong,
                                    unexpected));
        }
    }
}
