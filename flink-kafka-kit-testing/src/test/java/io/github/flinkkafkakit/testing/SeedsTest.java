package io.github.flinkkafkakit.testing;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.lang.reflect.Proxy;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

/** {@link Seeds}: fresh by default, fixed by {@code -Dfkk.seed}, attached to a failure. */
class SeedsTest {

    @AfterEach
    void clearProperty() {
        System.clearProperty(Seeds.PROPERTY);
    }

    /** An extension context that knows only its display name. */
    private static ExtensionContext context(String name) {
        return (ExtensionContext)
                Proxy.newProxyInstance(
                        SeedsTest.class.getClassLoader(),
                        new Class<?>[] {ExtensionContext.class},
                        (proxy, method, args) -> {
                            if (method.getName().equals("getDisplayName")) {
                                return name;
                            }
                            throw new UnsupportedOperationException(method.getName());
                        });
    }

    @Test
    void shouldDrawAFreshSeedForEveryTestByDefault() {
        Seeds seeds = new Seeds();
        Set<Long> drawn = new HashSet<>();
        for (int i = 0; i < 5; i++) {
            seeds.beforeEach(context("t" + i));
            drawn.add(seeds.seed());
            assertThat(seeds.seed()).as("stable within a test").isEqualTo(seeds.seed());
        }
        assertThat(drawn).hasSize(5);
    }

    @Test
    void shouldUseTheSeedOfTheSystemProperty() {
        System.setProperty(Seeds.PROPERTY, " -42 ");
        Seeds seeds = new Seeds();
        seeds.beforeEach(context("t"));

        assertThat(seeds.seed()).isEqualTo(-42L);
        assertThat(seeds.random().nextLong()).isEqualTo(new java.util.Random(-42).nextLong());
        assertThat(seeds.describe()).isEqualTo("seed -42 (replay with -Dfkk.seed=-42)");
    }

    @Test
    void shouldRefuseASeedThatIsNotALong() {
        System.setProperty(Seeds.PROPERTY, "abc");

        assertThatThrownBy(Seeds::draw)
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-Dfkk.seed must be a long, got 'abc'");
    }

    @Test
    void shouldAttachTheSeedToAFailureAndRethrowIt() {
        System.setProperty(Seeds.PROPERTY, "7");
        Seeds seeds = new Seeds();
        seeds.beforeEach(context("fuzz()"));
        seeds.random();
        AssertionError failure = new AssertionError("expected 1 but was 2");

        Throwable thrown =
                catchThrowable(
                        () -> seeds.handleTestExecutionException(context("fuzz()"), failure));

        assertThat(thrown).isSameAs(failure);
        assertThat(failure.getSuppressed())
                .singleElement()
                .extracting(Throwable::getMessage)
                .isEqualTo("fuzz() failed with seed 7: replay with -Dfkk.seed=7");
    }

    @Test
    void shouldLeaveTheFailureOfATestThatDidNotUseItsSeedAsItIs() {
        Seeds seeds = new Seeds();
        seeds.beforeEach(context("plain()"));
        AssertionError failure = new AssertionError("expected 1 but was 2");

        Throwable thrown =
                catchThrowable(
                        () -> seeds.handleTestExecutionException(context("plain()"), failure));

        assertThat(thrown).isSameAs(failure);
        assertThat(failure.getSuppressed()).isEmpty();
    }
}
