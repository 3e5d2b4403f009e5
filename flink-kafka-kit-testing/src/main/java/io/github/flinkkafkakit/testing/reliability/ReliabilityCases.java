package io.github.flinkkafkakit.testing.reliability;

import org.apache.flink.annotation.Internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One reliability row for a parameterized scenario: each case runs its assertions through {@link
 * #check}, which keeps the case's figures and result; {@link #report} (from {@code @AfterAll})
 * writes one row with the figures summed over the cases, {@code PASS} only when every expected case
 * has an outcome and none failed. One row per scenario, because the report keeps a scenario's
 * newest row: a row per case would let a later PASS hide an earlier FAIL. A case that fails before
 * its check (or does not run, e.g. filtered out) has no outcome, so the row says FAIL naming it.
 */
@Internal
public final class ReliabilityCases {

    /** The figures of one case, and its first failed assertion (null when all passed). */
    public record Outcome(
            long recordsIn,
            long lost,
            long duplicated,
            long restarts,
            long deadLetters,
            String detail,
            String failure) {}

    private final ReliabilityScenario scenario;
    private final List<String> expected;
    private final Map<String, Outcome> outcomes = new LinkedHashMap<>();

    /**
     * @param expected the names of the cases that must all have passed for a {@code PASS} row
     */
    public ReliabilityCases(ReliabilityScenario scenario, List<String> expected) {
        this.scenario = scenario;
        this.expected = List.copyOf(expected);
    }

    /**
     * Runs {@code assertions} of case {@code name} and keeps its figures with their result for the
     * row; rethrows a failure.
     */
    public synchronized void check(
            String name,
            long recordsIn,
            long lost,
            long duplicated,
            long restarts,
            long deadLetters,
            String detail,
            ReliabilityResult.Assertions assertions)
            throws Exception {
        try {
            assertions.run();
        } catch (Exception | Error e) {
            String first = String.valueOf(e.getMessage()).strip().lines().findFirst().orElse("");
            outcomes.put(
                    name,
                    new Outcome(recordsIn, lost, duplicated, restarts, deadLetters, detail, first));
            throw e;
        }
        outcomes.put(
                name,
                new Outcome(recordsIn, lost, duplicated, restarts, deadLetters, detail, null));
    }

    /** Writes the scenario's row (see the class comment); throws when it is a FAIL row. */
    public synchronized void report(String description, Object seed) throws Exception {
        List<String> details = new ArrayList<>();
        long in = 0;
        long lost = 0;
        long duplicated = 0;
        long restarts = 0;
        long letters = -1;
        for (Map.Entry<String, Outcome> e : outcomes.entrySet()) {
            Outcome o = e.getValue();
            in += o.recordsIn();
            lost += o.lost();
            duplicated += o.duplicated();
            restarts += o.restarts();
            if (o.deadLetters() >= 0) {
                letters = Math.max(letters, 0) + o.deadLetters();
            }
            details.add(e.getKey() + ": " + o.detail());
        }
        ReliabilityResult.of(scenario, description)
                .recordsIn(in)
                .lost(lost)
                .duplicated(duplicated)
                .restarts(restarts)
                .deadLetters(letters)
                .seed(seed)
                .detail(String.join("; ", details))
                .verify(
                        () -> {
                            for (String name : expected) {
                                Outcome o = outcomes.get(name);
                                if (o == null) {
                                    throw new AssertionError(
                                            name
                                                    + ": no outcome (it failed before its checks,"
                                                    + " or did not run)");
                                }
                                if (o.failure() != null) {
                                    throw new AssertionError(name + " failed: " + o.failure());
                                }
                            }
                        });
    }
}
