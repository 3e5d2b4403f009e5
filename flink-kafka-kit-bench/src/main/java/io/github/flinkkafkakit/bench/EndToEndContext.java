package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.testing.KafkaTestClient;

import org.apache.flink.configuration.CheckpointingOptions;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.PipelineOptions;
import org.apache.flink.configuration.RestartStrategyOptions;
import org.apache.flink.core.execution.CheckpointingMode;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * What every end-to-end scenario shares: the broker, topic naming (unique per run, so a real
 * cluster can be reused), and how Flink jobs are set up (the same for the kit and the baseline).
 */
final class EndToEndContext implements AutoCloseable {

    private final String bootstrapServers;
    private final int parallelism;
    private final int partitions;
    private final Duration checkpointInterval;
    private final String runId;
    private final KafkaTestClient kafka;

    /** This run's local files (Flink's checkpoints, scenarios' directories), deleted on close. */
    private final Path localFiles;

    private boolean objectReuse;
    private final AtomicInteger topics = new AtomicInteger();
    private final Set<String> scratch = new LinkedHashSet<>();
    private final Set<String> kept = new LinkedHashSet<>();

    /** The enrich input that goes with each input topic, written or registered so far. */
    private final Map<String, EnrichInput> enrichInputs = new HashMap<>();

    EndToEndContext(
            String bootstrapServers, int parallelism, int partitions, Duration checkpointInterval) {
        this.bootstrapServers = bootstrapServers;
        this.parallelism = parallelism;
        this.partitions = partitions;
        this.checkpointInterval = checkpointInterval;
        this.runId = Long.toString(System.currentTimeMillis(), 36);
        this.kafka = new KafkaTestClient(bootstrapServers, new Properties());
        try {
            this.localFiles = Files.createTempDirectory("fkk-e2e-");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    String bootstrapServers() {
        return bootstrapServers;
    }

    KafkaConnection connection() {
        return KafkaConnection.of(bootstrapServers);
    }

    int parallelism() {
        return parallelism;
    }

    /** Partitions of the input and output topics. */
    int partitions() {
        return partitions;
    }

    /** Flink's object reuse for every Flink scenario ({@code --object-reuse}; off by default). */
    void setObjectReuse(boolean objectReuse) {
        this.objectReuse = objectReuse;
    }

    Duration checkpointInterval() {
        return checkpointInterval;
    }

    /** A name no earlier run used: {@code e2e-<run>-<n>-<what>}. */
    String uniqueName(String what) {
        return "e2e-" + runId + "-" + topics.incrementAndGet() + "-" + what;
    }

    /** Creates a fresh topic with the input's partition count and returns its name. */
    String createTopic(String what) {
        return createTopic(what, partitions, Map.of());
    }

    String createTopic(String what, int topicPartitions, Map<String, String> configs) {
        String name = uniqueName(what);
        kafka.createTopic(name, topicPartitions, configs);
        scratch.add(name);
        return name;
    }

    /** Keeps {@code topic} when {@link #deleteScratchTopics()} runs (the inputs). */
    void keep(String topic) {
        scratch.remove(topic);
        kept.add(topic);
    }

    /** Deletes the topics created since the last call except kept ones, to free the disk. */
    void deleteScratchTopics() throws Exception {
        List<String> all = new ArrayList<>(scratch);
        for (String name : kafka.admin().listTopics().names().get()) {
            // Topics the jobs created themselves (changelogs, positions, dead letters).
            if (name.startsWith("e2e-" + runId + "-") && !kept.contains(name)) {
                all.add(name);
            }
        }
        scratch.clear();
        if (!all.isEmpty()) {
            kafka.admin().deleteTopics(new LinkedHashSet<>(all)).all().get();
        }
    }

    /**
     * The {@code enrich} input (clicks and profile versions) that goes with {@code input}: the same
     * number of clicks as {@code input} has records, of as many users as it has keys, from a seed
     * of those sizes. Written to two new kept topics on first use, unless a parent process wrote it
     * and {@link #registerEnrichInput registered} it here.
     */
    EnrichInput enrichInput(EndToEndInput input) {
        EnrichInput enrich = enrichInputs.get(input.topic);
        if (enrich == null) {
            long start = System.nanoTime();
            String clicks = createTopic("enrich-clicks");
            String profiles = createTopic("enrich-profiles");
            keep(clicks);
            keep(profiles);
            enrich =
                    EnrichInput.produce(
                            bootstrapServers,
                            clicks,
                            profiles,
                            input.records,
                            input.keys,
                            EnrichInput.seed(input.records, input.keys));
            System.out.printf(
                    Locale.ROOT,
                    "  enrich input '%s' + '%s': %,d clicks, %,d profile versions of %,d users"
                            + " written in %.1f s%n",
                    clicks,
                    profiles,
                    enrich.clicks(),
                    enrich.versions,
                    enrich.users,
                    (System.nanoTime() - start) / 1e9);
            enrichInputs.put(input.topic, enrich);
        }
        return enrich;
    }

    /** Registers the enrich input another process wrote for {@code input}. */
    void registerEnrichInput(EndToEndInput input, EnrichInput enrich) {
        enrichInputs.put(input.topic, enrich);
    }

    /**
     * A local Flink environment as a tuned production job would have it: no Kryo, no restarts (a
     * failure fails the scenario), checkpoints every {@link #checkpointInterval()}.
     */
    StreamExecutionEnvironment flink(CheckpointingMode mode) {
        Configuration conf = new Configuration();
        conf.set(PipelineOptions.GENERIC_TYPES, false);
        conf.set(RestartStrategyOptions.RESTART_STRATEGY, "none");
        // As in production: snapshots to files (the JobManager's memory holds at most 5 MB).
        conf.set(CheckpointingOptions.CHECKPOINT_STORAGE, "filesystem");
        conf.set(
                CheckpointingOptions.CHECKPOINTS_DIRECTORY,
                localFiles.resolve("checkpoints").toUri().toString());
        StreamExecutionEnvironment env = StreamExecutionEnvironment.createLocalEnvironment(conf);
        env.setParallelism(parallelism);
        env.enableCheckpointing(checkpointInterval.toMillis(), mode);
        if (objectReuse) {
            env.getConfig().enableObjectReuse();
        }
        return env;
    }

    /**
     * A new directory for a scenario's local files, deleted with the run's other files on close.
     */
    Path localDirectory(String prefix) throws IOException {
        return Files.createTempDirectory(localFiles, prefix);
    }

    /** Deletes every topic of this run, inputs included. */
    void deleteRunTopics() throws Exception {
        scratch.addAll(kept);
        kept.clear();
        deleteScratchTopics();
    }

    @Override
    public void close() {
        kafka.close();
        try (Stream<Path> files = Files.walk(localFiles)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // a temporary directory; nothing to do
        }
    }
}
