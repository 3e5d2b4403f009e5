package io.github.flinkkafkakit.examples;

import io.github.flinkkafkakit.core.serde.JsonSerde;
import io.github.flinkkafkakit.core.serde.Serde;

import org.apache.flink.api.common.typeinfo.TypeInformation;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * One parsed log line of the {@code log-analytics} example: {@code
 * {"ts":"2026-11-24T10:00:01.234Z","service":"checkout","level":"ERROR","latency_ms":123,"msg":"…"}}.
 * A Flink POJO.
 */
public class LogEvent {

    public long timestamp;
    public String service;
    public String level;

    /** Latency in ms, or -1 when the line has none. */
    public long latencyMs = -1;

    public LogEvent() {}

    public boolean isError() {
        return "ERROR".equalsIgnoreCase(level);
    }

    /**
     * Parses log lines strictly: not JSON, a missing or non-ISO-8601 {@code ts}, or a missing or
     * empty {@code service} throw, so the source's error policy sends the line to the dead-letter
     * topic.
     */
    static final class LineSerde implements Serde<LogEvent> {
        private static final long serialVersionUID = 1L;
        private final JsonSerde<JsonNode> json = JsonSerde.tree();

        @Override
        public byte[] serialize(LogEvent value) {
            throw new UnsupportedOperationException("log lines are only read");
        }

        @Override
        public LogEvent deserialize(byte[] bytes) {
            if (bytes == null) {
                return null;
            }
            JsonNode node = json.deserialize(bytes);
            if (!node.isObject()) {
                throw new IllegalArgumentException("a log line must be a JSON object");
            }
            JsonNode ts = node.get("ts");
            JsonNode service = node.get("service");
            if (ts == null || !ts.isTextual()) {
                throw new IllegalArgumentException("missing \"ts\" (ISO-8601 UTC timestamp)");
            }
            if (service == null || !service.isTextual() || service.asText().isBlank()) {
                throw new IllegalArgumentException("missing \"service\"");
            }
            LogEvent event = new LogEvent();
            try {
                event.timestamp = Instant.parse(ts.asText()).toEpochMilli();
            } catch (DateTimeParseException e) {
                throw new IllegalArgumentException("invalid \"ts\": " + ts.asText());
            }
            event.service = service.asText();
            JsonNode level = node.get("level");
            event.level = level == null ? "" : level.asText();
            JsonNode latency = node.get("latency_ms");
            event.latencyMs = latency != null && latency.canConvertToLong() ? latency.asLong() : -1;
            return event;
        }

        @Override
        public TypeInformation<LogEvent> typeInformation() {
            return TypeInformation.of(LogEvent.class);
        }
    }
}
