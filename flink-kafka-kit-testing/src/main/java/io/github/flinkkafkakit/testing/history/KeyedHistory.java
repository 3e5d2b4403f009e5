package io.github.flinkkafkakit.testing.history;

import org.apache.flink.annotation.PublicEvolving;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the whole committed output history of a keyed running aggregate, not only its last value
 * per key: under exactly-once, each key's outputs are running totals (or counts) of that key's
 * inputs taken at strictly increasing input positions — every output the effect of a prefix of the
 * inputs, each input's effect counted once, and the last one the total over all inputs. The last
 * value per key is exact under at-least-once too (a restart replays input and overwrites the
 * totals), so a test of last values cannot tell the two apart; this check can: a replayed or
 * duplicated output shows as a total that does not move forward.
 *
 * <pre>{@code
 * KeyedHistory<String> history = new KeyedHistory<>();
 * for (Deposit d : producedInOrder) history.input(d.account(), d.amount());
 * for (ConsumerRecord<String, String> r : CommittedOutput.read(bootstrap, outputTopic))
 *     history.output(r.key(), Long.parseLong(r.value()));      // read_committed, to the end
 * KeyedHistory.Verdict verdict = history.checkRunningTotals(false);
 * assertThat(verdict.isExact()).as(verdict.toString()).isTrue();
 * }</pre>
 *
 * <p>Inputs and outputs of a key must be given in their order (the order of the key's input
 * partition and output partition). Use {@link #checkRunningTotals(boolean)} with {@code everyInput
 * = true} when the job emits one output per input (then the history must be exactly the prefix
 * sums, one per input), {@code false} when it emits coalesced results (e.g. once per changed key
 * and checkpoint). Counts are totals of 1s: add each input with amount 1.
 *
 * @param <K> the key type
 */
@PublicEvolving
public final class KeyedHistory<K> {

    private final Map<K, List<Long>> inputs = new LinkedHashMap<>();
    private final Map<K, List<Long>> outputs = new LinkedHashMap<>();

    /** The next input of {@code key}, in input order. */
    public KeyedHistory<K> input(K key, long amount) {
        inputs.computeIfAbsent(key, k -> new ArrayList<>()).add(amount);
        return this;
    }

    /** The next committed output of {@code key}, in output order. */
    public KeyedHistory<K> output(K key, long total) {
        outputs.computeIfAbsent(key, k -> new ArrayList<>()).add(total);
        return this;
    }

    /**
     * Checks each key's outputs against the prefix sums of its inputs.
     *
     * @param everyInput whether the job emits one output per input (the history must then be
     *     exactly the prefix sums) or coalesced outputs (a strictly increasing selection of them,
     *     ending with the total)
     */
    public Verdict checkRunningTotals(boolean everyInput) {
        Verdict verdict = new Verdict();
        Set<K> keys = new LinkedHashSet<>(inputs.keySet());
        keys.addAll(outputs.keySet());
        for (K key : keys) {
            List<Long> in = inputs.getOrDefault(key, List.of());
            List<Long> out = outputs.getOrDefault(key, List.of());
            verdict.keys++;
            verdict.outputs += out.size();
            checkKey(key, in, out, everyInput, verdict);
        }
        return verdict;
    }

    private static <K> void checkKey(
            K key, List<Long> in, List<Long> out, boolean everyInput, Verdict verdict) {
        long[] prefix = new long[in.size() + 1];
        for (int i = 0; i < in.size(); i++) {
            prefix[i + 1] = Math.addExact(prefix[i], in.get(i));
        }
        int position = 0; // inputs covered by the outputs so far
        for (int j = 0; j < out.size(); j++) {
            long total = out.get(j);
            int next = -1;
            int limit = everyInput ? Math.min(position + 1, in.size()) : in.size();
            for (int i = position + 1; i <= limit; i++) {
                if (prefix[i] == total) {
                    next = i;
                    break;
                }
            }
            if (next >= 0) {
                position = next;
                continue;
            }
            boolean seenBefore = false;
            for (int i = 0; i <= position && !seenBefore; i++) {
                seenBefore = prefix[i] == total;
            }
            if (seenBefore) {
                verdict.duplicated++;
                verdict.example(
                        key
                                + ": output #"
                                + (j + 1)
                                + " = "
                                + total
                                + " repeats a total"
                                + " already emitted (input "
                                + position
                                + " of "
                                + in.size()
                                + ")");
            } else {
                verdict.wrong++;
                verdict.example(
                        key
                                + ": output #"
                                + (j + 1)
                                + " = "
                                + total
                                + " is not the total"
                                + " of any later prefix of its inputs (after input "
                                + position
                                + " of "
                                + in.size()
                                + ", whose total is "
                                + prefix[position]
                                + ")");
            }
        }
        if (in.isEmpty() && !out.isEmpty()) {
            verdict.unexpectedKeys++;
        }
        if (position < in.size()) {
            verdict.incomplete++;
            verdict.lost += in.size() - position;
            verdict.example(
                    key
                            + ": the outputs end at input "
                            + position
                            + " of "
                            + in.size()
                            + " (total "
                            + prefix[position]
                            + ", expected "
                            + prefix[in.size()]
                            + ")");
        } else if (everyInput && out.size() != in.size()) {
            verdict.example(key + ": " + out.size() + " outputs for " + in.size() + " inputs");
        }
    }

    /** What the check found. */
    public static final class Verdict {
        private static final int EXAMPLES = 10;

        private long keys;
        private long outputs;
        private long duplicated;
        private long wrong;
        private long incomplete;
        private long lost;
        private long unexpectedKeys;
        private final List<String> examples = new ArrayList<>();

        private void example(String text) {
            if (examples.size() < EXAMPLES) {
                examples.add(text);
            }
        }

        /** Whether every key's history is exact. */
        public boolean isExact() {
            return duplicated == 0 && wrong == 0 && incomplete == 0 && examples.isEmpty();
        }

        public long keys() {
            return keys;
        }

        public long outputs() {
            return outputs;
        }

        /** Outputs that repeat a total already emitted (a replay or a duplicate). */
        public long duplicated() {
            return duplicated;
        }

        /** Outputs that are not the total of any prefix of the key's inputs. */
        public long wrong() {
            return wrong;
        }

        /** Keys whose outputs end before the total over all their inputs (lost input). */
        public long incomplete() {
            return incomplete;
        }

        /**
         * Inputs whose effect is missing: per key, the inputs after the last one its outputs
         * reached (all of a key's inputs when it has no correct output).
         */
        public long lost() {
            return lost;
        }

        /** Keys with outputs but no input. */
        public long unexpectedKeys() {
            return unexpectedKeys;
        }

        /**
         * Outputs that repeat or over-count an effect: {@link #duplicated()} plus {@link #wrong()},
         * what a reliability row reports as duplicated.
         */
        public long duplicatedOrWrong() {
            return duplicated + wrong;
        }

        /** Up to 10 offending outputs, described. */
        public List<String> examples() {
            return Collections.unmodifiableList(examples);
        }

        @Override
        public String toString() {
            return String.format(
                    "%d keys, %d outputs: %d duplicated, %d wrong, %d keys incomplete (%d inputs"
                            + " lost), %d keys never input%s",
                    keys,
                    outputs,
                    duplicated,
                    wrong,
                    incomplete,
                    lost,
                    unexpectedKeys,
                    examples.isEmpty() ? "" : "; e.g. " + String.join("; ", examples));
        }
    }
}
