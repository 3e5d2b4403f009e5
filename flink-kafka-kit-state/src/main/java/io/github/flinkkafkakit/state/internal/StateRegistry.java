package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The Kafka-backed states of one operator, by name, and their names in the changelog: scoped by the
 * operator's uid ({@code <uid>/<name>}, {@code <uid>/<name>@ttl} for a state with a TTL, whose
 * records carry the time of their last update), so operators of one job sharing a changelog never
 * read each other's records. Also keeps the changelog records of this operator restored before
 * their state was declared, until it is.
 *
 * @param <K> the key type
 */
@Internal
final class StateRegistry<K> {

    /** The changelog name suffix of a state with a TTL (its values carry their last update). */
    static final String TTL_SUFFIX = "@ttl";

    private final String scope;
    private final byte[] scopeBytes;
    private final Map<String, ChangelogState> states = new LinkedHashMap<>();

    /**
     * Changelog records of this operator restored before their state was declared (a function that
     * declares a state after {@code open()}), by changelog state name, in changelog order.
     */
    private final Map<String, List<byte[][]>> undeclared = new LinkedHashMap<>();

    /** Told of each state declared after the restore (to apply its restored records). */
    private LateDeclaration late;

    /** Applies the restored records of a state declared after the restore. */
    @FunctionalInterface
    interface LateDeclaration {
        void declared(ChangelogState state) throws Exception;
    }

    StateRegistry(String uid) {
        this.scope = uid;
        this.scopeBytes = (uid + "/").getBytes(StandardCharsets.UTF_8);
    }

    /** The operator's uid. */
    String scope() {
        return scope;
    }

    /** The changelog name prefix of this operator's records ({@code <uid>/}). */
    byte[] scopeBytes() {
        return scopeBytes;
    }

    /** The changelog name of a state: scoped by the operator's uid, marked when it has a TTL. */
    String changelogName(String stateName, boolean ttl) {
        return scope + "/" + stateName + (ttl ? TTL_SUFFIX : "");
    }

    /** A state's declared name from its changelog name ({@code <uid>/<name>[@ttl]}). */
    String declaredName(String changelogName) {
        String name = changelogName.substring(scope.length() + 1);
        return name.endsWith(TTL_SUFFIX)
                ? name.substring(0, name.length() - TTL_SUFFIX.length())
                : name;
    }

    /** Registers a state (a second declaration of the same name returns the first). */
    @SuppressWarnings("unchecked")
    <S extends ChangelogState> S register(S state) throws Exception {
        ChangelogState existing = states.get(state.name);
        if (existing != null) {
            if (existing.getClass() != state.getClass()
                    || !existing.changelogName.equals(state.changelogName)) {
                throw new IllegalStateException(
                        "State '"
                                + state.name
                                + "' of operator '"
                                + scope
                                + "' is declared twice, as two kinds of state (or with and"
                                + " without a TTL): give each its own name");
            }
            return (S) existing;
        }
        states.put(state.name, state);
        if (late != null) {
            late.declared(state);
        }
        return state;
    }

    /** From now on (after the restore), tells {@code late} of each state declared. */
    void onLateDeclaration(LateDeclaration late) {
        this.late = late;
    }

    ChangelogState get(String name) {
        return states.get(name);
    }

    Collection<ChangelogState> states() {
        return states.values();
    }

    /** The declared value states that keep their values in a {@link StringValueTable}. */
    @SuppressWarnings("unchecked")
    List<LoggedValueState<K, ?>> tableStates() {
        List<LoggedValueState<K, ?>> tables = new ArrayList<>();
        for (ChangelogState state : states.values()) {
            if (isTable(state)) {
                tables.add((LoggedValueState<K, ?>) state);
            }
        }
        return tables;
    }

    /** The tables of the {@link #tableStates()}. */
    List<StringValueTable> tables() {
        List<StringValueTable> tables = new ArrayList<>();
        for (LoggedValueState<K, ?> state : tableStates()) {
            tables.add(tableStore(state).table());
        }
        return tables;
    }

    static boolean isTable(ChangelogState state) {
        return state instanceof LoggedValueState
                && ((LoggedValueState<?, ?>) state).store() instanceof TableValueStore;
    }

    /** The store of a state that {@link #isTable is a table}. */
    static TableValueStore<?> tableStore(ChangelogState state) {
        return (TableValueStore<?>) ((LoggedValueState<?, ?>) state).store();
    }

    // ---------------------------------------------------------------- undeclared records

    /** Keeps a restored record of a state not declared yet. */
    void keepUndeclared(String changelogName, byte[][] record) {
        undeclared.computeIfAbsent(changelogName, n -> new ArrayList<>()).add(record);
    }

    /** The restored records of {@code state}, if it was not declared when they were restored. */
    List<byte[][]> takeUndeclared(ChangelogState state) {
        return undeclared.remove(state.changelogName);
    }

    /** Names of states with restored records but no declaration yet. */
    Set<String> undeclaredNames() {
        return undeclared.keySet();
    }

    /** For tests: names of the declared states. */
    List<String> stateNames() {
        return new ArrayList<>(states.keySet());
    }
}
