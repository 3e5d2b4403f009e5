package io.github.flinkkafkakit.examples;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

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

    /** Writes {@code props} to {@code <dir>/<name>.properties}, for {@code --kafka-config}. */
    static Path writeProperties(Path dir, String name, Properties props) throws IOException {
        Path file = dir.resolve(name + ".properties");
        try (OutputStream out = Files.newOutputStream(file)) {
            props.store(out, null);
        }
        return file;
    }

    String all() {
        return out + err;
    }
}
