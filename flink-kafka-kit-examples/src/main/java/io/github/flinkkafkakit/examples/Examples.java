package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.preflight.PreflightException;

import org.apache.flink.util.ExceptionUtils;

import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.List;

/**
 * Entry point of the runnable examples jar: {@code java -jar flink-kafka-kit-examples.jar <example>
 * [options]}.
 *
 * <p>How to run:
 *
 * <ul>
 *   <li>{@code java -jar flink-kafka-kit-examples/target/flink-kafka-kit-examples.jar count} —
 *       embedded broker, sample data, result table;
 *   <li>{@code java -jar … count --bootstrap-servers localhost:9092 --input-topic in --output-topic
 *       out --group-id g --bounded} — a real cluster;
 *   <li>{@code java -jar … --help}, {@code java -jar … count --help} — all options.
 * </ul>
 *
 * <p>Exit codes: 0 success, 1 the job or a check failed (one line on stderr), 2 invalid command
 * line.
 */
@Command(
        name = "java -jar flink-kafka-kit-examples.jar",
        mixinStandardHelpOptions = true,
        version = "flink-kafka-kit examples 0.1.0-SNAPSHOT",
        subcommands = {
            CountExample.class,
            StatefulTotalExample.class,
            EnrichExample.class,
            LogAnalyticsExample.class,
            PageViewsExample.class,
            CommandLine.HelpCommand.class
        },
        description = {
            "Runnable flink-kafka-kit example jobs.",
            "Without --bootstrap-servers an example starts an embedded Kafka broker, generates"
                    + " sample data, runs the job and prints the results."
        })
public final class Examples implements Runnable {

    /** Exit code for an invalid command line. */
    public static final int EXIT_USAGE = 2;

    /** Exit code for a failed check or job. */
    public static final int EXIT_FAILURE = 1;

    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing example name, e.g. 'count'");
    }

    public static void main(String[] args) {
        int code;
        try {
            code = run(args, System.out, System.err);
        } catch (Throwable unexpected) {
            // An Error (e.g. a missing class) escapes picocli's handlers; Flink's non-daemon
            // threads would then keep the JVM alive: report it in one line and exit instead.
            System.err.println("Error: " + describe(unexpected));
            code = EXIT_FAILURE;
        }
        System.exit(code);
    }

    /** Parses {@code args}, runs the chosen example and returns the process exit code. */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        CommandLine cli = new CommandLine(new Examples());
        for (CommandLine example : cli.getSubcommands().values()) {
            if (example.getCommand() instanceof ExampleCommand command) {
                command.tailorHelp(example.getCommandSpec());
            }
        }
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        cli.setParameterExceptionHandler(
                (ex, argv) -> {
                    CommandLine cmd = ex.getCommandLine();
                    cmd.getErr().println("Error: " + oneLine(usageMessage(ex)));
                    cmd.getErr()
                            .println(
                                    "Run '"
                                            + cmd.getCommandSpec().qualifiedName()
                                            + " --help' for the options.");
                    return EXIT_USAGE;
                });
        cli.setExecutionExceptionHandler(
                (ex, cmd, parseResult) -> {
                    cmd.getErr().println("Error: " + describe(ex));
                    return EXIT_FAILURE;
                });
        if (args.length > 0
                && !args[0].startsWith("-")
                && !cli.getSubcommands().containsKey(args[0])) {
            // Picocli would print the top-level help for "nosuch --help" and exit 0.
            try {
                return cli.getParameterExceptionHandler()
                        .handleParseException(
                                new UnmatchedArgumentException(cli, List.of(args[0])), args);
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return cli.execute(args);
    }

    /**
     * Picocli's message, except for a wrong word before the example name: "Unmatched argument at
     * index 0: 'nope'" does not say what was expected.
     */
    private static String usageMessage(ParameterException ex) {
        CommandLine cmd = ex.getCommandLine();
        if (ex instanceof UnmatchedArgumentException unmatched
                && cmd.getParent() == null
                && !unmatched.getUnmatched().isEmpty()) {
            String first = unmatched.getUnmatched().get(0);
            List<String> examples =
                    cmd.getSubcommands().keySet().stream().filter(n -> !n.equals("help")).toList();
            if (first.startsWith("-")) {
                return "Unknown option: '"
                        + first
                        + "' (example options go after the example name, e.g. '"
                        + examples.get(0)
                        + " "
                        + first
                        + " ...')";
            }
            return "unknown example '"
                    + first
                    + "' (expected one of: "
                    + String.join(", ", examples)
                    + ")";
        }
        return ex.getMessage();
    }

    /** One line for a failure: the message of a check, or the root cause of a failed job. */
    static String describe(Throwable failure) {
        if (failure instanceof PreflightException) {
            return withFlags(oneLine(failure.getMessage()));
        }
        if (failure instanceof IllegalArgumentException
                || failure instanceof IllegalStateException) {
            return oneLine(failure.getMessage());
        }
        Throwable preflight =
                ExceptionUtils.findThrowable(failure, PreflightException.class).orElse(null);
        if (preflight != null) {
            return withFlags(oneLine(preflight.getMessage()));
        }
        Throwable root = ExceptionUtils.stripExecutionException(failure);
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        return "the job failed: "
                + root.getClass().getSimpleName()
                + ": "
                + oneLine(root.getMessage());
    }

    /**
     * The library's messages name its own settings; on the command line those are flags, so the
     * user is told which flag to fix.
     */
    static String withFlags(String message) {
        return message.replace(
                        "bootstrap.servers of the KafkaConnection",
                        "--bootstrap-servers (bootstrap.servers)")
                .replace("client properties of the KafkaConnection", "--kafka-config properties");
    }

    private static String oneLine(String message) {
        return message == null ? "(no message)" : message.replaceAll("\\s*[\\r\\n]+\\s*", " ");
    }
}
