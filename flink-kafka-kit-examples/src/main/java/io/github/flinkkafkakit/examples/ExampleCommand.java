package io.github.flinkkafkakit.examples;

import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Spec;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;

/** One example of the runnable jar: its command line, sharing {@link CommonOptions}. */
abstract class ExampleCommand implements Callable<Integer> {

    @Spec CommandSpec spec;

    @Mixin CommonOptions options;

    /**
     * The defaults that {@code --help} shows for the shared options, by option name (e.g. {@code
     * --input-topic} → the example's default input topic).
     */
    abstract Map<String, String> helpDefaults();

    /** Shared options this example does not use: accepted as before, but left out of its help. */
    Set<String> unusedOptions() {
        return Set.of();
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
            boolean hide = unused.contains(name);
            if (shown == null && !hide) {
                continue;
            }
            OptionSpec.Builder tailored = option.toBuilder();
            if (hide) {
                tailored.hidden(true);
            }
            if (shown != null) {
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
