package io.github.flinkkafkakit.state.internal;

import io.github.flinkkafkakit.state.internal.FaultPoints.Action;
import io.github.flinkkafkakit.state.internal.FaultPoints.InjectedFault;
import io.github.flinkkafkakit.state.internal.FaultPoints.Point;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FaultPointsTest {

    @AfterEach
    void disarm() {
        FaultPoints.disarm();
    }

    @Test
    void shouldDoNothingUnlessArmed() {
        for (Point point : Point.values()) {
            FaultPoints.reach(point);
        }
        assertThat(FaultPoints.reached()).isZero();
    }

    @Test
    void shouldFireOnlyOnTheNthReachOfItsPointAndOnlyOnce() {
        int before = FaultPoints.fired(Point.BEFORE_COMMIT);
        FaultPoints.arm(Point.BEFORE_COMMIT, 3, Action.THROW);
        FaultPoints.reach(Point.AFTER_COMMIT); // another point does not count
        FaultPoints.reach(Point.BEFORE_COMMIT);
        FaultPoints.reach(Point.BEFORE_COMMIT);
        assertThatThrownBy(() -> FaultPoints.reach(Point.BEFORE_COMMIT))
                .isInstanceOf(InjectedFault.class)
                .hasMessageContaining("BEFORE_COMMIT")
                .hasMessageContaining("3 times");
        FaultPoints.reach(Point.BEFORE_COMMIT); // disarmed itself
        assertThat(FaultPoints.fired(Point.BEFORE_COMMIT) - before).isEqualTo(1);
    }

    @Test
    void shouldArmFromTheSpecOfItsSystemProperty() {
        FaultPoints.arm("writer_send:1:throw");
        assertThatThrownBy(() -> FaultPoints.reach(Point.WRITER_SEND))
                .isInstanceOf(InjectedFault.class);
        assertThatThrownBy(() -> FaultPoints.arm("WRITER_SEND:1"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("POINT:nth:ACTION");
        assertThatThrownBy(() -> FaultPoints.arm("NOWHERE:1:THROW"))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> FaultPoints.arm("WRITER_SEND:0:THROW"))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
