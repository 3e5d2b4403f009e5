package io.github.flinkkafkakit.core.serde;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SerdeStrictnessTest {

    /** A record class as users write them. */
    public record Event(String id, int amount) {}

    private static final JsonSerde<Event> EVENTS = JsonSerde.of(Event.class);

    private static final byte[] INVALID_UTF8 = {
        '{',
        '"',
        'i',
        'd',
        '"',
        ':',
        '"',
        (byte) 0xC3,
        (byte) 0x28,
        '"',
        ',',
        '"',
        'a',
        'm',
        'o',
        'u',
        'n',
        't',
        '"',
        ':',
        '1',
        '}'
    };

    private static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void shouldReadAndWriteARecordClass() {
        Event e = EVENTS.deserialize(utf8("{\"id\":\"e1\",\"amount\":3}"));

        assertThat(e).isEqualTo(new Event("e1", 3));
        assertThat(EVENTS.deserialize(EVENTS.serialize(e))).isEqualTo(e);
        assertThat(EVENTS.serialize(null)).isNull();
        assertThat(EVENTS.deserialize(null)).isNull();
    }

    @Test
    void shouldIgnoreUnknownFields() {
        assertThat(EVENTS.deserialize(utf8("{\"id\":\"e1\",\"amount\":3,\"extra\":[1,2]}")))
                .isEqualTo(new Event("e1", 3));
    }

    @Test
    void shouldRejectInvalidUtf8() {
        assertThatThrownBy(() -> EVENTS.deserialize(INVALID_UTF8))
                .hasMessageContaining("Not a valid Event JSON document");
        assertThatThrownBy(() -> JsonSerde.tree().deserialize(INVALID_UTF8))
                .hasMessageContaining("Not a valid JsonNode JSON document");
    }

    @Test
    void shouldRejectMalformedJson() {
        assertThatThrownBy(() -> EVENTS.deserialize(utf8("{\"id\": \"e1\", amount: }")))
                .hasMessageContaining("Not a valid Event JSON document");
        assertThatThrownBy(() -> JsonSerde.tree().deserialize(utf8("{\"a\":")))
                .hasMessageContaining("Not a valid JsonNode JSON document");
    }

    @Test
    void shouldRejectTheWrongShape() {
        assertThatThrownBy(() -> EVENTS.deserialize(utf8("{\"id\":\"e2\",\"amount\":\"lots\"}")))
                .hasMessageContaining("Not a valid Event");
        assertThatThrownBy(() -> EVENTS.deserialize(utf8("[1,2,3]")))
                .hasMessageContaining("Not a valid Event");
        assertThatThrownBy(() -> EVENTS.deserialize(utf8("{\"id\":\"e3\"}")))
                .as("missing record component")
                .hasMessageContaining("Not a valid Event");
        assertThatThrownBy(() -> EVENTS.deserialize(utf8("{\"id\":\"e3\",\"amount\":null}")))
                .as("null for a primitive")
                .hasMessageContaining("Not a valid Event");
        assertThatThrownBy(() -> EVENTS.deserialize(utf8("null")))
                .hasMessageContaining("JSON null is not a Event");
    }

    @Test
    void shouldRejectANumberThatDoesNotFitAnIntFieldInsteadOfTruncatingIt() {
        for (String amount : List.of("3.5", "-0.5", "1.0", "1e2", "2147483648", "1e400")) {
            assertThatThrownBy(
                            () ->
                                    EVENTS.deserialize(
                                            utf8("{\"id\":\"e5\",\"amount\":" + amount + "}")))
                    .as(amount)
                    .hasMessageContaining("Not a valid Event");
        }
        assertThat(EVENTS.deserialize(utf8("{\"id\":\"e5\",\"amount\":-2147483648}")))
                .isEqualTo(new Event("e5", Integer.MIN_VALUE));
    }

    @Test
    void shouldRejectTrailingTokens() {
        assertThatThrownBy(() -> EVENTS.deserialize(utf8("{\"id\":\"e4\",\"amount\":4} xyz")))
                .hasMessageContaining("Not a valid Event");
        assertThatThrownBy(() -> JsonSerde.tree().deserialize(utf8("{\"a\":1} {\"b\":2}")))
                .hasMessageContaining("Not a valid JsonNode");
    }

    @Test
    void shouldReadTreesWithTheirOwnTypeInformation() {
        JsonNode tree = JsonSerde.tree().deserialize(utf8("{\"a\":[1,{\"b\":null}]}"));

        assertThat(tree.get("a").get(1).get("b").isNull()).isTrue();
        assertThat(JsonSerde.tree().typeInformation()).isInstanceOf(JsonNodeTypeInfo.class);
    }

    @Test
    void strictStringShouldRejectInvalidUtf8WhereStringReplacesIt() {
        byte[] bad = {'a', (byte) 0xC3, (byte) 0x28};

        assertThat(Serdes.string().deserialize(bad)).isEqualTo("a\uFFFD(");
        assertThatThrownBy(() -> Serdes.strictString().deserialize(bad))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("Not valid UTF-8 text");
        assertThat(Serdes.strictString().deserialize(utf8("grüße"))).isEqualTo("grüße");
        assertThat(Serdes.strictString().serialize("grüße")).isEqualTo(utf8("grüße"));
        assertThat(Serdes.strictString().deserialize(null)).isNull();
    }

    @Test
    void longAsTextShouldRejectNonNumbers() {
        assertThat(Serdes.longAsText().deserialize(utf8(" 42 "))).isEqualTo(42L);
        assertThatThrownBy(() -> Serdes.longAsText().deserialize(utf8("4x")))
                .isInstanceOf(NumberFormatException.class);
    }
}
