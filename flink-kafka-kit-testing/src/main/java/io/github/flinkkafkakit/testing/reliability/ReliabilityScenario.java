package io.github.flinkkafkakit.testing.reliability;

import org.apache.flink.annotation.Internal;

import java.util.Locale;
import java.util.Optional;

/**
 * Every scenario the reliability suite is expected to report, in one place: {@link
 * ReliabilityReport} fails when one of them has no row from the run it reports on. Each says in one
 * sentence what it proves and what it does not.
 */
@Internal
public enum ReliabilityScenario {
    POISON_PILLS(
            "flink-kafka-kit-core",
            null,
            "every good record is written exactly once and every undecodable input and the"
                    + " oversized output record are dead-lettered exactly once, without a restart.",
            "anything about crashes: no task, process or broker fails in this run."),
    COUNT_FAULTS_EXACTLY_ONCE(
            "flink-kafka-kit-examples",
            null,
            "after task failures injected in a map before the count, the whole read_committed"
                    + " history of every key is a strictly increasing run of prefix counts ending"
                    + " at its input count: nothing replayed, lost or counted twice.",
            "failures during a snapshot, between pre-commit and commit, in the sink or of a"
                    + " whole process; those are other scenarios (or not covered yet)."),
    COUNT_FAULTS_AT_LEAST_ONCE(
            "flink-kafka-kit-examples",
            null,
            "under at-least-once the same failures lose nothing; the replayed outputs are counted"
                    + " from the history and reported as duplicates.",
            "any bound on the number of duplicates; they depend on where the failures land."),
    COUNT_KILL_RESTORE(
            "flink-kafka-kit-examples",
            null,
            "a job JVM killed with SIGKILL after a committed checkpoint resumes from the retained"
                    + " checkpoint, processes only the records after it, and the whole committed"
                    + " history stays exact.",
            "a kill at other commit points (during a snapshot, between pre-commit and commit), or"
                    + " a restart without the checkpoint."),
    STATEFUL_TOTAL_KILLS(
            "flink-kafka-kit-examples",
            null,
            "stateful-total killed with SIGKILL three times, each after that round committed"
                    + " totals of its own input, then finished from Kafka alone (no Flink"
                    + " checkpoint): every committed total is a prefix sum at a strictly increasing"
                    + " position, the last one exact, each invalid input dead-lettered once.",
            "kills timed by hooks inside a commit (the kill points are a committed round plus a"
                    + " sleep; stateful-total-commit-point-kills has those), or the RocksDB state"
                    + " backend."),
    CHANGELOG_COMMIT_POINT_FAULTS(
            "flink-kafka-kit-state",
            null,
            "a running total on Kafka state failed once (an exception from the fault hook) in the"
                    + " operator's snapshot, while the writer writes its transaction, after the"
                    + " pre-commit, between a completed checkpoint and its commit, and right after"
                    + " the commit; recovered by Flink from its checkpoint and, in separate runs,"
                    + " by a new job from Kafka alone: every key's committed totals are prefix sums"
                    + " at strictly increasing positions, the last one exact.",
            "a process kill (the kill scenarios), a broker failure during the commit, or the"
                    + " count path, whose commit is the Flink Kafka connector's."),
    STATEFUL_TOTAL_COMMIT_POINT_KILLS(
            "flink-kafka-kit-examples",
            null,
            "stateful-total's JVM halted (exit 137, like SIGKILL) by the fault hook once after its"
                    + " first commit, in separate runs after a pre-commit, before a commit, after a"
                    + " commit and while writing a transaction, then finished from Kafka alone (no"
                    + " Flink checkpoint, another parallelism): every committed total is a prefix"
                    + " sum at a strictly increasing position, the last one exact, each invalid"
                    + " input dead-lettered once.",
            "a kill during the operator's snapshot, two kills in a row at the same point, or a"
                    + " kill of the broker instead of the job."),
    ENRICH_COMMIT_POINT_KILLS(
            "flink-kafka-kit-examples",
            null,
            "enrich's JVM (two sources, event-time timers, state in Kafka) halted (exit 137) by"
                    + " the fault hook once after its first commit, in separate runs after a"
                    + " pre-commit and before a commit, then finished from Kafka alone at another"
                    + " parallelism: every click committed exactly once with the profile version"
                    + " in effect at its time, each malformed or late record dead-lettered once.",
            "kills after a commit, while writing a transaction or during a snapshot of enrich"
                    + " (stateful-total-commit-point-kills covers the first two for a simpler"
                    + " job)."),
    BROKER_RESTART_TASKS_RUNNING(
            "flink-kafka-kit-examples",
            null,
            "the broker SIGKILLed while every task runs and restarted 5 s later: the job finishes"
                    + " by itself and the committed history of every key is exact.",
            "a broker that stays down longer than the transaction or request timeouts, or a"
                    + " multi-broker cluster losing a leader."),
    BROKER_RESTART_FIRST_COMMIT(
            "flink-kafka-kit-examples",
            null,
            "the broker SIGKILLed just after the first checkpoint committed offsets and output:"
                    + " the job finishes by itself and the committed history of every key is"
                    + " exact.",
            "a broker kill in the middle of a commit (between the checkpoint and the commit"
                    + " markers) as a deliberate point; it may or may not land there."),
    BROKER_RESTART_JAR(
            "flink-kafka-kit-examples",
            null,
            "the same broker restart with the runnable jar users start (java -jar): the packaged"
                    + " job recovers and its committed history is exact.",
            "more than the classpath run does; it checks the packaging, not another fault."),
    CLUSTER_TASK_MANAGER_KILL(
            "flink-kafka-kit-examples",
            "TaskManager SIGKILL + replacement during exactly-once count on a session cluster",
            "on a standalone session cluster, a TaskManager SIGKILLed mid-stream and replaced:"
                    + " the job restarts and every key's committed counts are exactly 1..n.",
            "a JobManager failure, or high availability."),
    ENRICH_CLUSTER_REDEPLOY(
            "flink-kafka-kit-examples",
            null,
            "enrich's job jar, submitted to a standalone session cluster as a bounded run at"
                    + " parallelism 1, then after more input at parallelism 2 (every TaskManager"
                    + " SIGKILLed once it has committed clicks waiting for the watermark, the job"
                    + " cancelled so its checkpoints are of no use), then once more at parallelism 3"
                    + " on fresh TaskManagers, restoring from Kafka alone: every click committed"
                    + " exactly once with the profile version in effect at its time, each malformed"
                    + " or late record dead-lettered once.",
            "a kill at a chosen commit point (enrich-commit-point-kills does that in one JVM), a"
                    + " JobManager failure, or a restart from the cancelled job's own checkpoint."),
    STATEFUL_TOTAL_CLUSTER_REDEPLOY(
            "flink-kafka-kit-examples",
            null,
            "stateful-total's job jar (String-keyed ValueState in the kit's tables, restored on"
                    + " its fetch threads), submitted to a standalone session cluster as a bounded"
                    + " run at parallelism 1, then after more input at parallelism 2 (every"
                    + " TaskManager SIGKILLed once it has committed totals of that input and more"
                    + " arrives, the job cancelled so its checkpoints are of no use), then once more"
                    + " at parallelism 3 on fresh TaskManagers, restoring from Kafka alone: every"
                    + " committed total is a prefix sum at a strictly increasing position, the last"
                    + " one exact, each invalid deposit dead-lettered once.",
            "a kill at a chosen commit point (stateful-total-commit-point-kills does that in one"
                    + " JVM), a JobManager failure, or the RocksDB state backend.");

