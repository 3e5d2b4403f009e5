package io.github.flinkkafkakit.bench;

/** One scenario of {@link EndToEndBench}: runs over the input and checks its own output. */
interface EndToEndScenario {

    String name();

    /**
     * Whether the scenario reads the {@code enrich} input ({@link EndToEndContext#enrichInput}). It
     * is written once per run, just before the first scenario that reads it: the scenarios before
     * it run on a broker that holds only their own input, as they would on their own (the enrich
     * input written first made {@code kafka-pipe} measurably slower).
     */
    default boolean needsEnrichInput() {
        return false;
    }

    /**
     * Runs once over {@code input} (a warm-up or the measured run) and verifies the output.
     *
     * @throws IllegalStateException when the output is wrong
     */
    Measurement run(EndToEndContext context, EndToEndInput input) throws Exception;

    /** A job that runs to completion. */
    @FunctionalInterface
    interface Job {
        void run() throws Exception;
    }

    /**
     * Runs {@code job} and times it: start-up until the first input record was read ({@link
     * FirstRecordClock}), then from there to the end.
     */
    static Timing time(Job job) throws Exception {
        FirstRecordClock.reset();
        long start = System.nanoTime();
        job.run();
        long end = System.nanoTime();
        return new Timing(start, FirstRecordClock.firstOr(start), end);
    }

    /**
     * Reads {@code topic} back and checks that every key of the input ends at its {@code expected}
     * value (and no other key appears); returns the measurement of the run.
     *
     * @param what the value's name for the report and errors ({@code count}, {@code total})
     * @throws IllegalStateException when a key's last value is wrong
     */
    static Measurement verifyLatest(
            EndToEndContext context,
            EndToEndInput input,
            String topic,
            long[] expected,
            String what,
            Timing timing)
            throws InterruptedException {
        EndToEndOutput result = EndToEndOutput.read(context.bootstrapServers(), topic, input.keys);
        result.checkLatest(expected, what);
        return Measurement.of(
                input.records,
                timing,
                String.format(
                        "last %s of all %,d keys exact (%,d output records)",
                        what, input.distinctKeys(), result.records));
    }

    /** Start, first record and end of a run, in {@link System#nanoTime()}. */
    record Timing(long start, long first, long end) {}

    /**
     * @param records what the rate counts: input records, or keys for a restore
     * @param seconds from the first record to the end (the rate's denominator)
     * @param startupSeconds from the start to the first record
     * @param verified what was checked, for the report
     */
    record Measurement(long records, double seconds, double startupSeconds, String verified) {

        static Measurement of(long records, Timing t, String verified) {
            return new Measurement(
                    records, (t.end() - t.first()) / 1e9, (t.first() - t.start()) / 1e9, verified);
        }

        double recordsPerSecond() {
            return seconds > 0 ? records / seconds : 0;
        }
    }
}
