package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.runtime.state.KeyGroupRange;
import org.apache.flink.runtime.state.KeyGroupRangeAssignment;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The restore's reader against a real broker: a subtask's key groups of a changelog spread over
 * several partitions, records a decoder applies itself next to records it hands to the restoring
 * thread (as table states and Flink's heap states do in one operator).
 */
class ChangelogRestorerITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final int MAX_PARALLELISM = 128;
    private static final int PARTITIONS = 4;
    private static final int KEYS = 200;
    private static final int UPDATES = 25;
    private static final byte[] STATE = ChangelogKeys.prefix("s");

    @Test
    void handsOverEachOwnedRecordOnceInOffsetOrderPerKey() throws Exception {
        String topic = KafkaTestClient.uniqueTopicName("restorer");
        KAFKA.client().createTopic(topic, PARTITIONS, Map.of("cleanup.policy", "compact"));
        // subtask 0 of 2 owns key groups 0..63: partitions 0 and 1, read by two fetch threads
        KeyGroupRange range =
                KeyGroupRangeAssignment.computeKeyGroupRangeForOperatorIndex(MAX_PARALLELISM, 2, 0);

        // Updates 0..UPDATES-1 of every key, interleaved across keys and key groups.
        Map<String, List<Long>> expectedSelf = new HashMap<>();
        Map<String, List<Long>> expectedHanded = new HashMap<>();
        Properties props = KAFKA.clientProperties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KAFKA.bootstrapServers());
        try (TransactionalProducer producer =
                TransactionalProducer.create(props, "restorer-test-" + topic)) {
            producer.fence();
            producer.begin();
            for (int u = 0; u < UPDATES; u++) {
                for (int k = 0; k < KEYS; k++) {
                    String key = "k" + k;
                    int keyGroup = keyGroup(key);
                    long value = (long) u * KEYS + k;
                    producer.send(
                            new ProducerRecord<>(
                                    topic,
                                    ChangelogKeys.partitionOf(
                                            keyGroup, MAX_PARALLELISM, PARTITIONS),
                                    ChangelogKeys.recordKey(keyGroup, STATE, utf8(key), null),
                                    ByteBuffer.allocate(Long.BYTES).putLong(value).array()),
                            null);
                    if (range.contains(keyGroup)) {
                        (k % 2 == 0 ? expectedSelf : expectedHanded)
                                .computeIfAbsent(key, x -> new ArrayList<>())
                                .add(value);
                    }
                }
            }
            producer.commit();
        }

        // Even keys are "applied" by the decoder itself (as a table state is, on the fetch
        // thread), odd ones handed to the restoring thread.
        Map<String, List<Long>> self = new ConcurrentHashMap<>();
        Map<String, List<Long>> handed = new HashMap<>();
        ChangelogRestorer restorer =
                new ChangelogRestorer(
                        KafkaConnection.of(KAFKA.bootstrapServers()),
                        topic,
                        PARTITIONS,
                        MAX_PARALLELISM,
                        range);
        long read =
                restorer.<Object[]>restore(
                        () ->
                                (recordKey, value) -> {
                                    int start = ChangelogKeys.userKeyStart(recordKey);
                                    String key =
                                            new String(
                                                    recordKey,
                                                    start,
                                                    ChangelogKeys.userKeyEnd(recordKey) - start,
                                                    StandardCharsets.UTF_8);
                                    long v = ByteBuffer.wrap(value).getLong();
                                    if (Integer.parseInt(key.substring(1)) % 2 == 0) {
                                        self.computeIfAbsent(key, x -> new ArrayList<>()).add(v);
                                        return null;
                                    }
                                    return new Object[] {ChangelogKeys.keyGroup(recordKey), key, v};
                                },
                        decoded -> (int) decoded[0],
                        decoded ->
                                handed.computeIfAbsent((String) decoded[1], x -> new ArrayList<>())
                                        .add((Long) decoded[2]),
                        count -> {});

        assertThat(self).isEqualTo(expectedSelf);
        assertThat(handed).isEqualTo(expectedHanded);
        assertThat(read).isEqualTo(countValues(expectedSelf) + countValues(expectedHanded));
        assertThat(expectedSelf).isNotEmpty();
        assertThat(expectedHanded).isNotEmpty();
    }

    @Test
    void groupsByKeyGroupKeepingTheOrderWithinEachGroup() {
        KeyGroupRange range = new KeyGroupRange(10, 13);
        List<int[]> decoded = new ArrayList<>(); // {key group, sequence}
        int[] groups = {12, 10, 13, 12, 11, 10, 13, 12};
        for (int i = 0; i < groups.length; i++) {
            decoded.add(new int[] {groups[i], i});
        }

        List<int[]> grouped = ChangelogRestorer.byKeyGroup(decoded, d -> d[0], range);

        assertThat(grouped)
                .extracting(d -> d[0] + ":" + d[1])
                .containsExactly("10:1", "10:5", "11:4", "12:0", "12:3", "12:7", "13:2", "13:6");
    }

    private static int keyGroup(String key) {
        return KeyGroupRangeAssignment.assignToKeyGroup(key, MAX_PARALLELISM);
    }

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static long countValues(Map<String, List<Long>> byKey) {
        return byKey.values().stream().mapToLong(List::size).sum();
    }
}
