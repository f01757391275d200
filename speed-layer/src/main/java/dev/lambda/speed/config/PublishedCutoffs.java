package dev.lambda.speed.config;

import dev.lambda.common.cassandra.ViewState;
import dev.lambda.common.cassandra.ViewStateTable;
import dev.lambda.common.time.IngestSlots;
import dev.lambda.common.view.ViewCatalog;
import dev.lambda.common.view.ViewDefinition;
import java.time.Instant;
import java.util.Optional;

/**
 * Whether the speed layer's slot width agrees with the cutoffs the batch layer has published for
 * these views (DESIGN §4). Answers count the speed rows of slots at or after the cutoff; a slot that
 * straddles it holds events ingested after the cutoff under a slot before it, and they count in
 * neither layer until the batch publishes a cutoff at or after that slot's end. That happens when
 * the widths change together (the gap closes with the next batch run), or when the batch runs with
 * a width that is not a multiple of this one (its runs then fail: it refuses cutoffs inside these
 * slots once they are written). Either way the operator is told at start, not at the next run; as
 * they are when a view's version in this layer's views file was retired by the batch layer.
 */
public final class PublishedCutoffs {

    private PublishedCutoffs() {
    }

    /**
     * @return a warning naming the first view whose published cutoff is inside one of these slots, or
     *         whose version in this layer's views file was retired, if any
     */
    public static Optional<String> straddled(ViewStateTable states, ViewCatalog views, IngestSlots slots) {
        for (ViewDefinition view : views.views()) {
            Optional<ViewState> state = states.find(view.name(), view.version()).toCompletableFuture().join();
            if (state.isPresent() && state.get().retired()) {
                return Optional.of("view " + view.name() + " has version " + view.version() + " in this layer's views file, which the"
                        + " batch layer retired at " + state.get().retiredAt() + " for version " + state.get().replacedBy() + ": nobody"
                        + " reads the rows this layer writes for it. This views file is out of date; restart with the current one");
            }
            if (state.isPresent() && !slots.isBoundary(state.get().cutoff())) {
                Instant cutoff = state.get().cutoff();
                Instant slotEnd = slots.floor(cutoff).plus(slots.width());
                return Optional.of("view " + view.name() + " is published with cutoff " + cutoff + ", which is not a boundary of"
                        + " --slot-width " + slots.width() + ": events this layer counts that were ingested from " + cutoff + " to "
                        + slotEnd + " fall in a slot before the cutoff, and count in neither layer until the batch publishes a cutoff"
                        + " at or after " + slotEnd + ". The batch's --slot-width must be a multiple of this one (change the batch's"
                        + " first when widening, this layer's first when narrowing)");
            }
        }
        return Optional.empty();
    }
}
