/**
 * How Kafka-backed state works inside; nothing here is API.
 *
 * <h2>A job</h2>
 *
 * <p>{@code KafkaStateJob} builds it: each source's {@link PositionsOperator} records input
 * positions; each Kafka-backed keyed operator ({@link KafkaStateProcessOperator}, {@link
 * KafkaStateCoProcessOperator}) runs its function on Kafka-backed state through a {@link
 * KafkaStateSupport}; sinks turn records into {@link KafkaWrite}s ({@link ToKafkaWrite}); and all
 * of it reaches the one {@link ChangelogWriter} (parallelism 1), which writes each checkpoint's
 * changes, positions, dead letters and outputs in one Kafka transaction ({@link
 * TransactionalProducer}, {@link PositionsTopic}, {@link CommitMarker}). {@link ChangelogTopology}
 * and {@link CheckpointSettings} refuse what would not survive a restart from Kafka alone.
 *
 * <h2>One Kafka-backed operator, by concern</h2>
 *
 * <ul>
 *   <li>{@link FlinkKeyedRuntime}: the only door to Flink's runtime (keyed backend, key groups,
 *       timers, raw keyed state, the function's keyed state store); {@code FlinkKeyedRuntimeTest}
 *       pins what it relies on.
 *   <li>{@link ChangelogStates}: the lifecycle order, and the flush of all states' changes at a
 *       barrier.
 *   <li>{@link StateRegistry}: the declared states and their changelog names ({@code
 *       <uid>/<name>}).
 *   <li>{@link ChangeContext}: a change as a changelog record, sent to the writer.
 *   <li>{@link StateRestore}: the restore from Kafka alone ({@link ChangelogRestorer} reads).
 *   <li>{@link TableSnapshots}: the kit's tables in Flink checkpoints (raw keyed state).
 *   <li>{@link ChangelogTimers}: timers as state.
 *   <li>{@link ChangelogKeyedStateStore}: what the function's {@code getState(...)} gets.
 * </ul>
 *
 * <h2>A state, by layer</h2>
 *
 * <p>Stacked the way Kafka Streams stacks its stores, each layer a small class:
 *
 * <pre>
 *   TtlValueState            TTL (optional): values stamped with their last update, expiry timers
 *   TrackedValueState        change layer: the keys changed since the last barrier, or
 *   | WriteBehindValueState    the latest values themselves (String keys off the heap)
 *   FlinkValueStore          store: Flink's state (any backend), or
 *   | TableValueStore          the kit's table (String keys on the heap backend)
 * </pre>
 *
 * <p>{@link LoggedValueState} is what the change layers share (a value as a record, the restore of
 * a record into the store). Map and list states are Flink's with change tracking ({@link
 * ChangelogMapState}, {@link ChangelogListState}); reducing and aggregating states are value states
 * of the reduced value or accumulator.
 *
 * <p>{@link FaultPoints} marks the commit points of the exactly-once path (operator snapshot,
 * writer send, after pre-commit, before and after commit) where tests inject a failure; it does
 * nothing unless armed.
 */
package io.github.flinkkafkakit.state.internal;
