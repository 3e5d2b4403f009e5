package io.github.flinkkafkakit.examples;

import org.junit.jupiter.api.Test;

/**
 * {@link BrokerRestartITCase} with the runnable jar users start ({@code java -jar
 * target/flink-kafka-kit-examples.jar count ...}); runs after {@code package} (verify phase).
 */
class BrokerRestartJarTest extends BrokerRestartScenario {

    @Test
    void runnableJarCountFinishesWithExactCountsAfterTheBrokerIsKilledAndRestarted()
            throws Exception {
        run(KillPoint.TASKS_RUNNING, Launcher.RUNNABLE_JAR);
    }
}
