package dev.lambda.speed.config;

import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Whether the speed layer's views and slot width agree with what the batch layer has published for
 * them (DESIGN §4). Answers count the speed rows of slots at or after the cutoff; a slot that
 * straddles it holds events ingested after the cutoff under a slot before it, and they count in
 * neither layer until the batch publishes a cutoff at or after that slot's end (a partition whose
 * restored state closed its slots up to the cutoff goes on from there, in a slot of its own). That happens when
 * the widths change together (the gap closes with the next batch run), or when the batch runs with
 * a width that is not a multiple of this one (its runs then fail: it refuses cutoffs inside these
 * slots once they are written). A view whose version in this layer's views file the batch retired
 * is read by nobody until a batch run publishes it again. Either way the operator is told at start,
 * not at the next run.
 */
public final class PublishedCutoffs {

    private PublishedCutoffs() {
    }

    /** @return a warning for each view whose published cutoff is inside one of these slots, or whose version was retired */
    public static List<String> warnings(ViewStateTable states, ViewCatalog views, IngestSlots slots) {
        List<String> warnings = new ArrayList<>();
        for (ViewDefinition view : views.views()) {
            Optional<ViewState> found = states.find(view.name(), view.version()).toCompletableFuture().join();
            if (found.isEmpty()) {
                continue;
            }
            ViewState state = found.get();
            if (state.retired()) {
                warnings.add("view " + view.name() + " has version " + view.version() + " in this layer's views file, which the batch"
                        + " layer retired at " + state.retiredAt() + " for version " + state.replacedBy() + ": nobody reads the rows"
                        + " this layer writes for it until a batch run with this views file publishes it again (a roll-back); if"
                        + " this file is out of date, restart with the current one");
            } else if (!slots.isBoundary(state.cutoff())) {
                Instant cutoff = state.cutoff();
                Instant slotEnd = slots.floor(cutoff).plus(slots.width());
                warnings.add("view " + view.name() + " is published with cutoff " + cutoff + ", which is not a boundary of"
                        + " --slot-width " + slots.width() + ": events this layer counts that were ingested from " + cutoff + " to "
                        + slotEnd + " fall in a slot before the cutoff, and count in neither layer until the batch publishes a cutoff"
                        + " at or after " + slotEnd + " (except on partitions whose state had closed its slots up to the cutoff: they"
                        + " go on from there). The batch's --slot-width must be a multiple of this one (change the batch's first when"
                        + " widening, this layer's first when narrowing)");
            }
        }
        return warnings;
    }
}
