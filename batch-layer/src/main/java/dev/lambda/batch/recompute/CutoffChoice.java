package dev.lambda.batch.recompute;

import dev.lambda.batch.ingest.MasterDataset;
import dev.lambda.common.cassandra.SpeedPartitionStatus;
import dev.lambda.common.time.IngestSlots;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * Chooses the cutoff T of a recompute (DESIGN §4): everything ingested before T must already be in
 * the master dataset, so T is derived from when the last ingest started, never from "now". An
 * explicit cutoff is held to the same bound: it may lie before the derived one, never after it.
 */
public final class CutoffChoice {

    private CutoffChoice() {
    }

    /**
     * @param explicit        {@code --cutoff}, if given
     * @param lastIngestStart when the last successful ingest started (or appended the first record of a
     *                        transaction it found open), if any
     * @param now             the time of the run: with no ingest at all, an explicit cutoff must not be later
     *                        than the one an ingest starting now would get
     */
    public static Instant choose(Optional<Instant> explicit, Optional<Instant> lastIngestStart, IngestSlots slots, Duration margin,
                                 Instant now) {
        if (explicit.isEmpty()) {
            return slots.cutoff(lastIngestStart.orElseThrow(() -> new IllegalArgumentException(
                    "no ingest has run on this master dataset yet: run ingest (or give --cutoff explicitly)")), margin);
        }
        Instant t = explicit.get();
        if (lastIngestStart.isPresent()) {
            Instant latest = slots.cutoff(lastIngestStart.get(), margin);
            if (t.isAfter(latest)) {
                throw new IllegalArgumentException("cutoff " + t + " is after " + latest + ", the latest the last ingest (complete before "
                        + lastIngestStart.get() + ") allows with --safety-margin " + margin + ": events ingested in between may not be"
                        + " in the master dataset yet; run ingest first");
            }
        } else if (t.isAfter(slots.cutoff(now, margin))) {
            throw new IllegalArgumentException("cutoff " + t + " is after " + slots.cutoff(now, margin) + ", the latest an ingest"
                    + " starting now could give (--safety-margin " + margin + "): events after it do not exist yet, and the speed"
                    + " layer's rows before it would not be read");
        }
        return t;
    }

    /**
     * Refuses a cutoff before which the events topic holds records while no ingest has archived any:
     * they are not in the master dataset, and the speed layer's rows of their slots, before the
     * cutoff, would not be read (a speed layer that has not recorded its progress yet would not show it).
     *
     * @param partitions the topic's partitions with a record appended before {@code cutoff}
     */
    public static void requireNothingUnarchivedBefore(Instant cutoff, List<Integer> partitions, String topic) {
        if (!partitions.isEmpty()) {
            throw new IllegalArgumentException("no ingest has run on this master dataset, but Kafka topic " + topic + " holds records"
                    + " appended before cutoff " + cutoff + " (partitions " + partitions + "): they are not in the master dataset, and"
                    + " the speed layer's rows of slots before the cutoff would not be read. Run ingest first (or `run`)");
        }
    }

    /**
     * Whether an import under way went without a sign of life for longer than
     * {@link MasterDataset#ABANDONED_AFTER}: it was killed, and is to be removed. (One without any,
     * an earlier release's, is never taken for abandoned: it holds cutoffs until it is removed.)
     */
    public static boolean abandoned(MasterDataset.ImportUnderWay underWay, Instant now) {
        return underWay.lastSignOfLife().map(last -> Duration.between(last, now).compareTo(MasterDataset.ABANDONED_AFTER) > 0)
                .orElse(false);
    }

