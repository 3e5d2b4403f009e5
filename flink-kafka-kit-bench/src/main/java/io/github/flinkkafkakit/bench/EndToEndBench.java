package io.github.flinkkafkakit.bench;

import io.github.flinkkafkakit.testing.EmbeddedKafkaBroker;

import java.io.IOException;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * End-to-end throughput, input topic to output topic on a real broker, of the kit's jobs against
 * the baselines a team would otherwise use, all over the same input in one run.
 *
 * <pre>
 * java -cp flink-kafka-kit-bench/target/benchmarks.jar io.github.flinkkafkakit.bench.EndToEndBench \
 *     --records 5000000 --keys 100000 --out r.json [--bootstrap-servers H:P] [--skew uniform]
 * </pre>
 *
 * <p>Scenarios: {@code kafka-pipe}, {@code kit-count-alo}, {@code kit-count-eos}, {@code
 * flink-keyby-count-alo}, {@code kafka-streams-count-eos}, {@code kit-changelog-eos}, {@code
 * total-flink-state-eos} (the changelog job's state in Flink only, for the changelog's cost),
 * {@code kit-enrich-eos} (the {@code enrich} example's event-time join on Kafka state), {@code
 * enrich-flink-state-eos} (the same on Flink state only), {@code changelog-restore}. Each runs in a
 * JVM of its own (as JMH forks each benchmark: no scenario runs on code the JIT compiled for
 * another's types, or on a heap another filled; {@code --in-process} runs them all in this JVM,
 * e.g. for one profile), against this process's broker and input topics, once over a warm-up input
 * as large as the input (--warmup-records), then over the input; its rate counts from the first
 * record read to the end (output committed), start-up is reported apart. Each verifies its output
 * (exact counts, read back with {@code read_committed}); the run exits 1 if any is wrong. Writes
 * {@code FILE.json}, {@code FILE.md} (table and goals) and {@code FILE.png} (chart).
 */
public final class EndToEndBench {

    static final String USAGE =
            "Usage: EndToEndBench [--records N] [--keys K] [--out FILE.json]"
                    + " [--bootstrap-servers H:P] [--skew zipf|uniform] [--parallelism P]"
                    + " [--partitions P] [--checkpoint-interval-ms MS] [--warmup-records N]"
                    + " [--restore-keys N] [--pre-aggregation KEYS] [--object-reuse] [--in-process]"
                    + " [--scenarios a,b,...]";

    private static final long WARMUP_SEED = 7;
    private static final long INPUT_SEED = 42;

    private EndToEndBench() {}

