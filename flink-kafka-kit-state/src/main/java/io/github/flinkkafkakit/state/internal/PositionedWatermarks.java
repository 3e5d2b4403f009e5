package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;
import io.github.flinkkafkakit.core.internal.LeftWatermarks;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.TimestampAssignerSupplier;
import org.apache.flink.api.common.eventtime.WatermarkAlignmentParams;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.api.java.tuple.Tuple4;
import org.apache.flink.types.Either;

/**
 * A user's {@link WatermarkStrategy} for {@code T} applied in the source of a Kafka-state job,
 * whose records carry their position ({@link PositionedDeserializer}): values are timestamped and
 * drive the watermarks per partition, dead letters keep the Kafka timestamp and do not move event
 * time (as {@link LeftWatermarks} does for a plain source).
 */
@Internal
final class PositionedWatermarks<T>
        implements WatermarkStrategy<Tuple4<String, Integer, Long, Either<T, DeadLetter>>> {

    private static final long serialVersionUID = 1L;

    private final WatermarkStrategy<Either<T, DeadLetter>> values;

    PositionedWatermarks(WatermarkStrategy<T> inner) {
        this.values = LeftWatermarks.of(inner);
    }

    @Override
    public WatermarkGenerator<Tuple4<String, Integer, Long, Either<T, DeadLetter>>>
            createWatermarkGenerator(WatermarkGeneratorSupplier.Context context) {
        WatermarkGenerator<Either<T, DeadLetter>> generator =
                values.createWatermarkGenerator(context);
        return new WatermarkGenerator<>() {
            @Override
            public void onEvent(
                    Tuple4<String, Integer, Long, Either<T, DeadLetter>> event,
                    long timestamp,
                    WatermarkOutput output) {
                generator.onEvent(event.f3, timestamp, output);
            }

            @Override
            public void onPeriodicEmit(WatermarkOutput output) {
                generator.onPeriodicEmit(output);
            }
        };
    }

    @Override
    public TimestampAssigner<Tuple4<String, Integer, Long, Either<T, DeadLetter>>>
            createTimestampAssigner(TimestampAssignerSupplier.Context context) {
        TimestampAssigner<Either<T, DeadLetter>> assigner = values.createTimestampAssigner(context);
        return (event, recordTimestamp) -> assigner.extractTimestamp(event.f3, recordTimestamp);
    }

    @Override
    public WatermarkAlignmentParams getAlignmentParameters() {
        return values.getAlignmentParameters();
    }
}
