package dev.lambda.cluster;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * The topics the system needs (DESIGN §1, §2): {@code events}, stamped with LogAppendTime so its
 * timestamps are ingest times from the broker's clock (which only goes backwards when that clock
 * steps back), and the dead-letter topic {@code events.dlq}. Creating them again is a no-op.
 */
public final class SystemTopics {

    public static final String EVENTS = "events";
    public static final String DEAD_LETTERS = "events.dlq";

    private SystemTopics() {
    }

    public static void create(Admin admin, int eventPartitions, int deadLetterPartitions) {
        create(admin, List.of(
                new NewTopic(EVENTS, eventPartitions, (short) 1)
                        .configs(Map.of(TopicConfig.MESSAGE_TIMESTAMP_TYPE_CONFIG, "LogAppendTime")),
                new NewTopic(DEAD_LETTERS, deadLetterPartitions, (short) 1)));
    }

    /** Creates the topics that do not exist yet and waits until they do. */
    public static void create(Admin admin, List<NewTopic> topics) {
        try {
            Set<String> existing = admin.listTopics().names().get(30, TimeUnit.SECONDS);
            List<NewTopic> missing = topics.stream().filter(t -> !existing.contains(t.name())).toList();
            if (missing.isEmpty()) {
                return;
            }
            admin.createTopics(missing).all().get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (!(e.getCause() instanceof TopicExistsException)) {
                throw new IllegalStateException("cannot create topics " + topics.stream().map(NewTopic::name).toList()
                        + ": " + e.getCause().getMessage(), e.getCause());
            }
        } catch (TimeoutException e) {
            throw new IllegalStateException("Kafka did not create topics within 30 s", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while creating topics", e);
        }
    }
}
