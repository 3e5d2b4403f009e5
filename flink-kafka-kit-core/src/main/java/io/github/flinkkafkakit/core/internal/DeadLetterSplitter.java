package io.github.flinkkafkakit.core.internal;

import io.github.flinkkafkakit.core.errors.DeadLetter;

import org.apache.flink.annotation.Internal;
import org.apache.flink.streaming.api.functions.ProcessFunction;
import org.apache.flink.types.Either;
import org.apache.flink.util.Collector;
import org.apache.flink.util.OutputTag;

/** Sends {@code Left} values downstream and {@code Right} dead letters to a side output. */
@Internal
public final class DeadLetterSplitter<T> extends ProcessFunction<Either<T, DeadLetter>, T> {

    private static final long serialVersionUID = 1L;

    private final OutputTag<DeadLetter> deadLetters;

    public DeadLetterSplitter(OutputTag<DeadLetter> deadLetters) {
        this.deadLetters = deadLetters;
    }

    @Override
    public void processElement(Either<T, DeadLetter> value, Context ctx, Collector<T> out) {
        if (value.isLeft()) {
            out.collect(value.left());
        } else {
            ctx.output(deadLetters, value.right());
        }
    }
}
