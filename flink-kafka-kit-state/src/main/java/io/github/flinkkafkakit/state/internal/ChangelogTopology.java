package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.functions.Function;
import org.apache.flink.api.common.functions.RichFunction;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.streaming.api.checkpoint.CheckpointedFunction;
import org.apache.flink.streaming.api.operators.AbstractUdfStreamOperator;
import org.apache.flink.streaming.api.operators.ProcessOperator;
import org.apache.flink.streaming.api.operators.SimpleOperatorFactory;
import org.apache.flink.streaming.api.operators.StreamFilter;
import org.apache.flink.streaming.api.operators.StreamFlatMap;
import org.apache.flink.streaming.api.operators.StreamMap;
import org.apache.flink.streaming.api.operators.StreamOperator;
import org.apache.flink.streaming.api.operators.StreamOperatorFactory;
import org.apache.flink.streaming.api.transformations.LegacySinkTransformation;
import org.apache.flink.streaming.api.transformations.LegacySourceTransformation;
import org.apache.flink.streaming.api.transformations.OneInputTransformation;
import org.apache.flink.streaming.api.transformations.PartitionTransformation;
import org.apache.flink.streaming.api.transformations.SideOutputTransformation;
import org.apache.flink.streaming.api.transformations.SinkTransformation;
import org.apache.flink.streaming.api.transformations.SourceTransformation;
import org.apache.flink.streaming.api.transformations.TimestampsAndWatermarksTransformation;
import org.apache.flink.streaming.api.transformations.UnionTransformation;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Set;

/**
 * The part of a job graph a restart from Kafka alone depends on, checked when the job is completed:
 * what flows from the job's sources to its Kafka-backed operators and on to the changelog writer
 * must pass every record on at once and keep no state of its own, or what it holds at a barrier is
 * in neither the changelog nor the positions, and a restart from Kafka loses it.
 *
 * <ul>
 *   <li>between them, only record-by-record operators ({@code map}, {@code filter}, {@code
 *       flatMap}, a non-keyed {@code process}) whose function keeps no state of its own (not a
 *       {@link CheckpointedFunction}, not a rich function on a keyed stream, which could use keyed
 *       state), re-partitioning, unions, side outputs and watermark assigners;
 *   <li>every source they read is one the job added (its positions are tracked);
 *   <li>no other sink writes what a Kafka-backed operator produced: its writes would not commit
 *       with the state, and a restart from Kafka would write them again.
 * </ul>
 */
@Internal
public final class ChangelogTopology {

    private final Set<Transformation<?>> sources = newIdentitySet();
    private final Set<Transformation<?>> kafkaState = newIdentitySet();
    private final Set<Transformation<?>> sinks = newIdentitySet();

    private static Set<Transformation<?>> newIdentitySet() {
        return java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    }

    /** A source added with {@code KafkaStateJob.source} (its positions operator follows). */
    public void source(Transformation<?> source) {
        sources.add(source);
    }

    public void kafkaState(Transformation<?> operator) {
        kafkaState.add(operator);
    }

    /** What goes to the changelog writer from a sink or dead letters. */
    public void sink(Transformation<?> toWriter) {
        sinks.add(toWriter);
    }

    /**
     * @throws IllegalStateException naming the first transformation that would not survive a
     *     restart from Kafka, and the fix
     */
    public void check(List<Transformation<?>> all) {
        for (Transformation<?> operator : kafkaState) {
            checkUpstream(operator, operator, new HashSet<>());
        }
        for (Transformation<?> sink : sinks) {
            checkUpstream(sink, sink, new HashSet<>());
        }
        for (Transformation<?> transformation : all) {
            if (transformation instanceof SinkTransformation
                    || transformation instanceof LegacySinkTransformation) {
                Transformation<?> kitInput = kitUpstream(transformation);
                if (kitInput != null) {
                    throw new IllegalStateException(
                            String.format(
                                    "Sink '%s' writes what '%s' of this Kafka-state job produces"
                                            + " outside the changelog's transaction: after a"
                                            + " restart from Kafka it would write it again. Write"
                                            + " it with KafkaStateJob.sink(stream, kafkaOut) (dead"
                                            + " letters with KafkaStateJob.deadLetters)",
                                    transformation.getName(), kitInput.getUid()));
                }
            }
        }
    }

