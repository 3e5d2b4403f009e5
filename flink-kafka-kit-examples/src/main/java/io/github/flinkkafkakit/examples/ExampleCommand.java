package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.state.KafkaChangelog;

import org.apache.flink.api.common.JobExecutionResult;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * One example of the runnable jar: its command line (sharing {@link CommonOptions}) and the run
 * every example makes of its job — on the embedded broker with sample data, or on the cluster of
 * {@code --bootstrap-servers}. An example supplies its settings, its job, the lines it prints on a
 * cluster and its embedded run ({@link EmbeddedRun}).
 *
 * @param <S> the example's settings, resolved from the command line
 */
abstract class ExampleCommand<S extends ExampleCommand.Settings> implements Callable<Integer> {

    /** What the run needs of every example's settings. */
    interface Settings {
        /** Consumer group of the sources (progress is read from it). */
        String groupId();

        Guarantee guarantee();

        boolean bounded();
    }

    @Spec CommandSpec spec;

    @Mixin CommonOptions options;

    /** Where the example prints (picocli's standard output). */
    PrintWriter out;

    private final String defaultInput;
    private final String defaultOutput;
    private final String defaultGroup;
    private final String defaultDlq;
    private final OneSourceJob<S> job;

    /**
     * The job of an example with one source: builds it into the environment, returns the source.
     */
    interface OneSourceJob<S> {
        KafkaIn<?> build(StreamExecutionEnvironment env, KafkaConnection connection, S settings);
    }

    /** An example with one source, whose job {@code job} builds. */
    ExampleCommand(
            String defaultInput,
            String defaultOutput,
            String defaultGroup,
            String defaultDlq,
            OneSourceJob<S> job) {
        this.defaultInput = defaultInput;
        this.defaultOutput = defaultOutput;
        this.defaultGroup = defaultGroup;
        this.defaultDlq = defaultDlq;
        this.job = job;
    }

    /**
     * An example that builds its job itself ({@link #buildJob}).
     *
     * @param defaultInput the input topic without {@code --input-topic} (null: the example does not
     *     use that option)
     * @param defaultDlq how help describes the dead-letter topic without {@code --dlq-topic} (null:
     *     the example does not use that option)
     */
    ExampleCommand(
            String defaultInput, String defaultOutput, String defaultGroup, String defaultDlq) {
        this(defaultInput, defaultOutput, defaultGroup, defaultDlq, null);
    }

    String inputTopic() {
        return options.inputTopic(defaultInput);
    }

    String outputTopic() {
        return options.outputTopic(defaultOutput);
    }

    String groupId() {
        return options.groupId(defaultGroup);
    }

    /** {@code --bounded}; an embedded run always is. */
    boolean bounded() {
        return options.bounded || options.embedded();
    }

    /** {@code " (exactly-once, bounded, parallelism 2)"}: how the job runs, for a start line. */
    String mode(S settings) {
        return " ("
                + settings.guarantee()
                + (settings.bounded() ? ", bounded" : "")
                + ", parallelism "
                + options.parallelism
                + ")";
    }

    /** The settings of this run; a bad combination of options is a {@link #usageError}. */
    abstract S settings();

    /**
     * Builds the job into {@code env}. Returns its sources: the first reports progress, and a
     * bounded run commits the final offsets of all of them once the job finished.
     */
    List<? extends KafkaIn<?>> buildJob(
            StreamExecutionEnvironment env, KafkaConnection connection, S settings) {
        if (job == null) {
            throw new IllegalStateException(getClass().getSimpleName() + " must build its job");
        }
        return List.of(job.build(env, connection, settings));
    }

    /**
     * The Flink job name, and the lines a cluster run prints before the job starts (topics,
     * cluster, guarantee) and when it finished.
     */
    record Texts(String jobName, String startLine, String finishedLine) {}

    /** The {@link Texts} of a run with {@code settings} on {@code connection}. */
    abstract Texts texts(S settings, KafkaConnection connection);

    /**
     * The embedded run: {@code new EmbeddedX(this, settings).run()}. Only this method names the
     * embedded-broker classes, so the job jar (which has no embedded broker) never loads them.
     */
    abstract int runEmbedded(S settings) throws Exception;

    /** The defaults that {@code --help} shows for the shared options, by option name. */
    private Map<String, String> helpDefaults() {
        Map<String, String> defaults = new HashMap<>();
        defaults.put("--input-topic", defaultInput);
        defaults.put("--output-topic", defaultOutput);
        defaults.put("--group-id", defaultGroup);
        defaults.put("--dlq-topic", defaultDlq);
        defaults.values().removeIf(Objects::isNull);
        return defaults;
    }

