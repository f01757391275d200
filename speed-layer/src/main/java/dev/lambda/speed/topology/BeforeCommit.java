package dev.lambda.speed.topology;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.common.serialization.Serializer;
import org.apache.kafka.streams.KeyValue;
import org.apache.kafka.streams.processor.StateStore;
import org.apache.kafka.streams.processor.StateStoreContext;
import org.apache.kafka.streams.processor.TaskId;
import org.apache.kafka.streams.state.KeyValueIterator;
import org.apache.kafka.streams.state.KeyValueStore;
import org.apache.kafka.streams.state.StoreBuilder;
import org.apache.kafka.streams.state.internals.MeteredStateStore;
import org.apache.kafka.streams.state.internals.WrappedStateStore;

/**
 * Runs a task's own code just before Kafka Streams commits the task, so that its processor can
 * keep changing values in memory and put each in its store once per commit rather than once per
 * record, with exactly-once unchanged: what the hook puts is logged to the changelog inside the
 * transaction the commit ends, together with the input offsets it reflects.
 *
 * <p>The Processor API has no such hook. A store has one: before committing a task, Kafka Streams
 * flushes the caches of its stores ({@code CachedStateStore#flushCache}, called from
 * {@code StreamTask#prepareCommit} on every path that commits, a task's last commit as it closes
 * included). The store built by {@link #wrap} runs the task's hook first. This leans on that
 * internal call of Kafka Streams 4.3 (the public {@code StateStore#commit} comes after the offsets
 * are committed, too late). {@code SpeedTopologyTest} fails if {@code StreamTask} stops making it
 * before a commit, and {@code SpeedLayerIT}'s kill-and-restart test if Kafka Streams' task manager
 * commits any other way.
 */
final class BeforeCommit {

    private final Map<TaskId, Runnable> hooks = new ConcurrentHashMap<>();

    /**
     * {@code hook} runs before every commit of {@code task}, until the task's store closes or the
     * task's next incarnation registers its own. (An instance runs one incarnation of a task at a
     * time: the next takes the task's state directory lock, which the last one gives up after
     * closing its stores. An active task turned standby keeps its stores and so its hook, which a
     * standby task never runs: it makes no commit of its own.)
     */
    void register(TaskId task, Runnable hook) {
        hooks.put(task, hook);
    }

    /** Stores built by {@code builder}, each running its task's hook before its commits. */
    <K, V> StoreBuilder<KeyValueStore<K, V>> wrap(StoreBuilder<KeyValueStore<K, V>> builder) {
        return new StoreBuilder<>() {
            @Override
            public StoreBuilder<KeyValueStore<K, V>> withCachingEnabled() {
                builder.withCachingEnabled();
                return this;
            }

            @Override
            public StoreBuilder<KeyValueStore<K, V>> withCachingDisabled() {
                builder.withCachingDisabled();
                return this;
            }

            @Override
            public StoreBuilder<KeyValueStore<K, V>> withLoggingEnabled(Map<String, String> config) {
                builder.withLoggingEnabled(config);
                return this;
            }

            @Override
            public StoreBuilder<KeyValueStore<K, V>> withLoggingDisabled() {
                builder.withLoggingDisabled();
                return this;
            }

            @Override
            public KeyValueStore<K, V> build() {
                return new HookedStore<>(builder.build());
            }

            @Override
            public Map<String, String> logConfig() {
                return builder.logConfig();
            }

            @Override
            public boolean loggingEnabled() {
                return builder.loggingEnabled();
            }

            @Override
            public String name() {
                return builder.name();
            }
        };
    }

    /**
     * A key-value store that runs its task's hook before its cache (if any) is flushed for a commit.
     * It passes restore times on to the metered store it wraps, which records them only when it is
     * the store registered (this one is).
     */
    final class HookedStore<K, V> extends WrappedStateStore<KeyValueStore<K, V>, K, V>
            implements KeyValueStore<K, V>, MeteredStateStore {

        private TaskId task;

        private HookedStore(KeyValueStore<K, V> inner) {
            super(inner);
        }

        @Override
        public void init(StateStoreContext context, StateStore root) {
            task = context.taskId();
            super.init(context, root);
        }

        @Override
        public void flushCache() {
            Runnable hook = task == null ? null : hooks.get(task);
            if (hook != null) {
                hook.run();
            }
            super.flushCache();
        }

        @Override
        public void close() {
            if (task != null) {
                hooks.remove(task);
            }
            super.close();
        }

        @Override
        public void recordRestoreTime(long restoreTimeNs) {
            if (wrapped() instanceof MeteredStateStore metered) {
                metered.recordRestoreTime(restoreTimeNs);
            }
        }

        @Override
        public void put(K key, V value) {
            wrapped().put(key, value);
        }

        @Override
        public V putIfAbsent(K key, V value) {
            return wrapped().putIfAbsent(key, value);
        }

        @Override
        public void putAll(List<KeyValue<K, V>> entries) {
            wrapped().putAll(entries);
        }

        @Override
        public V delete(K key) {
            return wrapped().delete(key);
        }

        @Override
        public V get(K key) {
            return wrapped().get(key);
        }

        @Override
        public KeyValueIterator<K, V> range(K from, K to) {
            return wrapped().range(from, to);
        }

        @Override
        public KeyValueIterator<K, V> reverseRange(K from, K to) {
            return wrapped().reverseRange(from, to);
        }

        @Override
        public KeyValueIterator<K, V> all() {
            return wrapped().all();
        }

        @Override
        public KeyValueIterator<K, V> reverseAll() {
            return wrapped().reverseAll();
        }

        @Override
        public <PS extends Serializer<P>, P> KeyValueIterator<K, V> prefixScan(P prefix, PS prefixKeySerializer) {
            return wrapped().prefixScan(prefix, prefixKeySerializer);
        }

        @Override
        public long approximateNumEntries() {
            return wrapped().approximateNumEntries();
        }
    }
}
