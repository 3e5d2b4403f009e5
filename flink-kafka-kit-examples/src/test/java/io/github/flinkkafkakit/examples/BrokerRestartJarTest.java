package io.github.flinkkafkakit.examples;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * {@link BrokerRestartITCase} with the runnable jar users start ({@code java -jar
 * target/flink-kafka-kit-examples.jar count ...}); runs after {@code package} (verify phase).
 */
class BrokerRestartJarTest extends BrokerRestartScenario {

    @Test
    void runnableJarCountFinishesWithExactCountsAfterTheBrokerIsKilledAndRestarted()
            throws Exception {
        // With -Dtest=... surefire's test phase runs jar tests too, before the jar exists.
        assumeTrue(
                Boolean.getBoolean("fkk.packagedJars"),
                "runs in the verify phase, after `package` has built the runnable jar");
        run(KillPoint.TASKS_RUNNING, Launcher.RUNNABLE_JAR);
    }
}
