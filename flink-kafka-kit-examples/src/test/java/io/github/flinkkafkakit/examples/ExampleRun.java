package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KeyValue;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** One in-process run of the examples CLI: exit code and everything it printed. */
record ExampleRun(int exitCode, String out, String err) {

    static ExampleRun of(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code;
        try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
                PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
            code = Examples.run(args, o, e);
        }
        return new ExampleRun(
                code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * {@code count --bounded} from {@code in} to {@code out} on {@code bootstrapServers} (group
     * {@code g-<in>}, checkpoints every 300 ms), with {@code --kafka-config config} unless it is
     * null.
     */
    static ExampleRun boundedCount(String bootstrapServers, String in, String out, Path config) {
        List<String> args =
                new ArrayList<>(
                        List.of(
                                "count",
                                "--bootstrap-servers",
                                bootstrapServers,
                                "--input-topic",
                                in,
                                "--output-topic",
                                out,
                                "--group-id",
                                "g-" + in,
                                "--checkpoint-interval",
                                "300ms",
                                "--bounded"));
        if (config != null) {
            args.addAll(List.of("--kafka-config", config.toString()));
        }
        return of(args.toArray(new String[0]));
    }

    /** The security suites' input: 3,000 records over the keys {@code k0 .. k12}. */
    static List<KeyValue<String, String>> thirteenKeys() {
        List<KeyValue<String, String>> records = new ArrayList<>();
        for (int i = 0; i < 3_000; i++) {
            records.add(KeyValue.of("k" + (i % 13), "v"));
        }
        return records;
    }

    /**
     * The last count per key that {@link #thirteenKeys()} gives: 3000 = 13 * 230 + 10, so keys
     * {@code k0 .. k9} occur 231 times and {@code k10 .. k12} 230 times.
     */
    static Map<String, String> thirteenKeyCounts() {
        Map<String, String> counts = new HashMap<>();
        for (int k = 0; k < 13; k++) {
            counts.put("k" + k, k < 10 ? "231" : "230");
        }
        return counts;
    }

    /** Writes {@code props} to {@code <dir>/<name>.properties}, for {@code --kafka-config}. */
    static Path writeProperties(Path dir, String name, Properties props) throws IOException {
        Path file = dir.resolve(name + ".properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            props.store(out, null);
        }
        return file;
    }

    /**
     * {@code stateful-total}'s arguments in the restart tests: these topics, group id {@code
     * g-<in>} and checkpoints every 300 ms (the runs add parallelism and {@code --bounded}).
     */
    static String[] statefulTotal(String bootstrapServers, String in, String out, String state) {
        return new String[] {
            "stateful-total",
            "--bootstrap-servers",
            bootstrapServers,
            "--input-topic",
            in,
            "--output-topic",
            out,
            "--state-topic",
            state,
            "--group-id",
            "g-" + in,
            "--checkpoint-interval",
            "300ms"
        };
    }

    /**
     * The job jar for {@code flink run} ({@code target/flink-kafka-kit-examples-job.jar}); skips
     * the test unless it runs in the verify phase, after {@code package} has built the jar.
     */
    static Path packagedJobJar() {
        assumeTrue(
                Boolean.getBoolean("fkk.packagedJars"),
                "runs in the verify phase, after `package` has built the job jar");
        Path jar = Path.of("target", "flink-kafka-kit-examples-job.jar");
        assertThat(jar).as("%s is missing: run `mvn package` first", jar).isRegularFile();
        return jar;
    }

    /** {@code common} arguments followed by {@code more}. */
    static String[] with(String[] common, String... more) {
        List<String> args = new ArrayList<>(List.of(common));
        args.addAll(List.of(more));
        return args.toArray(new String[0]);
    }

    String all() {
        return out + err;
    }

    /**
     * The examples CLI in a JVM of its own (so it can be killed with SIGKILL), output and errors to
     * {@code log}; the JVM gets this one's {@code --add-opens} and temp directory.
     */
    static Process startProcess(File log, String... args) throws IOException {
        return startProcess(log, List.of(), args);
    }

    /**
     * {@link #startProcess(File, String...)} with more options for the child JVM, e.g. {@code
     * -Dfkk.fault=BEFORE_COMMIT:3:HALT} to arm a fault point in it.
     */
    static Process startProcess(File log, List<String> jvmOptions, String... args)
            throws IOException {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.add("-Xmx512m");
        for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
            if (arg.startsWith("--add-opens") || arg.startsWith("-Djava.io.tmpdir")) {
                command.add(arg);
            }
        }
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        command.add(Examples.class.getName());
        command.addAll(List.of(args));
        return new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log).start();
    }
}
