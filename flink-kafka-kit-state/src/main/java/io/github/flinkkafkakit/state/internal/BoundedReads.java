package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.KafkaConnection;

import org.apache.flink.annotation.Internal;

import org.apache.kafka.clients.consumer.ConsumerConfig;

import java.util.Properties;

/**
 * Consumer settings of the kit's reads that stop at the end offsets found at their start (the
 * positions topic, the changelog on a restore, {@code ChangelogReader}).
 */
@Internal
public final class BoundedReads {

    private BoundedReads() {}

    /**
     * The connection's client properties with: committed records only, no offsets committed, from
     * the earliest offset, and no wait for data past the end.
     */
    public static Properties consumerProperties(KafkaConnection connection) {
        Properties props = connection.clientProperties();
        props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        // Everything up to the end offsets is there to read, so the broker need not wait for more
        // data. With the default (500 ms) the last fetch of each read waited that long (a job start
        // reads the positions topic several times in a row), and a fetch still out when a restore
        // ended held up closing its consumer.
        props.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, "10");
        return props;
    }
}
