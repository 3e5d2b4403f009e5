package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.KafkaConnection;
import io.github.flinkkafkakit.core.KafkaIn;
import io.github.flinkkafkakit.core.preflight.KafkaPreflight;

import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.io.PrintWriter;
import java.time.Duration;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Prints a progress line every few seconds while a job runs: how much input the job has committed
 * (the source commits its consumer group's offsets at each checkpoint), against the end offsets of
 * a bounded run. Nothing is printed for runs shorter than the interval.
 */
final class Progress implements AutoCloseable {

    private final Thread thread;
    private volatile boolean stopped;

    /**
     * @param end the offsets where a bounded run stops (empty: unbounded, no percentage)
     */
    Progress(
            PrintWriter out,
            KafkaConnection connection,
            String groupId,
            Map<TopicPartition, Long> end,
            Duration every) {
        long total = end.values().stream().mapToLong(Long::longValue).sum();
        thread =
                new Thread(
                        () -> {
                            try (KafkaPreflight kafka = new KafkaPreflight(connection)) {
                                while (!sleep(every)) {
                                    long committed = committed(kafka, groupId);
                                    String line =
                                            total > 0
                                                    ? String.format(
                                                            Locale.ROOT,
                                                            "progress: %,d of %,d input records"
                                                                    + " committed (%d %%)",
                                                            committed,
                                                            total,
                                                            committed * 100 / total)
                                                    : String.format(
                                                            Locale.ROOT,
                                                            "progress: %,d input records committed",
                                                            committed);
                                    synchronized (out) {
                                        out.println(line);
                                        out.flush();
                                    }
                                }
                            } catch (RuntimeException e) {
                                // Progress is informative only; never disturb the job.
                            }
                        },
                        "fkk-progress");
        thread.setDaemon(true);
    }

    /** A started progress printer (every 5 s) for a job reading through {@code in}. */
    static Progress of(PrintWriter out, KafkaConnection connection, String groupId, KafkaIn<?> in) {
        return new Progress(out, connection, groupId, in.stoppingOffsets(), Duration.ofSeconds(5))
                .start();
    }

    Progress start() {
        thread.start();
        return this;
    }

    private boolean sleep(Duration every) {
        try {
            long until = System.nanoTime() + every.toNanos();
            while (!stopped && System.nanoTime() < until) {
                Thread.sleep(100);
            }
        } catch (InterruptedException e) {
            return true;
        }
        return stopped;
    }

    private static long committed(KafkaPreflight kafka, String groupId) {
        try {
            Map<TopicPartition, OffsetAndMetadata> offsets =
                    kafka.admin()
                            .listConsumerGroupOffsets(groupId)
                            .partitionsToOffsetAndMetadata()
                            .get(5, TimeUnit.SECONDS);
            return offsets.values().stream()
                    .filter(o -> o != null)
                    .mapToLong(OffsetAndMetadata::offset)
                    .sum();
        } catch (Exception e) {
            return 0;
        }
    }

    @Override
    public void close() {
        stopped = true;
        thread.interrupt();
    }
}
