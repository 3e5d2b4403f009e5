package io.github.flinkkafkakit.core.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.eventtime.TimestampAssigner;
import org.apache.flink.api.common.eventtime.TimestampAssignerSupplier;
import org.apache.flink.api.common.eventtime.WatermarkAlignmentParams;
import org.apache.flink.api.common.eventtime.WatermarkGenerator;
import org.apache.flink.api.common.eventtime.WatermarkGeneratorSupplier;
import org.apache.flink.api.common.eventtime.WatermarkOutput;
import org.apache.flink.api.common.eventtime.WatermarkStrategy;
import org.apache.flink.types.Either;

/**
 * Applies a user's {@link WatermarkStrategy} for {@code T} to a source of {@code Either<T,
 * DeadLetter>}: values are timestamped and drive the watermarks, dead letters keep the Kafka record
 * timestamp and do not move event time. Used in the source itself, so watermarks (and idleness)
 * stay per partition also when dead letters are split off afterwards.
 */
@Internal
public final class LeftWatermarks<T> implements WatermarkStrategy<Either<T, DeadLetter>> {

    private static final long serialVersionUID = 1L;

    private final WatermarkStrategy<T> inner;

    private LeftWatermarks(WatermarkStrategy<T> inner) {
        this.inner = inner;
    }

    public static <T> WatermarkStrategy<Either<T, DeadLetter>> of(WatermarkStrategy<T> inner) {
        return new LeftWatermarks<>(inner);
    }

    @Override
    public WatermarkGenerator<Either<T, DeadLetter>> createWatermarkGenerator(
            WatermarkGeneratorSupplier.Context context) {
        WatermarkGenerator<T> generator = inner.createWatermarkGenerator(context);
        return new WatermarkGenerator<>() {
            @Override
            public void onEvent(
                    Either<T, DeadLetter> event, long timestamp, WatermarkOutput output) {
                if (event.isLeft()) {
                    generator.onEvent(event.left(), timestamp, output);
                }
            }

            @Override
            public void onPeriodicEmit(WatermarkOutput output) {
                generator.onPeriodicEmit(output);
            }
        };
    }

    @Override
    public TimestampAssigner<Either<T, DeadLetter>> createTimestampAssigner(
            TimestampAssignerSupplier.Context context) {
        TimestampAssigner<T> assigner = inner.createTimestampAssigner(context);
        return (event, recordTimestamp) ->
                event.isLeft()
                        ? assigner.extractTimestamp(event.left(), recordTimestamp)
                        : recordTimestamp;
    }

    @Override
    public WatermarkAlignmentParams getAlignmentParameters() {
        return inner.getAlignmentParameters();
    }
}