    public static void main(String[] args) throws Exception {
        System.setProperty("java.awt.headless", "true");
        Options options;
        try {
            options = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("EndToEndBench: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        if (options == null) {
            System.out.println(USAGE);
            return;
        }
        if (options.child != null) {
            System.exit(runChild(options) ? 0 : 1);
            return;
        }
        boolean allVerified = run(options, System.out);
        System.exit(allVerified ? 0 : 1);
    }

    /** Runs the scenarios and writes the report; returns whether every scenario was verified. */
    static boolean run(Options options, PrintStream out) throws Exception {
        EmbeddedKafkaBroker broker =
                options.bootstrapServers == null ? EmbeddedKafkaBroker.start() : null;
        String bootstrap = broker != null ? broker.bootstrapServers() : options.bootstrapServers;
        List<EndToEndScenario> scenarios = selected(options);
        List<EndToEndReport.Row> rows = new ArrayList<>();
        try (EndToEndContext context =
                new EndToEndContext(
                        bootstrap,
                        options.parallelism,
                        options.partitions,
                        Duration.ofMillis(options.checkpointIntervalMs))) {
            context.setObjectReuse(options.objectReuse);
            out.printf(
                    Locale.ROOT,
                    "end-to-end: %,d records, %,d keys (%s), parallelism %d, %d partition(s),"
                            + " checkpoints every %d ms, broker %s%n",
                    options.records,
                    options.keys,
                    options.zipf ? "zipf" : "uniform",
                    options.parallelism,
                    options.partitions,
                    options.checkpointIntervalMs,
                    broker != null ? "embedded (" + bootstrap + ")" : bootstrap);
            EndToEndInput warmup =
                    input(context, "warmup-in", options.warmupRecords, options, WARMUP_SEED);
            EndToEndInput input = input(context, "in", options.records, options, INPUT_SEED);
            long warmupStart = System.nanoTime();
            BrokerWarmup.run(context, warmup);
            context.deleteScratchTopics();
            out.printf(
                    Locale.ROOT,
                    "broker warm-up: %,d records copied in transactions and read back (%.1f s)%n",
                    warmup.records,
                    (System.nanoTime() - warmupStart) / 1e9);
            int n = 0;
            for (EndToEndScenario scenario : scenarios) {
                n++;
                rows.add(
                        options.inProcess
                                ? runOne(context, scenario, warmup, input, n, scenarios.size(), out)
                                : runForked(
                                        options,
                                        context,
                                        bootstrap,
                                        scenario,
                                        warmup,
                                        input,
                                        n,
                                        scenarios.size(),
                                        out));
                context.deleteScratchTopics();
            }
            context.deleteRunTopics();
        } finally {
            if (broker != null) {
                broker.close();
            }
        }
        EndToEndReport report =
                new EndToEndReport(options.records, options.keys, options.describe(), rows);
        Path json = Path.of(options.out);
        report.write(json);
        out.println();
        out.print(report.markdown());
        out.println(
                "written: "
                        + json
                        + ", "
                        + EndToEndReport.sibling(json, ".md")
                        + ", "
                        + EndToEndReport.sibling(json, ".png"));
        return rows.stream().allMatch(r -> r.error() == null);
    }

    /**
     * Runs {@code scenario} in a new JVM (same class path and JVM options) against {@code
     * bootstrap} and the input topics this process wrote; its output lines appear here.
     */
    private static EndToEndReport.Row runForked(
            Options options,
            EndToEndContext context,
            String bootstrap,
            EndToEndScenario scenario,
            EndToEndInput warmup,
            EndToEndInput input,
            int n,
            int of,
            PrintStream out)
            throws IOException, InterruptedException {
        Path result = Files.createTempFile("fkk-e2e-" + scenario.name(), ".result");
        try {
            List<String> command = new ArrayList<>();
            command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
            for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
                if (!arg.startsWith("-agentlib") && !arg.startsWith("-XX:StartFlightRecording")) {
                    command.add(arg);
                }
            }
            command.addAll(
                    List.of(
                            "-cp",
                            System.getProperty("java.class.path"),
                            EndToEndBench.class.getName()));
            command.addAll(options.childArguments(bootstrap));
            command.addAll(
                    List.of(
                            "--child",
                            scenario.name(),
                            "--child-position",
                            n + "/" + of,
                            "--child-result",
                            result.toString(),
                            "--warmup-topic",
                            warmup.topic,
                            "--input-topic",
                            input.topic));
            if (scenario.needsEnrichInput()) {
                EnrichInput w = context.enrichInput(warmup);
                EnrichInput i = context.enrichInput(input);
                command.addAll(
                        List.of(
                                "--enrich-warmup-topics",
                                w.clicksTopic + "," + w.profilesTopic,
                                "--enrich-input-topics",
                                i.clicksTopic + "," + i.profilesTopic));
            }
            out.flush();
            int exit = new ProcessBuilder(command).inheritIO().start().waitFor();
            List<String> lines = Files.readAllLines(result);
            if (lines.isEmpty()) {
                String error = "the scenario's JVM exited with code " + exit + " and no result";
                out.printf(Locale.ROOT, "[%d/%d] %-24s FAILED %s%n", n, of, scenario.name(), error);
                return new EndToEndReport.Row(scenario.name(), null, error);
            }
            return ChildResult.parse(scenario.name(), lines.get(0));
        } finally {
            Files.deleteIfExists(result);
        }
    }

