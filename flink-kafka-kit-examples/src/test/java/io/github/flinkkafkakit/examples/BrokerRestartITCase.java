package io.github.flinkkafkakit.examples;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Issue #9 from outside: {@code count} (exactly-once, parallelism 2, bounded) in its own JVM, the
 * broker process SIGKILLed mid-run and restarted on the same port with the same data: the job exits
 * 0 by itself and the last committed count of every key is exact. See {@link
 * BrokerRestartScenario}.
 */
class BrokerRestartITCase extends BrokerRestartScenario {

    @ParameterizedTest
    @EnumSource(KillPoint.class)
    void countFinishesWithExactCountsAfterTheBrokerIsKilledAndRestarted(KillPoint killPoint)
            throws Exception {
        run(killPoint, Launcher.CLASSPATH);
    }
}
