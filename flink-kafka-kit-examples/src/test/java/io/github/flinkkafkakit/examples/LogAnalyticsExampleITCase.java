package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.testing.KafkaBrokerExtension;
import io.github.flinkkafkakit.testing.KafkaTestClient;
import io.github.flinkkafkakit.testing.KeyValue;

import org.apache.kafka.clients.consumer.ConsumerRecord;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/** log-analytics over shuffled lines with malformed ones mixed in, against a real broker. */
class LogAnalyticsExampleITCase {

    @RegisterExtension static final KafkaBrokerExtension KAFKA = new KafkaBrokerExtension();

    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void shouldCountEveryWindowExactlyAndDeadLetterExactlyTheMalformedLines() throws Exception {
        KafkaTestClient kafka = KAFKA.client();
        String in = kafka.createUniqueTopic("logs", 3);
        String out = KafkaTestClient.uniqueTopicName("log-stats");
        String dlq = KafkaTestClient.uniqueTopicName("logs-dlq");
        Random random = new Random(17);
        // Recent: window results carry their end as timestamp, and the broker deletes records
        // older than its retention (7 days) once their segment rolls.
        Instant base = Instant.now().truncatedTo(ChronoUnit.HOURS).minus(Duration.ofHours(2));
        List<KeyValue<String, String>> lines = new ArrayList<>();
        Map<String, long[]> expected = new TreeMap<>();
        List<String> malformed = new ArrayList<>();
        String[] services = {"checkout", "search", "auth"};
        for (int i = 0; i < 12_000; i++) {
            String service = services[random.nextInt(services.length)];
            Instant ts = base.plusMillis(random.nextInt(5 * 60_000));
            boolean error = random.nextInt(6) == 0;
            lines.add(
                    KeyValue.of(
                            service,
                            String.format(
                                    Locale.ROOT,
                                    "{\"ts\":\"%s\",\"service\":\"%s\",\"level\":\"%s\",\"latency_ms\":%d,\"msg\":\"m\"}",
                                    ts,
                                    service,
                                    error ? "ERROR" : "INFO",
                                    random.nextInt(500))));
            long start = ts.toEpochMilli() - ts.toEpochMilli() % 60_000;
            long[] cell =
                    expected.computeIfAbsent(
                            service + "|" + Instant.ofEpochMilli(start), k -> new long[2]);
            cell[0]++;
            cell[1] += error ? 1 : 0;
        }
        malformed.addAll(
                List.of(
                        "not json at all",
                        "{\"service\":\"auth\",\"level\":\"INFO\"}",
                        "{\"ts\":\"not-a-time\",\"service\":\"auth\"}",
                        "{\"ts\":\"2026-11-24T10:00:01Z\",\"level\":\"ERROR\"}",
                        "{\"ts\":\"2026-11-24T10:00:01Z\",\"service\":\"\"}",
                        "[]"));
        malformed.forEach(m -> lines.add(KeyValue.of("bad", m)));
        Collections.shuffle(lines, random); // arbitrary event-time order
        kafka.produce(in, lines);

        ExampleRun run =
                ExampleRun.of(
                        "log-analytics",
                        "--bootstrap-servers",
                        KAFKA.bootstrapServers(),
                        "--input-topic",
                        in,
                        "--output-topic",
                        out,
                        "--dlq-topic",
                        dlq,
                        "--group-id",
                        "g-" + in,
                        "--checkpoint-interval",
                        "300ms",
                        "--bounded");

        assertThat(run.exitCode()).as(run.all()).isZero();
        Map<String, long[]> actual = new TreeMap<>();
        for (ConsumerRecord<String, String> r : kafka.consumeAll(out)) {
            JsonNode n = JSON.readTree(r.value());
            assertThat(r.key()).isEqualTo(n.get("service").asText());
            assertThat(Instant.parse(n.get("window_end").asText()))
                    .isEqualTo(Instant.parse(n.get("window_start").asText()).plusSeconds(60));
            long[] previous =
                    actual.put(
                            n.get("service").asText() + "|" + n.get("window_start").asText(),
                            new long[] {n.get("count").asLong(), n.get("errors").asLong()});
            assertThat(previous).as("one result per window").isNull();
        }
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        expected.forEach((k, v) -> assertThat(actual.get(k)).as(k).containsExactly(v));
        List<String> letters =
                kafka.consumeAllBytes(dlq, Duration.ofSeconds(2)).stream()
                        .map(r -> new String(r.value(), StandardCharsets.UTF_8))
                        .sorted()
                        .collect(Collectors.toList());
        assertThat(letters).isEqualTo(malformed.stream().sorted().collect(Collectors.toList()));
    }

    @Test
    void shouldRunEveryExampleOnTheEmbeddedBroker() {
        for (String[] args :
                List.of(
                        new String[] {"stateful-total", "--records", "5000"},
                        new String[] {"log-analytics", "--records", "5000"},
                        new String[] {"page-views", "--records", "5000"})) {
            ExampleRun run = ExampleRun.of(args);
            assertThat(run.exitCode()).as(run.all()).isZero();
            assertThat(run.out()).contains(" exact");
        }
    }
}
