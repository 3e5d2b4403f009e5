package io.github.flinkkafkakit.core.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.dag.Transformation;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.DefaultKafkaDatasetIdentifier;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetFacet;
import org.apache.flink.connector.kafka.lineage.KafkaDatasetIdentifier;
import org.apache.flink.streaming.api.datastream.DataStream;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;
import org.apache.flink.streaming.api.lineage.LineageDataset;
import org.apache.flink.streaming.api.lineage.LineageDatasetFacet;
import org.apache.flink.streaming.api.lineage.LineageVertexProvider;
import org.apache.flink.streaming.api.transformations.SinkTransformation;
import org.apache.flink.streaming.api.transformations.SourceTransformation;

import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Properties;
import java.util.Set;

/**
 * The job being built, read from its own graph of transformations: the uids taken, the Kafka topics
 * its sources read, the topics and transactional id prefixes of the kit's sinks. Builders check
 * against it (a sink writing to a topic the job reads, or a source reading one it writes; two sinks
 * sharing a prefix) and pick default uids not yet taken. Nothing is kept beside the graph, so what
 * is checked is what the job runs. Sources are found through Flink's lineage API, so the official
 * connector's {@code KafkaSource} counts too; the kit's sinks report a {@link SinkFacet} through
 * the same API (which lineage listeners see as an ordinary Kafka facet).
 *
 * <p>A stream that nothing consumes yet is not part of the graph: pass it to {@link #of} when a
 * check must see it (the stream a sink is being added to).
 */
@Internal
public final class JobGraph {

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
        for (KafkaDatasetFacet source : kafkaFacets(true, KafkaDatasetFacet.class)) {
            if (names(source, bootstrapServers, topic)) {
                return true;
            }
        }
        return false;
    }

    /** Whether an exactly-once sink of the kit in this job uses {@code prefix}. */
    public boolean usesTransactionalIdPrefix(String prefix) {
        for (SinkFacet sink : kafkaFacets(false, SinkFacet.class)) {
            if (prefix.equals(sink.transactionalIdPrefix)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Whether a sink of the kit in this job writes {@code topic} on the cluster at {@code
     * bootstrapServers} without having been allowed a feedback loop.
     */
    public boolean writesTopic(String bootstrapServers, String topic) {
        for (SinkFacet sink : kafkaFacets(false, SinkFacet.class)) {
            if (!sink.feedbackLoopAllowed && names(sink, bootstrapServers, topic)) {
                return true;
            }
        }
        return false;
    }

    /** Whether {@code facet} names {@code topic} on the cluster at {@code bootstrapServers}. */
    private static boolean names(KafkaDatasetFacet facet, String bootstrapServers, String topic) {
        Properties props = facet.getProperties();
        List<String> topics = facet.getTopicIdentifier().getTopics();
        return props != null
                && bootstrapServers.equals(props.getProperty("bootstrap.servers"))
                && topics != null
                && topics.contains(topic);
    }

    /**
     * The lineage facets of type {@code type} that the job's sources ({@code sources}) or sinks
     * report; none for a vertex whose lineage is not available while the job is built (a source or
     * sink of another kind may throw or return null).
     */
    private <F> List<F> kafkaFacets(boolean sources, Class<F> type) {
        List<F> found = new ArrayList<>();
        for (Transformation<?> t : transformations) {
            Object vertex = null;
            if (sources && t instanceof SourceTransformation<?, ?, ?> source) {
                vertex = source.getSource();
            } else if (!sources && t instanceof SinkTransformation<?, ?> sink) {
                vertex = sink.getSink();
            }
            if (vertex instanceof LineageVertexProvider lineage) {
                for (LineageDataset dataset : datasets(lineage)) {
                    for (LineageDatasetFacet facet : dataset.facets().values()) {
                        if (type.isInstance(facet)) {
                            found.add(type.cast(facet));
                        }
                    }
                }
            }
        }
        return found;
    }

    private static List<LineageDataset> datasets(LineageVertexProvider vertex) {
        try {
            List<LineageDataset> datasets = vertex.getLineageVertex().datasets();
            return datasets != null ? datasets : List.of();
        } catch (RuntimeException e) {
            return List.of();
        }
    }

    /**
     * What a sink of the kit reports through Flink's lineage API: the Kafka facet (topic, and the
     * producer properties the sink sets) and, for the kit's own checks, the transactional id prefix
     * of an exactly-once sink and whether a feedback loop was allowed. The sink's serializer makes
     * it when asked, in the client, from fields it carries anyway.
     */
    public static final class SinkFacet implements KafkaDatasetFacet {

        private final List<String> topics;
        private final String transactionalIdPrefix;
        private final boolean feedbackLoopAllowed;
        private Properties properties = new Properties();

        /**
         * @param transactionalIdPrefix the prefix of an exactly-once sink, else {@code null}
         */
        public SinkFacet(String topic, String transactionalIdPrefix, boolean feedbackLoopAllowed) {
            this.topics = List.of(topic);
            this.transactionalIdPrefix = transactionalIdPrefix;
            this.feedbackLoopAllowed = feedbackLoopAllowed;
        }

        @Override
        public String name() {
            return DefaultKafkaDatasetFacet.KAFKA_FACET_NAME;
        }

        @Override
        public Properties getProperties() {
            return properties;
        }

        @Override
        public void setProperties(Properties properties) {
            this.properties = properties;
        }

        @Override
        public KafkaDatasetIdentifier getTopicIdentifier() {
            return DefaultKafkaDatasetIdentifier.ofTopics(topics);
        }
    }
}