    /** In a scenario's own JVM: runs it and writes its result line for the parent. */
    private static boolean runChild(Options options) throws Exception {
        EndToEndScenario scenario = selected(options).get(0);
        String[] position = options.childPosition.split("/");
        EndToEndReport.Row row;
        try (EndToEndContext context =
                new EndToEndContext(
                        options.bootstrapServers,
                        options.parallelism,
                        options.partitions,
                        Duration.ofMillis(options.checkpointIntervalMs))) {
            context.setObjectReuse(options.objectReuse);
            EndToEndInput warmup =
                    EndToEndInput.expected(
                            options.warmupTopic,
                            options.warmupRecords,
                            options.keys,
                            options.zipf,
                            WARMUP_SEED);
            EndToEndInput input =
                    EndToEndInput.expected(
                            options.inputTopic,
                            options.records,
                            options.keys,
                            options.zipf,
                            INPUT_SEED);
            registerEnrichInput(context, warmup, options.enrichWarmupTopics);
            registerEnrichInput(context, input, options.enrichInputTopics);
            row =
                    runOne(
                            context,
                            scenario,
                            warmup,
                            input,
                            Integer.parseInt(position[0]),
                            Integer.parseInt(position[1]),
                            System.out);
            context.deleteScratchTopics();
        }
        System.out.flush();
        Files.writeString(Path.of(options.childResult), ChildResult.format(row));
        return row.error() == null;
    }

    /** Registers the enrich input the parent wrote to {@code topics} (clicks,profiles), if any. */
    private static void registerEnrichInput(
            EndToEndContext context, EndToEndInput input, String topics) {
        if (topics == null) {
            return;
        }
        String[] t = topics.split(",");
        context.registerEnrichInput(
                input,
                EnrichInput.expected(
                        t[0],
                        t[1],
                        input.records,
                        input.keys,
                        EnrichInput.seed(input.records, input.keys)));
    }

    /** The one-line result a scenario's JVM hands back: tab-separated, tabs in texts replaced. */
    static final class ChildResult {
        private ChildResult() {}

        static String format(EndToEndReport.Row row) {
            EndToEndScenario.Measurement m = row.measurement();
            if (m == null) {
                return "error\t" + clean(row.error()) + "\n";
            }
            return String.join(
                            "\t",
                            "ok",
                            Long.toString(m.records()),
                            Double.toString(m.seconds()),
                            Double.toString(m.startupSeconds()),
                            clean(m.verified()))
                    + "\n";
        }

        static EndToEndReport.Row parse(String scenario, String line) {
            String[] f = line.split("\t", -1);
            if (f[0].equals("ok")) {
                return new EndToEndReport.Row(
                        scenario,
                        new EndToEndScenario.Measurement(
                                Long.parseLong(f[1]),
                                Double.parseDouble(f[2]),
                                Double.parseDouble(f[3]),
                                f[4]),
                        null);
            }
            return new EndToEndReport.Row(scenario, null, f[1]);
        }

        private static String clean(String s) {
            return String.valueOf(s).replace('\t', ' ').replace('\n', ' ');
        }
    }

    private static EndToEndInput input(
            EndToEndContext context, String what, int records, Options options, long seed) {
        long start = System.nanoTime();
        String topic = context.createTopic(what);
        context.keep(topic);
        EndToEndInput input =
                EndToEndInput.produce(
                        context.bootstrapServers(),
                        topic,
                        records,
                        options.keys,
                        options.zipf,
                        seed);
        System.out.printf(
                Locale.ROOT,
                "  input '%s': %,d records over %,d distinct keys written in %.1f s%n",
                topic,
                records,
                input.distinctKeys(),
                (System.nanoTime() - start) / 1e9);
        return input;
    }

