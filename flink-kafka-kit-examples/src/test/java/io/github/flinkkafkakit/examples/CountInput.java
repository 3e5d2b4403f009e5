package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.history.KeyedHistory;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Input of the count fault tests: {@code records} keys drawn Zipf-like from {@code keys} distinct
 * keys (fixed seed {@value #SEED}), produced to a topic; the check of the job's whole committed
 * output history against it ({@link #history}) and the comparison of its last count per key.
 */
final class CountInput {

    /** Records of the fault tests: {@code fkk.reliability.records} (default 1,000,000). */
    static long records() {
        return Long.getLong("fkk.reliability.records", 1_000_000L);
    }

    /** Injected failures per run: {@code fkk.reliability.failures} (default 5). */
    static int failures() {
        return Integer.getInteger("fkk.reliability.failures", 5);
    }

    /** The seed of the input's keys. */
    static final long SEED = 11;

    final long records;
    final Map<String, Long> expected = new HashMap<>();

    private CountInput(long records) {
        this.records = records;
    }

    /** Produces the input and remembers how often each key occurs. */
    static CountInput produce(KafkaTestClient kafka, String topic, long records, int keys) {
        CountInput input = new CountInput(records);
        SampleData data = new SampleData(keys, 0.8, SEED);
        try (KafkaTestClient.Batch batch = kafka.batch(topic)) {
            for (long i = 0; i < records; i++) {
                String key = "key-" + data.nextRank();
                batch.send(key, "");
                input.expected.merge(key, 1L, Long::sum);
            }
        }
        return input;
    }

    /**
     * The committed output (every record, in partition order) as a history of running counts
     * against this input: each key's counts must be prefix counts at strictly increasing positions
     * ending at its number of records.
     */
    KeyedHistory<String> history(List<ConsumerRecord<String, String>> output) {
        KeyedHistory<String> history = new KeyedHistory<>();
        expected.forEach(
                (key, n) -> {
                    for (long i = 0; i < n; i++) {
                        history.input(key, 1);
                    }
                });
        for (ConsumerRecord<String, String> r : output) {
            history.output(r.key(), Long.parseLong(r.value()));
        }
        return history;
    }

    /** The last value per key of {@code output}. */
    static Map<String, String> lastValues(List<ConsumerRecord<String, String>> output) {
        Map<String, String> last = new LinkedHashMap<>();
        output.forEach(r -> last.put(r.key(), r.value()));
        return last;
    }

    /** The comparison of the output's last count per key with the input. */
    Outcome compare(Map<String, String> lastCountPerKey) {
        long lost = 0;
        long duplicated = 0;
        for (Map.Entry<String, Long> e : expected.entrySet()) {
            String got = lastCountPerKey.get(e.getKey());
            long count = got == null ? 0 : Long.parseLong(got);
            lost += Math.max(0, e.getValue() - count);
            duplicated += Math.max(0, count - e.getValue());
        }
        long unexpectedKeys =
                lastCountPerKey.keySet().stream().filter(k -> !expected.containsKey(k)).count();
        return new Outcome(lost, duplicated, unexpectedKeys);
    }

    /**
     * @param lost input records missing from the last counts
     * @param duplicated excess of the last counts over the input
     * @param unexpectedKeys output keys that were never input
     */
    record Outcome(long lost, long duplicated, long unexpectedKeys) {}
}
