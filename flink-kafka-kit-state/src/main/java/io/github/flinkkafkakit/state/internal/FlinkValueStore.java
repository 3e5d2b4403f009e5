package io.github.flinkkafkakit.state.internal;

import org.apache.flink.annotation.Internal;
import org.apache.flink.api.common.state.ValueState;

import java.io.IOException;

/** A {@link ValueStore} in Flink's own {@code ValueState}, on whatever backend the job has. */
@Internal
final class FlinkValueStore<T> implements ValueStore<T> {

    private final ValueState<T> state;

    FlinkValueStore(ValueState<T> state) {
        this.state = state;
    }

    @Override
    public T get() throws IOException {
        return state.value();
    }

    @Override
    public void put(T value) throws IOException {
        if (value == null) {
            state.clear();
        } else {
            state.update(value);
        }
    }
}