    private static EndToEndReport.Row runOne(
            EndToEndContext context,
            EndToEndScenario scenario,
            EndToEndInput warmup,
            EndToEndInput input,
            int n,
            int of,
            PrintStream out) {
        String prefix = String.format(Locale.ROOT, "[%d/%d] %-24s", n, of, scenario.name());
        try {
            if (scenario.needsEnrichInput()) { // both written before the warm-up, as when forked
                context.enrichInput(warmup);
                context.enrichInput(input);
            }
            EndToEndScenario.Measurement w = scenario.run(context, warmup);
            context.deleteScratchTopics();
            out.printf(
                    Locale.ROOT,
                    "%s warm-up %,.0f/s (%.1f s + start-up %.1f s)%n",
                    prefix,
                    w.recordsPerSecond(),
                    w.seconds(),
                    w.startupSeconds());
            EndToEndScenario.Measurement m = scenario.run(context, input);
            boolean restore = scenario instanceof ChangelogRestoreScenario;
            out.printf(
                    Locale.ROOT,
                    "%s %,12.0f %s/s  %6.2f s (start-up %.1f s)  verified: %s%n",
                    prefix,
                    m.recordsPerSecond(),
                    restore ? "keys" : "records",
                    m.seconds(),
                    m.startupSeconds(),
                    m.verified());
            return new EndToEndReport.Row(scenario.name(), m, null);
        } catch (Exception | AssertionError e) {
            Throwable root = e;
            while (root.getCause() != null && root.getCause() != root) {
                root = root.getCause();
            }
            String error =
                    root == e
                            ? e.getClass().getSimpleName() + ": " + e.getMessage()
                            : e.getClass().getSimpleName()
                                    + " caused by "
                                    + root.getClass().getSimpleName()
                                    + ": "
                                    + root.getMessage();
            out.printf(Locale.ROOT, "%s FAILED %s%n", prefix, error);
            return new EndToEndReport.Row(scenario.name(), null, error);
        }
    }

    private static List<EndToEndScenario> selected(Options options) {
        Map<String, EndToEndScenario> all = new LinkedHashMap<>();
        for (EndToEndScenario s :
                List.of(
                        new KafkaPipeScenario(),
                        new KitCountScenario(false, options.preAggregation),
                        new KitCountScenario(true, options.preAggregation),
                        new FlinkKeyByCountScenario(),
                        new KafkaStreamsCountScenario(),
                        new KitChangelogScenario(),
                        new FlinkStateTotalScenario(),
                        new KitEnrichScenario(),
                        new FlinkStateEnrichScenario(),
                        new ChangelogRestoreScenario(options.restoreKeys))) {
            all.put(s.name(), s);
        }
        if (options.scenarios == null) {
            return new ArrayList<>(all.values());
        }
        List<EndToEndScenario> chosen = new ArrayList<>();
        for (String name : options.scenarios.split(",")) {
            EndToEndScenario s = all.get(name.trim());
            if (s == null) {
                throw new IllegalArgumentException(
                        "unknown scenario '" + name + "' (known: " + all.keySet() + ")");
            }
            chosen.add(s);
        }
        return chosen;
    }

    /** Command-line options. */
    static final class Options {
        int records = 5_000_000;
        int keys = 100_000;
        String out = "end-to-end.json";
        String bootstrapServers;
        boolean zipf = true;
        int parallelism = 1;
        int partitions = 1;
        long checkpointIntervalMs = 1_000;
        int warmupRecords = -1;
        int restoreKeys = 1_000_000;
        int preAggregation = KitCountScenario.PRE_AGGREGATION_KEYS;
        String scenarios;
        boolean objectReuse;
        boolean inProcess;

        // Set by the parent for a scenario's own JVM (not in the usage).
        String child;
        String childPosition = "1/1";
        String childResult;
        String warmupTopic;
        String inputTopic;
        String enrichWarmupTopics;
        String enrichInputTopics;

