package io.github.flinkkafkakit.bench;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.TreeMap;

/**
 * The input of the {@code enrich} pair, generated once per run from a seed: clicks ({@code records}
 * of them) and profile versions (a tenth as many) of {@code keys} users, in two topics, each record
 * keyed by the user's 10-digit id with the value {@code <ts>,<n>} (ASCII): its event time in epoch
 * milliseconds (also the Kafka record timestamp) and the click's id or the version's number. Events
 * follow each other 1 ms apart, each up to {@link #JITTER_MILLIS} late, so with watermarks trailing
 * by {@link #MAX_OUT_OF_ORDERNESS_MILLIS} no record is ever late and the result is fully
 * determined: each click joined with the version of its user with the greatest time at or before
 * the click's ({@code -1}: none) — computed here, from the data.
 */
final class EnrichInput {

    /** How far behind its partition's latest event time a record may come (watermark delay). */
    static final long MAX_OUT_OF_ORDERNESS_MILLIS = 1_000;

    /** How much later than its place in the sequence an event's time may be. */
    static final int JITTER_MILLIS = 500;

    final String clicksTopic;
    final String profilesTopic;
    final int users;

    /** Per click id: the user, the expected version (-1: none). */
    final int[] clickUser;

    final int[] expectedVersion;

    /** Profile versions generated. */
    final int versions;

    private EnrichInput(
            String clicksTopic,
            String profilesTopic,
            int users,
            int[] clickUser,
            int[] expectedVersion,
            int versions) {
        this.clicksTopic = clicksTopic;
        this.profilesTopic = profilesTopic;
        this.users = users;
        this.clickUser = clickUser;
        this.expectedVersion = expectedVersion;
        this.versions = versions;
    }

    int clicks() {
        return clickUser.length;
    }

    /** Input records of both topics: what the scenarios' rates count. */
    long records() {
        return (long) clickUser.length + versions;
    }

    /** The seed of the enrich input that goes with an input of this size. */
    static long seed(int records, int keys) {
        return 0x5EEDL * 1_000_003L + records * 31L + keys;
    }

    /** What {@link #produce} writes with these arguments, without writing it. */
    static EnrichInput expected(
            String clicksTopic, String profilesTopic, int records, int keys, long seed) {
        return generate(clicksTopic, profilesTopic, records, keys, seed, (t, k, v) -> {});
    }

    /** Where generated records go: topic, key, value, in the order they are written. */
    @FunctionalInterface
    interface Sink {
        void write(String topic, byte[] key, byte[] value);
    }

