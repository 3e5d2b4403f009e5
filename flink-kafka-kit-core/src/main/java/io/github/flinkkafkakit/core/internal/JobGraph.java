package io.github.flinkkafkakit.core.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.lineage.LineageDataset;
import org.apache.flink.streaming.api.lineage.LineageDatasetFacet;
import org.apache.flink.streaming.api.lineage.LineageVertexProvider;
import org.apache.flink.streaming.api.transformations.SinkTransformation;
import org.apache.flink.streaming.api.transformations.SourceTransformation;

import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * The job being built, read from its own graph of transformations: the uids taken, the Kafka topics
 * its sources read, the transactional id prefixes of the kit's exactly-once sinks. Builders check
 * against it (a sink writing to a topic the job reads, two sinks sharing a prefix) and pick default
 * uids not yet taken. Nothing is kept beside the graph, so what is checked is what the job runs —
 * Kafka sources built with the official connector included.
 *
 * <p>A stream that nothing consumes yet is not part of the graph: pass it to {@link #of} when a
 * check must see it (the stream a sink is being added to).
 */
@Internal
public final class JobGraph {

    /** The start of a kit exactly-once sink's description; the prefix follows, quoted. */
    private static final String PREFIX_DESCRIPTION = "exactly-once, transactional id prefix ";

    private final Set<Transformation<?>> transformations;

    private JobGraph(Set<Transformation<?>> transformations) {
        this.transformations = transformations;
    }

    /**
     * Every transformation added to {@code env} and {@code streams}, with their inputs.
     *
     * @param streams streams not consumed yet that belong to the job
     */
    public static JobGraph of(StreamExecutionEnvironment env, DataStream<?>... streams) {
        Set<Transformation<?>> all = Collections.newSetFromMap(new IdentityHashMap<>());
        for (Transformation<?> t : env.getTransformations()) {
            all.addAll(t.getTransitivePredecessors());
        }
        for (DataStream<?> stream : streams) {
            all.addAll(stream.getTransformation().getTransitivePredecessors());
        }
        return new JobGraph(all);
    }

    /**
     * {@code base}, or {@code base-2}, {@code base-3}, … when the job already has an operator with
     * that uid (e.g. two sinks to one topic). Deterministic for the same job graph.
     */
    public String uniqueUid(String base) {
        Set<String> taken = new HashSet<>();
        for (Transformation<?> t : transformations) {
            if (t.getUid() != null) {
                taken.add(t.getUid());
            }
        }
        String uid = base;
        for (int i = 2; taken.contains(uid); i++) {
            uid = base + "-" + i;
        }
        return uid;
    }

    /**
     * Whether a Kafka source of the job (the kit's or the official connector's, subscribed to a
     * list of topics) reads {@code topic} from the cluster at {@code bootstrapServers}.
     */
    public boolean readsTopic(String bootstrapServers, String topic) {
        for (Transformation<?> t : transformations) {
            if (t instanceof SourceTransformation<?, ?, ?> source
                    && source.getSource() instanceof LineageVertexProvider lineage
                    && reads(lineage, bootstrapServers, topic)) {
                return true;
            }
        }
        return false;
    }

    private static boolean reads(LineageVertexProvider source, String bootstrap, String topic) {
        List<LineageDataset> datasets;
        try {
            datasets = source.getLineageVertex().datasets();
        } catch (RuntimeException e) {
            return false; // a source of another kind whose lineage is not available when built
        }
        for (LineageDataset dataset : datasets) {
            for (LineageDatasetFacet facet : dataset.facets().values()) {
                if (facet instanceof KafkaDatasetFacet kafka) {
                    Properties props = kafka.getProperties();
                    List<String> topics = kafka.getTopicIdentifier().getTopics();
                    if (props != null
                            && bootstrap.equals(props.getProperty("bootstrap.servers"))
                            && topics != null
                            && topics.contains(topic)) {
                        return true;
                    }
                }
            }
        }
        return false;
    }

    /** Whether an exactly-once sink of the kit in this job uses {@code prefix}. */
    public boolean usesTransactionalIdPrefix(String prefix) {
        String description = transactionalSinkDescription(prefix);
        for (Transformation<?> t : transformations) {
            if (t instanceof SinkTransformation<?, ?> && description.equals(t.getDescription())) {
                return true;
            }
        }
        return false;
    }

    /**
     * The description of a kit exactly-once sink with {@code prefix} (shown in Flink's web UI, read
     * back by {@link #usesTransactionalIdPrefix}).
     */
    public static String transactionalSinkDescription(String prefix) {
        return PREFIX_DESCRIPTION + "'" + prefix + "'";
    }
}
