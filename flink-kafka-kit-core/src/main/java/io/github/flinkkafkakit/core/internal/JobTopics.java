package io.github.flinkkafkakit.core.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.streaming.api.environment.StreamExecutionEnvironment;

import java.util.Collections;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.WeakHashMap;

/**
 * Remembers, per execution environment (one job being built), which Kafka topics the kit's sources
 * read and which transactional id prefixes its sinks use, so a sink can refuse to write to a topic
 * the same job reads (a feedback loop) or to reuse another sink's prefix.
 */
@Internal
public final class JobTopics {

    private static final Map<StreamExecutionEnvironment, JobTopics> BY_ENV = new WeakHashMap<>();

    private final Set<String> sourceTopics = new HashSet<>();
    private final Set<String> transactionalIdPrefixes = new HashSet<>();
    private final Set<String> uids = new HashSet<>();

    private JobTopics() {}

    public static synchronized JobTopics of(StreamExecutionEnvironment env) {
        return BY_ENV.computeIfAbsent(env, e -> new JobTopics());
    }

    private static String id(String bootstrapServers, String topic) {
        return bootstrapServers + "/" + topic;
    }

    public synchronized void addSourceTopic(String bootstrapServers, String topic) {
        sourceTopics.add(id(bootstrapServers, topic));
    }

    public synchronized boolean isSourceTopic(String bootstrapServers, String topic) {
        return sourceTopics.contains(id(bootstrapServers, topic));
    }

    /** Adds the prefix; {@code false} when another sink of this job already uses it. */
    public synchronized boolean addTransactionalIdPrefix(String prefix) {
        return transactionalIdPrefixes.add(prefix);
    }

    /**
     * {@code base}, or {@code base-2}, {@code base-3}, … when this job already has an operator with
     * that uid (e.g. two sinks to one topic). Deterministic for the same job graph.
     */
    public synchronized String uniqueUid(String base) {
        String uid = base;
        for (int i = 2; !uids.add(uid); i++) {
            uid = base + "-" + i;
        }
        return uid;
    }

    public synchronized Set<String> sourceTopics() {
        return Collections.unmodifiableSet(new HashSet<>(sourceTopics));
    }
}