    private final String module;
    private final String legacyScenarioPrefix;
    private final String proves;
    private final String doesNotProve;

    ReliabilityScenario(
            String module, String legacyScenarioPrefix, String proves, String doesNotProve) {
        this.module = module;
        this.legacyScenarioPrefix = legacyScenarioPrefix;
        this.proves = proves;
        this.doesNotProve = doesNotProve;
    }

    /** The stable id written to each row, e.g. {@code count-faults-exactly-once}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The Maven module whose {@code target/reliability} holds its rows. */
    public String module() {
        return module;
    }

    /** What a passing row proves, one sentence. */
    public String proves() {
        return proves;
    }

    /** What a passing row does not prove, one sentence. */
    public String doesNotProve() {
        return doesNotProve;
    }

    /**
     * The scenario a row belongs to: by its id, else (rows written without an id) by the start of
     * its scenario text.
     */
    static Optional<ReliabilityScenario> of(String module, ReliabilityResult row) {
        for (ReliabilityScenario s : values()) {
            if (!s.module.equals(module)) {
                continue;
            }
            if (s.id().equals(row.id())
                    || (s.legacyScenarioPrefix != null
                            && row.scenario().startsWith(s.legacyScenarioPrefix))) {
                return Optional.of(s);
            }
        }
        return Optional.empty();
    }
}