    /** Shared options this example does not use: accepted as before, but left out of its help. */
    private Set<String> unusedOptions() {
        Set<String> unused = new HashSet<>();
        if (defaultInput == null) {
            unused.add("--input-topic");
        }
        if (defaultDlq == null) {
            unused.add("--dlq-topic");
        }
        return unused;
    }

    @Override
    public final Integer call() throws Exception {
        out = spec.commandLine().getOut();
        S settings = settings();
        options.validate(spec.commandLine());
        return options.embedded() ? runEmbedded(settings) : runOnCluster(settings);
    }

    private int runOnCluster(S settings) throws Exception {
        KafkaConnection connection = options.connection(options.bootstrapServers);
        Texts texts = texts(settings, connection);
        out.println(texts.startLine());
        out.flush();
        JobExecutionResult result =
                runJob(connection, settings, options.parallelism, null).result();
        if (JobEnvironment.detached(result)) {
            out.println(JobEnvironment.submittedMessage(spec.name(), result));
            return 0;
        }
        out.println(texts.finishedLine());
        return 0;
    }

    /** A finished (or, with {@code flink run -d}, submitted) job and how long it ran. */
    record JobRun(JobExecutionResult result, double seconds) {}

    /**
     * Builds and runs the job, reporting progress; a bounded run that finished commits its final
     * offsets (a detached one, submitted by {@code flink run -d}, commits nothing).
     *
     * @param announce printed once the job is built, just before it runs (null: nothing)
     */
    JobRun runJob(KafkaConnection connection, S settings, int parallelism, String announce)
            throws Exception {
        StreamExecutionEnvironment env = options.environment(parallelism, out);
        List<? extends KafkaIn<?>> inputs = buildJob(env, connection, settings);
        if (announce != null) {
            out.println(announce);
        }
        long start = System.nanoTime();
        JobExecutionResult result;
        try (Progress progress = Progress.of(out, connection, settings.groupId(), inputs.get(0))) {
            result = env.execute(texts(settings, connection).jobName());
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        if (!JobEnvironment.detached(result)) {
            for (KafkaIn<?> in : inputs) {
                in.commitStoppingOffsets();
            }
        }
        return new JobRun(result, seconds);
    }

    /** A usage error (exit code 2) of this example's command line. */
    /**
     * A usage error when {@code input} is one of {@code outputs}: the job would read back what it
     * writes.
     *
     * @param flags the output options, for the message (e.g. {@code "--output-topic"})
     * @param why appended to the message (may be empty)
     */
    void requireOutputsDifferFromInput(String input, String flags, String why, String... outputs) {
        for (String output : outputs) {
            if (input.equals(output)) {
                throw usageError(flags + " must differ from --input-topic ('" + input + "')" + why);
            }
        }
    }

    ParameterException usageError(String message) {
        return new ParameterException(spec.commandLine(), message);
    }

    /**
     * For an example that keeps its state in a {@link KafkaChangelog}: the changelog's own check of
     * {@code --guarantee}, before anything starts, so a guarantee it refuses is a usage error with
     * its message rather than a failed job.
     */
    void checkStateInKafka(Guarantee guarantee) {
        try {
            KafkaChangelog.builder().setDeliveryGuarantee(guarantee.delivery());
        } catch (IllegalArgumentException e) {
            // The state module decides; the command line names the fix in its own terms.
            throw usageError(
                    "--guarantee "
                            + guarantee
                            + ": this example keeps its state in Kafka, committed with each"
                            + " checkpoint: use --guarantee exactly-once (exact after restarts) or"
                            + " at-least-once");
        }
    }

    /**
     * Tailors the shared options' help to this example: its defaults appended to their
     * descriptions, the options it does not use hidden.
     */
    void tailorHelp(CommandSpec command) {
        Map<String, String> defaults = helpDefaults();
        Set<String> unused = unusedOptions();
        for (OptionSpec option : List.copyOf(command.options())) {
            String name = option.longestName();
            String shown = defaults.get(name);
            boolean notUsed = unused.contains(name);
            if (shown == null && !notUsed) {
                continue;
            }
            OptionSpec.Builder tailored = option.toBuilder();
            if (notUsed) {
                // Listed (every example accepts the common options), and said to be unused.
                tailored.description("Not used by " + command.name() + ".");
            } else if (shown != null) {
                String[] description = option.description().clone();
                int last = description.length - 1;
                description[last] =
                        description[last].replaceFirst("\\.$", "") + " (default: " + shown + ").";
                tailored.description(description);
            }
            command.remove(option);
            command.addOption(tailored.build());
        }
    }
}