    /** Walks from {@code at} to the job's sources; throws at what does not qualify. */
    private void checkUpstream(
            Transformation<?> at, Transformation<?> from, Set<Transformation<?>> seen) {
        for (Transformation<?> input : at.getInputs()) {
            if (!seen.add(input) || sources.contains(input) || kafkaState.contains(input)) {
                continue;
            }
            String problem = problem(input);
            if (problem != null) {
                throw new IllegalStateException(
                        String.format(
                                "%s '%s' feeds %s, and %s: a restart from Kafka alone could not"
                                        + " bring back what it holds. %s",
                                kind(input), input.getName(), describe(from), problem, fix(input)));
            }
            checkUpstream(input, from, seen);
        }
    }

    private String describe(Transformation<?> from) {
        return kafkaState.contains(from)
                ? "Kafka-backed operator '" + from.getUid() + "'"
                : "the changelog writer (" + from.getName() + ")";
    }

    private static String kind(Transformation<?> t) {
        if (t instanceof SourceTransformation || t instanceof LegacySourceTransformation) {
            return "Source";
        }
        return "Operator";
    }

    /** Why {@code t} may not stand between the job's sources and its writer, or null. */
    private static String problem(Transformation<?> t) {
        if (t instanceof SourceTransformation || t instanceof LegacySourceTransformation) {
            return "its positions are not stored with the state";
        }
        if (t instanceof PartitionTransformation
                || t instanceof UnionTransformation
                || t instanceof SideOutputTransformation
                || t instanceof TimestampsAndWatermarksTransformation) {
            return null;
        }
        if (t instanceof OneInputTransformation) {
            OneInputTransformation<?, ?> one = (OneInputTransformation<?, ?>) t;
            StreamOperator<?> operator = operatorOf(one.getOperatorFactory());
            if (operator instanceof PositionsOperator) {
                return null;
            }
            if (operator instanceof StreamMap
                    || operator instanceof StreamFilter
                    || operator instanceof StreamFlatMap
                    || operator instanceof ProcessOperator) {
                Function function = ((AbstractUdfStreamOperator<?, ?>) operator).getUserFunction();
                if (function instanceof CheckpointedFunction) {
                    return "its function keeps Flink state of its own";
                }
                if (one.getStateKeySelector() != null && function instanceof RichFunction) {
                    return "it runs on a keyed stream, where its function could keep keyed state"
                            + " outside the changelog";
                }
                return null;
            }
            return "it is not a record-by-record operator without state ("
                    + (operator == null ? one.getOperatorFactory() : operator)
                            .getClass()
                            .getSimpleName()
                    + ")";
        }
        return "it is not a record-by-record operator without state ("
                + t.getClass().getSimpleName()
                + ")";
    }

    private static String fix(Transformation<?> t) {
        if (t instanceof SourceTransformation || t instanceof LegacySourceTransformation) {
            return "Add the source with KafkaStateJob.source(uid, kafkaIn)";
        }
        return "Run keyed functions with state through KafkaStateJob.process/map/flatMap, and keep"
                + " windows, async I/O and buffering operators out of the path from the job's"
                + " sources to its Kafka-backed operators and sinks";
    }

    private static StreamOperator<?> operatorOf(StreamOperatorFactory<?> factory) {
        return factory instanceof SimpleOperatorFactory
                ? ((SimpleOperatorFactory<?>) factory).getOperator()
                : null;
    }

    /**
     * The job's source or Kafka-backed operator {@code t} reads from (directly or through others),
     * or null.
     */
    private Transformation<?> kitUpstream(Transformation<?> t) {
        List<Transformation<?>> todo = new ArrayList<>(t.getInputs());
        Set<Transformation<?>> seen = newIdentitySet();
        while (!todo.isEmpty()) {
            Transformation<?> input = todo.remove(todo.size() - 1);
            if (!seen.add(input)) {
                continue;
            }
            if (kafkaState.contains(input) || sources.contains(input)) {
                return input;
            }
            todo.addAll(input.getInputs());
        }
        return null;
    }
}