    /**
     * The cutoff held at or before the start of every import under way: its rows carry that start as
     * their ingest time and are not in the master dataset until it completes, so a generation with
     * a later cutoff would lack them, and a later run at the same cutoff would count them. (An
     * import that was killed leaves its folder: {@link #abandoned} tells when to remove it.)
     *
     * @param imports  each import under way, by its folder, with its start
     * @param explicit whether {@code cutoff} was given ({@code --cutoff}): then it is refused rather than moved
     */
    public static Instant beforeImportsUnderWay(Instant cutoff, boolean explicit, Map<String, Instant> imports, IngestSlots slots) {
        Optional<Map.Entry<String, Instant>> earliest = imports.entrySet().stream().min(Map.Entry.comparingByValue());
        if (earliest.isEmpty() || !cutoff.isAfter(earliest.get().getValue())) {
            return cutoff;
        }
        String which = "the import written in " + earliest.get().getKey() + ", started at " + earliest.get().getValue() + ", is not"
                + " complete: its rows, ingested then, are not in the master dataset yet (one killed is removed once it has shown no sign"
                + " of life for " + MasterDataset.ABANDONED_AFTER.toMinutes() + " min, on a local or HDFS dataset; a folder without its"
                + " _begun mark, or on another file system, is removed by hand)";
        if (explicit) {
            throw new IllegalArgumentException("cutoff " + cutoff + " is after " + earliest.get().getValue() + ": " + which);
        }
        return slots.floor(earliest.get().getValue());
    }

    /**
     * Refuses a cutoff the speed layer's rows recorded in the keyspace cannot take over from: readers
     * take the speed rows of slots at or after T (DESIGN §4), so every event ingested before T must
     * be in the master dataset, no speed row that may hold events after T may have a slot before T,
     * and the rows of slots from T on must still be alive. Otherwise events would be in neither
     * layer's answer until a later batch.
     *
     * @param ingested whether an ingest has ever run on the master dataset
     */
    public static void requireSpeedAgreement(Instant cutoff, boolean ingested, List<SpeedPartitionStatus> speed, Instant now) {
        if (!ingested) {
            grouped(speed, s -> Stream.ofNullable(newestRow(s))).forEach((application, p) -> {
                throw new IllegalStateException("no ingest has run on this master dataset, but speed-layer application " + application
                        + " has counted events of its partitions " + partitionsOf(p) + ": they are not in the master dataset, and its"
                        + " rows of slots before the cutoff would not be read. Run ingest first");
            });
        }
        grouped(speed, s -> straddling(cutoff, s)).forEach((application, p) -> {
            Duration width = p.keySet().iterator().next();
            throw new IllegalStateException("cutoff " + cutoff + " is not a slot boundary of speed-layer application " + application
                    + ", whose rows have slots " + width + " wide (partitions " + p.get(width) + "): the speed rows of the slot it falls"
                    + " in would not be read. Choose a cutoff on a " + width + " boundary (the batch's --slot-width a multiple of "
                    + width + ", or such a --cutoff). A width the application no longer writes stops counting for cutoffs after the"
                    + " slot its last rows of that width are in, and once they have expired");
        });
        grouped(speed, s -> expiredAfter(cutoff, s, now) ? Stream.of(shortestTtl(s)) : Stream.empty()).forEach((application, p) -> {
            Duration ttl = p.keySet().iterator().next();
            throw new IllegalStateException("cutoff " + cutoff + " is more than the TTL of speed-layer application " + application
                    + "'s rows (" + ttl + ") before now: its rows of slots from the cutoff on written before " + now.minus(ttl)
                    + " (partitions " + p.get(ttl) + ") have expired, so their events would be in neither layer's answer. Choose a"
                    + " later cutoff (run ingest first, for a later derived one)");
        });
    }

