package io.github.flinkkafkakit.core.serde;

/** A small custom type for the Kafka serde adapter tests (a Flink POJO, as a Java record). */
public record Point(int x, int y) {}
