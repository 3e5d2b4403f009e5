package io.github.flinkkafkakit.testing;

import org.apache.flink.annotation.PublicEvolving;

import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestExecutionExceptionHandler;

import java.util.Random;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Seeds for randomized (differential, fuzz) tests: a fresh random seed for every test by default,
 * so each build explores other inputs, or the one given with {@code -Dfkk.seed=N} to replay a run.
 * A failing test that used its seed gets it attached (as a suppressed exception, so the original
 * failure and its type stay as they were) and printed to stderr, with the command-line option that
 * replays it.
 *
 * <pre>{@code
 * @RegisterExtension final Seeds seeds = new Seeds();
 *
 * @Test
 * void shouldCountLikeAHashMap() {
 *     Random random = seeds.random();   // or seeds.seed()
 *     ...
 * }
 * }</pre>
 *
 * <p>Register it as an instance field (or a static one: the seed is drawn again before each test).
 * Outside a test (e.g. in {@code @BeforeAll}) {@link #seed()} draws one for the class.
 */
@PublicEvolving
public final class Seeds implements BeforeEachCallback, TestExecutionExceptionHandler {

    /** The system property that fixes the seed of every test of the run. */
    public static final String PROPERTY = "fkk.seed";

    private volatile Long seed;

    /** Whether the current test asked for its seed (only then is a failure's seed worth a line). */
    private volatile boolean used;

    /** The fixed seed of {@code -Dfkk.seed}, or a fresh random one. */
    public static long draw() {
        String fixed = System.getProperty(PROPERTY);
        if (fixed != null && !fixed.isBlank()) {
            try {
                return Long.parseLong(fixed.trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(
                        "-D" + PROPERTY + " must be a long, got '" + fixed + "'", e);
            }
        }
        return ThreadLocalRandom.current().nextLong();
    }

    /** The seed of the current test. */
    public long seed() {
        used = true;
        Long current = seed;
        if (current == null) {
            synchronized (this) {
                if (seed == null) {
                    seed = draw();
                }
                current = seed;
            }
        }
        return current;
    }

    /** A {@link Random} from {@link #seed()} (a new one on every call, same sequence). */
    public Random random() {
        return new Random(seed());
    }

    /** How to replay the current seed, e.g. for an assertion's description. */
    public String describe() {
        return "seed " + seed() + " (replay with -D" + PROPERTY + "=" + seed() + ")";
    }

    @Override
    public void beforeEach(ExtensionContext context) {
        seed = draw();
        used = false;
    }

    @Override
    public void handleTestExecutionException(ExtensionContext context, Throwable failure)
            throws Throwable {
        Long current = seed;
        if (current != null && used) {
            String note =
                    context.getDisplayName()
                            + " failed with seed "
                            + current
                            + ": replay with -D"
                            + PROPERTY
                            + "="
                            + current;
            System.err.println(note);
            failure.addSuppressed(new SeedNote(note));
        }
        throw failure;
    }

    /** Carries the seed of a failed test in its stack trace. */
    static final class SeedNote extends Exception {
        private static final long serialVersionUID = 1L;

        SeedNote(String message) {
            super(message, null, false, false);
        }
    }
}