    /**
     * Why the speed layer's rows of a view version may lack records ingested from the cutoff on, or
     * empty if they hold all of them: readers of a version published with cutoff T take its speed
     * rows from T on (DESIGN §4). The speed layer starts a version with the first record it
     * processes with a views file that has it, so after a view changes, or changes back, the rows of
     * the version it now runs lack the records before that restart. On every input partition, the
     * application furthest on it (the greatest next offset; on a tie, the one whose progress was
     * recorded last) must report the version, since before T: its rows are the ones that go on (an
     * application started over under a new id leaves the old one's status behind, which must not
     * count). A partition whose furthest application reports no versions (one of a release before
     * they were reported) is not checked: nothing is known to be missing there. The
     * status is read when the run starts: a restart of the speed layer with another views file
     * while a run writes is the change of files the README rules out (every layer on one file).
     *
     * @param versionKey the view's {@code ViewDefinition.versionKey()}
     */
    public static Optional<String> speedGap(String versionKey, Instant cutoff, List<SpeedPartitionStatus> speed) {
        List<SpeedPartitionStatus> going = SpeedPartitionStatus.reportingVersions(speed);
        List<String> reasons = new ArrayList<>();
        grouped(going, s -> gapOf(s, versionKey, cutoff).stream()).forEach((application, gaps) -> {
            Optional<Instant> latest = going.stream().filter(s -> s.applicationId().equals(application))
                    .map(s -> s.viewVersions().get(versionKey)).filter(Objects::nonNull).max(Instant::compareTo)
                    .filter(since -> !since.isBefore(cutoff));
            reasons.add("speed-layer application " + application + " " + gaps.entrySet().stream()
                    .map(g -> g.getKey() + " on partitions " + g.getValue()).collect(Collectors.joining(", "))
                    + latest.map(since -> " (the latest at " + since + ")").orElse(""));
        });
        return reasons.isEmpty() ? Optional.empty() : Optional.of(String.join("; ", reasons));
    }

    /** Why a partition's rows of a view version may lack records from the cutoff on; empty if they hold them all. */
    private static Optional<String> gapOf(SpeedPartitionStatus s, String versionKey, Instant cutoff) {
        Instant since = s.viewVersions().get(versionKey);
        if (since == null) {
            return Optional.of("does not run it");
        }
        return since.isBefore(cutoff) ? Optional.empty() : Optional.of("started it at or after the cutoff");
    }

    /**
     * The widths of a partition's rows that may have a slot starting before the cutoff and holding
     * events after it: the width it was last written with (its next events may land in the slot T
     * falls in), and an older one while its rows reach that slot.
     */
    private static Stream<Duration> straddling(Instant cutoff, SpeedPartitionStatus s) {
        Instant newest = newestWidthIngest(s);
        return s.slotWidths().entrySet().stream().filter(w -> {
            IngestSlots slots = new IngestSlots(w.getKey());
            return !slots.isBoundary(cutoff) && (w.getValue().equals(newest) || !w.getValue().isBefore(slots.floor(cutoff)));
        }).map(Map.Entry::getKey);
    }

    /** Whether a partition may have had rows of slots at or after the cutoff that have expired by now. */
    private static boolean expiredAfter(Instant cutoff, SpeedPartitionStatus s, Instant now) {
        Instant newest = newestRow(s);
        return !s.rowsTtls().isEmpty() && newest != null && !newest.isBefore(cutoff) && cutoff.isBefore(now.minus(shortestTtl(s)));
    }

    /**
     * The newest ingest a partition's rows may hold: its progress's, or with none recorded yet (a
     * width is recorded just before the rows written with it), its widths'; {@code null} if neither.
     */
    private static Instant newestRow(SpeedPartitionStatus s) {
        return s.newestIngest() != null ? s.newestIngest() : newestWidthIngest(s);
    }

    /** How far the rows of the width last written reach; {@code null} with no width recorded. */
    private static Instant newestWidthIngest(SpeedPartitionStatus s) {
        return s.slotWidths().values().stream().max(Instant::compareTo).orElse(null);
    }

    private static Duration shortestTtl(SpeedPartitionStatus s) {
        return s.rowsTtls().stream().min(Duration::compareTo).orElseThrow();
    }

    /** Application -> key -> the partitions (in order) a key was found in. */
    private static <K extends Comparable<K>> Map<String, Map<K, List<Integer>>> grouped(List<SpeedPartitionStatus> speed,
                                                                                       Function<SpeedPartitionStatus, Stream<K>> keys) {
        Map<String, Map<K, List<Integer>>> grouped = new TreeMap<>();
        speed.stream().sorted(Comparator.comparingInt(SpeedPartitionStatus::partition)).forEach(s -> keys.apply(s).forEach(k ->
                grouped.computeIfAbsent(s.applicationId(), a -> new TreeMap<>()).computeIfAbsent(k, x -> new ArrayList<>())
                        .add(s.partition())));
        return grouped;
    }

    private static List<Integer> partitionsOf(Map<?, List<Integer>> byKey) {
        return byKey.values().stream().flatMap(List::stream).distinct().sorted().toList();
    }
}