        /** The options, or {@code null} for {@code --help}. */
        static Options parse(String[] args) {
            Options o = new Options();
            for (int i = 0; i < args.length; i++) {
                String name = args[i];
                if (name.equals("--help") || name.equals("-h")) {
                    return null;
                }
                if (name.equals("--object-reuse")) {
                    o.objectReuse = true;
                    continue;
                }
                if (name.equals("--in-process")) {
                    o.inProcess = true;
                    continue;
                }
                if (i + 1 >= args.length) {
                    throw new IllegalArgumentException(name + " needs a value");
                }
                String value = args[++i];
                switch (name) {
                    case "--records" -> o.records = positive(name, value);
                    case "--keys" -> o.keys = positive(name, value);
                    case "--out" -> o.out = value;
                    case "--bootstrap-servers" -> o.bootstrapServers = value;
                    case "--skew" -> o.zipf = skew(value);
                    case "--parallelism" -> o.parallelism = positive(name, value);
                    case "--partitions" -> o.partitions = positive(name, value);
                    case "--checkpoint-interval-ms" ->
                            o.checkpointIntervalMs = positive(name, value);
                    case "--warmup-records" -> o.warmupRecords = positive(name, value);
                    case "--restore-keys" -> o.restoreKeys = positive(name, value);
                    case "--scenarios" -> o.scenarios = value;
                    case "--pre-aggregation" -> o.preAggregation = positive(name, value);
                    case "--child" -> {
                        o.child = value;
                        o.scenarios = value;
                    }
                    case "--child-position" -> o.childPosition = value;
                    case "--child-result" -> o.childResult = value;
                    case "--warmup-topic" -> o.warmupTopic = value;
                    case "--input-topic" -> o.inputTopic = value;
                    case "--enrich-warmup-topics" -> o.enrichWarmupTopics = value;
                    case "--enrich-input-topics" -> o.enrichInputTopics = value;
                    default -> throw new IllegalArgumentException("unknown option " + name);
                }
            }
            if (o.warmupRecords < 0) {
                o.warmupRecords = o.records;
            }
            if (!o.out.endsWith(".json")) {
                throw new IllegalArgumentException("--out must name a .json file: " + o.out);
            }
            return o;
        }

        private static int positive(String name, String value) {
            try {
                int v = Integer.parseInt(value.replace("_", ""));
                if (v > 0) {
                    return v;
                }
            } catch (NumberFormatException e) {
                // reported below
            }
            throw new IllegalArgumentException(
                    name + " must be a positive integer, got '" + value + "'");
        }

        private static boolean skew(String value) {
            return switch (value.toLowerCase(Locale.ROOT)) {
                case "zipf" -> true;
                case "uniform" -> false;
                default ->
                        throw new IllegalArgumentException(
                                "--skew must be zipf or uniform, got '" + value + "'");
            };
        }

        /** The options a scenario's own JVM needs to run it as this process would. */
        List<String> childArguments(String bootstrap) {
            List<String> args =
                    new ArrayList<>(
                            List.of(
                                    "--records",
                                    Integer.toString(records),
                                    "--keys",
                                    Integer.toString(keys),
                                    "--bootstrap-servers",
                                    bootstrap,
                                    "--skew",
                                    zipf ? "zipf" : "uniform",
                                    "--parallelism",
                                    Integer.toString(parallelism),
                                    "--partitions",
                                    Integer.toString(partitions),
                                    "--checkpoint-interval-ms",
                                    Long.toString(checkpointIntervalMs),
                                    "--warmup-records",
                                    Integer.toString(warmupRecords),
                                    "--restore-keys",
                                    Integer.toString(restoreKeys),
                                    "--pre-aggregation",
                                    Integer.toString(preAggregation)));
            if (objectReuse) {
                args.add("--object-reuse");
            }
            return args;
        }

        String describe() {
            return String.format(
                            Locale.ROOT,
                            "%s keys, parallelism %d, %d input partition(s), checkpoints every %d ms,"
                                    + " warm-up %,d records, restore of %,d keys, pre-aggregation of"
                                    + " %,d keys%s",
                            zipf ? "Zipf" : "uniform",
                            parallelism,
                            partitions,
                            checkpointIntervalMs,
                            warmupRecords,
                            restoreKeys,
                            preAggregation,
                            objectReuse ? ", Flink object reuse on" : "")
                    + (inProcess ? ", all scenarios in one JVM" : ", each scenario in its own JVM");
        }
    }
}
