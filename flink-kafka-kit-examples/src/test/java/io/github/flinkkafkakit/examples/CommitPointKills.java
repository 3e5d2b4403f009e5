package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.state.internal.FaultPoints;
import io.github.flinkkafkakit.state.internal.FaultPoints.Point;
import io.github.flinkkafkakit.testing.reliability.ReliabilityCases;
import io.github.flinkkafkakit.testing.reliability.ReliabilityResult;
import io.github.flinkkafkakit.testing.reliability.ReliabilityScenario;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Process kills at the commit points of the exactly-once path, made by the job itself: an example
 * runs in a child JVM with {@code -Dfkk.fault=POINT:nth:HALT} ({@link FaultPoints}), so it kills
 * itself ({@code Runtime.halt(137)}, like SIGKILL: no finally, no shutdown hook) the nth time it
 * reaches that point. Also collects each point's figures for one reliability row per test class,
 * written in {@code @AfterAll}: {@code PASS} only when every point ran and all its assertions
 * passed.
 */
final class CommitPointKills {

    /** How long a child JVM may take to reach its armed point and die. */
    static final long HALT_TIMEOUT_SECONDS = 60;

    /** Adds input while the job runs. */
    @FunctionalInterface
    interface Feed {
        void more() throws Exception;
    }

    private final ReliabilityCases cases;

    CommitPointKills(ReliabilityScenario scenario, Point... points) {
        this.cases =
                new ReliabilityCases(scenario, Arrays.stream(points).map(Point::name).toList());
    }

    /**
     * Starts the examples CLI with {@code args} in a child JVM armed to halt the {@code nth} time
     * it reaches {@code point}, calls {@code feed} every 200 ms while it lives, and returns once it
     * has killed itself there: exit code 137 and the hook's last words in its log. Fails naming the
     * point when it is still alive after {@value #HALT_TIMEOUT_SECONDS} s (it is then killed) or
     * died another way.
     */
    static void runUntilHalted(Point point, int nth, File log, Feed feed, String... args)
            throws Exception {
        String fault = point + ":" + nth + ":HALT";
        Process job =
                ExampleRun.startProcess(
                        log, List.of("-D" + FaultPoints.PROPERTY + "=" + fault), args);
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(HALT_TIMEOUT_SECONDS);
        try {
            while (!job.waitFor(200, TimeUnit.MILLISECONDS)) {
                if (System.nanoTime() > deadline) {
                    throw new AssertionError(
                            "the job armed with "
                                    + FaultPoints.PROPERTY
                                    + "="
                                    + fault
                                    + " did not die at "
                                    + point
                                    + " within "
                                    + HALT_TIMEOUT_SECONDS
                                    + " s (killed now); see "
                                    + log);
                }
                feed.more();
            }
        } finally {
            if (job.isAlive()) {
                job.destroyForcibly();
                job.waitFor(30, TimeUnit.SECONDS);
            }
        }
        String output = Files.readString(log.toPath(), StandardCharsets.UTF_8);
        assertThat(job.exitValue())
                .as("exit code of the job armed with %s; its log:%n%s", fault, output)
                .isEqualTo(137);
        assertThat(output)
                .as("the job's log (armed with %s)", fault)
                .contains("FaultPoints: halting the JVM at " + point + " (reached " + nth + ")");
    }

    /**
     * Runs {@code assertions} of {@code point}'s case (one kill) and keeps its figures with their
     * result for the class's row; rethrows a failure.
     */
    void check(
            Point point,
            long recordsIn,
            long lost,
            long duplicated,
            long deadLetters,
            String detail,
            ReliabilityResult.Assertions assertions)
            throws Exception {
        cases.check(point.name(), recordsIn, lost, duplicated, 1, deadLetters, detail, assertions);
    }

    /**
     * Writes the class's row: the figures summed over the points, {@code PASS} only when every
     * point has an outcome (a case that failed before its check has none) and none failed.
     */
    void report(String description, Object seed) throws Exception {
        cases.report(description, seed);
    }
}
