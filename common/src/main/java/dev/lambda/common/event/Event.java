package dev.lambda.common.event;

import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A valid business event (DESIGN §2). Attribute values are kept as the canonical text of the JSON
 * scalar (string content, the number's literal, {@code true}/{@code false}), so every layer groups,
 * sums and sketches exactly the same strings.
 *
 * @param id    idempotency key: same id, same event
 * @param type  event type, selects the views the event feeds
 * @param ts    event time
 * @param attrs flat attributes
 */
public record Event(String id, String type, Instant ts, Map<String, String> attrs) {

    public Event {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(ts, "ts");
        attrs = Map.copyOf(attrs);
    }

    /** The attribute's canonical text, or {@code null} when the event does not have it. */
    public String attr(String name) {
        return attrs.get(name);
    }
}
