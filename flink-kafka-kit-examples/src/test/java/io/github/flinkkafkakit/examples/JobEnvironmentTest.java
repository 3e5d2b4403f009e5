package io.github.flinkkafkakit.examples;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.api.common.JobID;
import org.apache.flink.core.execution.DetachedJobExecutionResult;

import org.junit.jupiter.api.Test;

import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** What the examples print after {@code env.execute}, attached or detached. */
class JobEnvironmentTest {

    @Test
    void aDetachedResultIsASubmissionNotAFinishedJob() {
        JobID id = new JobID();
        JobExecutionResult detached = new DetachedJobExecutionResult(id);
        assertThat(JobEnvironment.detached(detached)).isTrue();
        assertThat(JobEnvironment.submittedMessage("count", detached))
                .isEqualTo("count: submitted as job " + id);
    }

    @Test
    void anAttachedResultIsAFinishedJob() {
        assertThat(JobEnvironment.detached(new JobExecutionResult(new JobID(), 5, Map.of())))
                .isFalse();
    }
}