    /** Writes the input to the two topics (already created) and returns what was written. */
    static EnrichInput produce(
            String bootstrapServers,
            String clicksTopic,
            String profilesTopic,
            int records,
            int keys,
            long seed) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ProducerConfig.LINGER_MS_CONFIG, "5");
        props.put(ProducerConfig.BATCH_SIZE_CONFIG, "262144");
        props.put(ProducerConfig.BUFFER_MEMORY_CONFIG, Long.toString(128L << 20));
        try (KafkaProducer<byte[], byte[]> producer =
                new KafkaProducer<>(props, new ByteArraySerializer(), new ByteArraySerializer())) {
            // Kafka's record timestamp stays the send time: event times months old would fall to
            // the topic's time retention
            EnrichInput input =
                    generate(
                            clicksTopic,
                            profilesTopic,
                            records,
                            keys,
                            seed,
                            (topic, key, value) ->
                                    producer.send(new ProducerRecord<>(topic, key, value)));
            producer.flush();
            return input;
        }
    }

    /** Generates the input into {@code sink} and returns what was generated. */
    static EnrichInput generate(
            String clicksTopic, String profilesTopic, int records, int keys, long seed, Sink sink) {
        Random random = new Random(seed);
        int clickCount = records;
        int versionCount = Math.max(1, records / 10);
        // Event times end an hour before now: recent, as the sinks give the enriched clicks their
        // click's time as record timestamp and the broker deletes records older than its
        // retention (7 days) — and not ahead of the clock, which the broker would refuse. Only
        // times relative to each other decide the join, so another process that regenerates the
        // input at another time expects the same result.
        long start = System.currentTimeMillis() - 3_600_000L - clickCount - versionCount;
        byte[][] userKeys = new byte[keys][];
        for (int u = 0; u < keys; u++) {
            userKeys[u] = Keys.key(u);
        }
        int[] clickUser = new int[clickCount];
        long[] clickTime = new long[clickCount];
        Map<Integer, TreeMap<Long, Integer>> versionsByUser = new HashMap<>();
        int clicksLeft = clickCount;
        int versionsLeft = versionCount;
        int click = 0;
        int version = 0;
        for (long i = 0; clicksLeft + versionsLeft > 0; i++) {
            long ts = start + i + random.nextInt(JITTER_MILLIS);
            int user = random.nextInt(keys);
            boolean isClick = random.nextInt(clicksLeft + versionsLeft) < clicksLeft;
            String topic;
            int n;
            if (isClick) {
                clicksLeft--;
                n = click++;
                clickUser[n] = user;
                clickTime[n] = ts;
                topic = clicksTopic;
            } else {
                versionsLeft--;
                n = version++;
                TreeMap<Long, Integer> versions =
                        versionsByUser.computeIfAbsent(user, u -> new TreeMap<>());
                while (versions.containsKey(ts)) {
                    ts++; // one version per user and time: the join is then unambiguous
                }
                versions.put(ts, n);
                topic = profilesTopic;
            }
            sink.write(topic, userKeys[user], (ts + "," + n).getBytes(StandardCharsets.US_ASCII));
        }
        int[] expected = new int[clickCount];
        for (int c = 0; c < clickCount; c++) {
            TreeMap<Long, Integer> versions = versionsByUser.get(clickUser[c]);
            Map.Entry<Long, Integer> in =
                    versions == null ? null : versions.floorEntry(clickTime[c]);
            expected[c] = in == null ? -1 : in.getValue();
        }
        return new EnrichInput(clicksTopic, profilesTopic, keys, clickUser, expected, versionCount);
    }

    /** Clicks whose user had a profile version by the click's time. */
    int clicksWithProfile() {
        int n = 0;
        for (int v : expectedVersion) {
            n += v >= 0 ? 1 : 0;
        }
        return n;
    }

    /**
     * Reads {@code topic} back (committed records only) and checks that every click appears exactly
     * once, keyed by its user, with the expected version, and nothing else.
     *
     * @return what was checked, for the report
     * @throws IllegalStateException when the output is wrong
     */
    String verify(String bootstrapServers, String topic) throws InterruptedException {
        int clicks = clicks();
        byte[] seen = new byte[clicks];
        long[] wrong = new long[4]; // wrong user, wrong version, duplicates, not a click
        String[] first = new String[1];
        long records =
                EndToEndOutput.readCommitted(
                        bootstrapServers,
                        topic,
                        (key, value) -> {
                            String v = new String(value, StandardCharsets.US_ASCII);
                            int comma = v.indexOf(',');
                            long id = comma < 0 ? -1 : Long.parseLong(v.substring(0, comma));
                            if (id < 0 || id >= clicks) {
                                wrong[3]++;
                                first[0] = first[0] != null ? first[0] : "not a click: " + v;
                                return;
                            }
                            int c = (int) id;
                            long got = Long.parseLong(v.substring(comma + 1));
                            if (seen[c] > 0) {
                                wrong[2]++;
                                first[0] = first[0] != null ? first[0] : "click " + c + " twice";
                            }
                            seen[c] = 1;
                            if (key == null
                                    || !new String(key, StandardCharsets.US_ASCII)
                                            .equals(String.format("%010d", clickUser[c]))) {
                                wrong[0]++;
                                first[0] =
                                        first[0] != null
                                                ? first[0]
                                                : "click " + c + " under another user";
                            }
                            if (got != expectedVersion[c]) {
                                wrong[1]++;
                                first[0] =
                                        first[0] != null
                                                ? first[0]
                                                : String.format(
                                                        "click %d joined with version %d, expected"
                                                                + " %d",
                                                        c, got, expectedVersion[c]);
                            }
                        });
        long missing = 0;
        for (int c = 0; c < clicks; c++) {
            if (seen[c] == 0) {
                missing++;
                first[0] = first[0] != null ? first[0] : "click " + c + " missing";
            }
        }
        if (missing + wrong[0] + wrong[1] + wrong[2] + wrong[3] > 0) {
            throw new IllegalStateException(
                    String.format(
                            Locale.ROOT,
                            "%d missing, %d duplicated, %d with a wrong version, %d under a wrong"
                                    + " user, %d not clicks (%,d output records); first: %s",
                            missing,
                            wrong[2],
                            wrong[1],
                            wrong[0],
                            wrong[3],
                            records,
                            first[0]));
        }
        return String.format(
                Locale.ROOT,
                "all %,d clicks enriched exactly once (%,d with a profile version, %,d versions)",
                clicks,
                clicksWithProfile(),
                versions);
    }
}
